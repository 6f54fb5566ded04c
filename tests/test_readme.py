"""Every `replybench` command the README shows, run as written (in a temporary folder, with
the simulator's port swapped for a free one)."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
CLI = [sys.executable, "-m", "replybench"]
ENV = {k: v for k, v in os.environ.items() if not k.startswith("REPLYBENCH_")}


def readme_commands() -> list[str]:
    """The `replybench` lines of the README's shell blocks, comments stripped."""
    blocks = re.findall(r"```sh\n(.*?)```", README, flags=re.S)
    lines = [line.split("#")[0].strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line.startswith(".venv/bin/replybench ")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_readme_shows_the_quick_start_first() -> None:
    first = re.search(r"```sh\n(.*?)```", README, flags=re.S)
    assert first is not None
    commands = [line.split("#")[0].strip() for line in first.group(1).splitlines()]
    assert [c for c in commands if c] == ["make demo", "make test"]


@pytest.mark.slow
def test_every_replybench_command_in_the_readme_runs(tmp_path: Path) -> None:
    commands = readme_commands()
    assert len(commands) >= 9
    for shared in ("data", "tests"):  # README commands name the repository's example files
        (tmp_path / shared).symlink_to(ROOT / shared)
    ports = {
        p: str(free_port()) for p in sorted(set(re.findall(r"\b87\d\d\b", " ".join(commands))))
    }
    background: list[subprocess.Popen[bytes]] = []
    try:
        for line in commands:
            for example, free in ports.items():
                line = line.replace(example, free)
            args = shlex.split(line)
            port = next((free for free in ports.values() if free in args), "")
            argv = [*CLI, *args[1:]]
            if argv[-1] == "&":
                proc = subprocess.Popen(
                    argv[:-1], cwd=tmp_path, env=ENV,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
                background.append(proc)
                deadline = time.monotonic() + 30
                while not _listening(int(port)) and time.monotonic() < deadline:
                    assert proc.poll() is None, f"{line!r} exited at start"
                    time.sleep(0.05)
                continue
            done = subprocess.run(argv, cwd=tmp_path, env=ENV, capture_output=True, timeout=300)
            assert done.returncode == 0, f"{line!r} failed:\n{done.stderr.decode()}"
    finally:
        for proc in background:
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)
    assert (tmp_path / "site" / "index.html").read_text().lower().startswith("<!doctype html>")
    assert (tmp_path / "probes.csv").read_text().startswith("probe_id,")
    assert (tmp_path / "replies.parquet").stat().st_size > 0
    # the second wave: compared with the first, and its site shows what changed
    changes = json.loads((tmp_path / "changes.json").read_text())
    assert changes["new"]["wave"] == 2 and changes["brands"]["both"]
    assert "Since the last wave" in (tmp_path / "site-2" / "index.html").read_text()
    # The notebook example runs as written, where the commands left their folders.
    [python] = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    done = subprocess.run(
        [sys.executable, "-c", python], cwd=tmp_path, env={**ENV, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "restricted_mean_hours" in done.stdout and "kaito" in done.stdout


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0
