"""Every `replybench` command docs/going-live.md shows: those that can run on this machine are
run as written (in a temporary folder, the simulator's port swapped for a free one); those
marked `# real platform` are checked to name a real command with real options."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

from tests.doc_commands import CLI, ENV, ROOT, run_commands, shell_commands

DOC = (ROOT / "docs" / "going-live.md").read_text(encoding="utf-8")
REAL = "real platform"


def doc_commands() -> list[tuple[str, bool]]:
    """(command, needs the real platform) for each `replybench` line of the shell blocks."""
    return [(command, REAL in comment) for command, comment in shell_commands(DOC)]


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
    run_commands(commands, tmp_path)
    assert (tmp_path / "my-study" / "study.toml").exists()
