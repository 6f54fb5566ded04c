"""The commands on a journal that is not whole, and on a server that only looks like the
simulator: one `Error:` line and exit 1, nothing posted (issue 14 items 1 and 11)."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from typer.testing import CliRunner

from probes.sim import read_ledger
from replybench.cli import app
from study.paths import journal_path, ledger_path
from tests.conftest import EXAMPLE

runner = CliRunner()


def test_an_empty_journal_is_refused_by_every_command_and_nothing_is_posted(
    tmp_path: Path,
) -> None:
    from probes.sim import running

    d = tmp_path / "s"
    shutil.copytree(EXAMPLE, d)
    journal_path(d).parent.mkdir(parents=True)
    journal_path(d).write_bytes(b"")  # truncated
    with running(d) as sim:
        for args in (
            ["run", str(d), "--api-base", sim.url],
            ["worksheet", str(d), "--out", str(tmp_path / "calls.csv")],
            ["cleanup", str(d), "--api-base", sim.url],
            ["status", str(d)],
        ):
            result = runner.invoke(app, args, env={"REPLYBENCH_X_TOKEN": ""})
            assert result.exit_code == 1, (args, result.stdout, result.stderr)
            assert result.stderr.lstrip().startswith(
                f"Error: {journal_path(d)}: not a complete journal (it holds no tables)"
            ), (args, result.stderr)
    posts = [e for e in read_ledger(ledger_path(d)) if e["kind"] == "post"] if (
        ledger_path(d).exists()
    ) else []  # fmt: skip
    assert posts == []
    assert journal_path(d).read_bytes() == b""
    assert not (tmp_path / "calls.csv").exists()


class NotTheSimulator(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body = b"<html>hello</html>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def not_the_simulator() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), NotTheSimulator)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_clock_that_is_not_json_is_an_error_line(tmp_path: Path) -> None:
    d = tmp_path / "s"
    shutil.copytree(EXAMPLE, d)
    with not_the_simulator() as url:
        result = runner.invoke(app, ["run", str(d), "--api-base", url], env={})
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {url}/__sim/clock answered '<html>hello</html>', not the simulator's clock; "
        "point --api-base at a running 'replybench sim', or at the platform's API\n"
    )
    assert not journal_path(d).exists()
