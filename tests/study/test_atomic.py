"""Files are written whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from study.atomic import write_atomic


def test_bytes_and_text_replace_the_file_and_leave_nothing_else(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "out.json"
    write_atomic(path, b"first")
    write_atomic(path, "zweite \u00e9tape")
    assert path.read_text(encoding="utf-8") == "zweite \u00e9tape"
    assert [p.name for p in path.parent.iterdir()] == ["out.json"]


def test_a_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "out.csv"
    write_atomic(path, b"old")

    def refuse(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(path, b"new")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_a_temporary_left_by_a_killed_writer_is_removed_by_the_next_write(
    tmp_path: Path,
) -> None:
    """A real `kill -9` in the middle of a write: the next writer of the file sweeps it."""
    import signal
    import subprocess
    import sys

    path = tmp_path / "out.csv"
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from study.atomic import temporary_beside\n"
        "with temporary_beside(Path(sys.argv[1])) as tmp:\n"
        "    print(tmp, flush=True)\n"
        "    time.sleep(600)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    left = Path(child.stdout.readline().strip())  # the child is inside the block now
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    assert left.exists() and left.stat().st_size == 0

    write_atomic(path, b"done")

    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_a_temporary_still_being_written_is_left_alone(tmp_path: Path) -> None:
    from study.atomic import temporary_beside

    path = tmp_path / "journal.sqlite"
    stale = tmp_path / ".journal.sqlite.abc123.tmp"
    stale.write_bytes(b"")
    (tmp_path / ".journal.sqlite.abc123.tmp-journal").write_bytes(b"")
    other = tmp_path / ".other.csv.abc123.tmp"  # another file's temporary: not ours to judge
    other.write_bytes(b"")
    with temporary_beside(path) as busy:
        write_atomic(path, b"x")  # sweeps while `busy` is held
        assert busy.exists()
        assert not stale.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [other.name, "journal.sqlite"]


@pytest.mark.parametrize(
    ("umask", "mode"),
    [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)],
    ids=["umask-022", "umask-077", "umask-002"],
)
def test_a_written_file_gets_the_mode_the_umask_gives(
    tmp_path: Path, umask: int, mode: int
) -> None:
    before = os.umask(umask)
    try:
        write_atomic(tmp_path / "export.csv", b"brand\n")
    finally:
        os.umask(before)
    assert (tmp_path / "export.csv").stat().st_mode & 0o777 == mode
