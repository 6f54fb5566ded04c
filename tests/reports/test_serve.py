"""`replybench serve`: the site over HTTP from the standard library's server."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from reports.render import make_server
from study.errors import StudyError
from tests.reports.conftest import Site


def test_the_server_serves_pages_charts_and_data(example_site: Site) -> None:
    server = make_server(example_site.root, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        with urllib.request.urlopen(base) as r:
            assert r.status == 200
            assert b"Brands ranked" in r.read()
            assert r.headers["X-Content-Type-Options"] == "nosniff"
        with urllib.request.urlopen(base + "charts/index-rates.svg") as r:
            assert r.headers["Content-Type"] == "image/svg+xml"
        with urllib.request.urlopen(base + "data/metrics.json") as r:
            assert r.read() == (example_site.root / "data" / "metrics.json").read_bytes()
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_serving_a_folder_without_a_site_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(StudyError, match="no index.html here; write the site first"):
        make_server(tmp_path, 0)


def test_a_port_in_use_is_an_error_that_names_it(example_site: Site) -> None:
    server = make_server(example_site.root, 0)
    try:
        port = server.server_address[1]
        with pytest.raises(StudyError, match=f"cannot listen on 127.0.0.1:{port}"):
            make_server(example_site.root, port)
    finally:
        server.server_close()


@contextmanager
def serving(site: Path) -> Iterator[str]:
    server = make_server(site, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return e.code


def test_only_regular_files_under_the_site_are_served(tmp_path: Path) -> None:
    site, outside = tmp_path / "site", tmp_path / "outside"
    (site / "data").mkdir(parents=True)
    (site / "companies").mkdir()
    outside.mkdir()
    (outside / "passwd").write_text("root:x:0:0\n", encoding="utf-8")
    (site / "index.html").write_text("<p>scores</p>", encoding="utf-8")
    (site / "data" / "metrics.json").write_text("{}", encoding="utf-8")
    (site / "data" / "etclink").symlink_to(outside)  # a folder outside, by a link
    (site / "data" / "linked.json").symlink_to(outside / "passwd")  # a file, by a link
    (site / "about").symlink_to(site / "data")  # even a link to a folder inside
    with serving(site) as base:
        assert status(base) == status(base + "data/metrics.json") == 200
        assert status(base + "data/etclink/passwd") == 404
        assert status(base + "data/linked.json") == 404
        assert status(base + "about/metrics.json") == 404
        assert status(base + "data/") == 404  # no folder listings
        assert status(base + "companies/") == 404
        assert status(base + "data/%2e%2e/%2e%2e/outside/passwd") == 404
