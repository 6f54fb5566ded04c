"""Every `replybench` command the README shows, run as written (in a temporary folder, with
the simulator's port swapped for a free one)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.doc_commands import ENV, ROOT, run_commands, shell_commands

README = (ROOT / "README.md").read_text(encoding="utf-8")


def readme_commands() -> list[str]:
    """The `replybench` lines of the README's shell blocks, comments stripped."""
    return [command for command, _ in shell_commands(README)]


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
    run_commands(commands, tmp_path)
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
