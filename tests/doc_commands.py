"""The `replybench` commands a document's shell blocks show, and one way to run them as
written: in a temporary folder, each example port of the simulator (87xx) swapped for a free
one, a line ending in `&` started in the background (and waited for until its port listens),
every other line run to its end and required to succeed. tests/test_readme.py and
tests/test_going_live.py both run their document's commands through it."""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "replybench"]
# The commands run as a researcher's would, with none of this machine's own settings.
ENV = {k: v for k, v in os.environ.items() if not k.startswith("REPLYBENCH_")}
PREFIX = ".venv/bin/replybench "


def shell_commands(text: str) -> list[tuple[str, str]]:
    """(command, its comment) for each `replybench` line of the ```sh blocks of `text`."""
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.S)
    found = []
    for line in (line for block in blocks for line in block.splitlines()):
        command, _, comment = line.partition("#")
        if command.strip().startswith(PREFIX):
            found.append((command.strip(), comment.strip()))
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def run_commands(commands: list[str], cwd: Path, env: Mapping[str, str] = ENV) -> None:
    """Run each command as written in `cwd` (see the module's docstring); an AssertionError
    names the first that fails. Background servers are stopped before this returns."""
    ports = {
        p: str(free_port()) for p in sorted(set(re.findall(r"\b87\d\d\b", " ".join(commands))))
    }
    background: list[subprocess.Popen[bytes]] = []
    try:
        for line in commands:
            for example, free in ports.items():
                line = line.replace(example, free)
            args = shlex.split(line)
            argv = [*CLI, *args[1:]]
            if argv[-1] == "&":
                port = next((free for free in ports.values() if free in args), "")
                assert port, f"{line!r} runs in the background but listens on no port"
                proc = subprocess.Popen(
                    argv[:-1], cwd=cwd, env=dict(env),
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
                background.append(proc)
                deadline = time.monotonic() + 30
                while not listening(int(port)) and time.monotonic() < deadline:
                    assert proc.poll() is None, f"{line!r} exited at start"
                    time.sleep(0.05)
                continue
            done = subprocess.run(argv, cwd=cwd, env=dict(env), capture_output=True, timeout=300)
            assert done.returncode == 0, f"{line!r} failed:\n{done.stderr.decode()}"
    finally:
        for proc in background:
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)
