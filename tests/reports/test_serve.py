"""`replybench serve`: the site over HTTP from the standard library's server."""

from __future__ import annotations

import threading
import urllib.request
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
