"""Every `replybench` command docs/going-live.md shows: those that can run on this machine are
run as written (in a temporary folder, the simulator's port swapped for a free one); those
marked `# real platform` are checked to name a real command with real options."""

from __future__ import annotations

import re
import shlex
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.test_readme import CLI, ENV, ROOT, _listening, free_port

DOC = (ROOT / "docs" / "going-live.md").read_text(encoding="utf-8")
REAL = "real platform"


def doc_commands() -> list[tuple[str, bool]]:
    """(command, needs the real platform) for each `replybench` line of the shell blocks."""
    blocks = re.findall(r"```sh\n(.*?)```", DOC, flags=re.S)
    found = []
    for line in (line for block in blocks for line in block.splitlines()):
        command, _, comment = line.partition("#")
        if command.strip().startswith(".venv/bin/replybench "):
            found.append((command.strip(), REAL in comment))
    return found


def test_the_commands_that_need_a_real_platform_are_valid() -> None:
    marked = [c for c, real in doc_commands() if real]
    assert len(marked) >= 3
    for line in marked:
        args = shlex.split(line)[1:]
        assert "--live" in args, f"{line!r} is marked '{REAL}' but has no --live"
        command = [a for a in args if not a.startswith("-")][:2]
        group = command[:2] if command[0] == "login" else command[:1]
        shown = subprocess.run(
            [*CLI, *group, "--help"], capture_output=True, text=True, env=ENV, timeout=60
        )
        assert shown.returncode == 0, f"{line!r}: no such command"
        for option in (a for a in args if a.startswith("--")):
            assert option in shown.stdout, f"{line!r}: {option} is not an option of {group}"


@pytest.mark.slow
def test_every_command_that_can_run_here_runs(tmp_path: Path) -> None:
    commands = [c for c, real in doc_commands() if not real]
    assert len(commands) >= 5
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
                port = next(free for free in ports.values() if free in args)
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
    assert (tmp_path / "my-study" / "study.toml").exists()
