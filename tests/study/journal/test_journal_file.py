"""The journal as a file (issue 14): an incomplete file refused, never taken as a new campaign;
backups; the runner's lock on the journal itself; writes the machine refuses; reply times not
to be believed."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from probes.channels.base import Reply, Sent
from replybench.cli import app
from study.errors import StudyError
from study.journal.backup import backup
from study.journal.lock import RunLock, running_pid
from study.journal.schema import LOOK_UP_OWN_POSTS, create_schema
from study.journal.status import read_status
from study.model import ReplyKind
from study.paths import journal_path
from tests.study.journal.test_journal import PLAN, T0, open_journal


def truncated(study_dir: Path) -> None:
    journal_path(study_dir).parent.mkdir(parents=True, exist_ok=True)
    journal_path(study_dir).write_bytes(b"")


def copied_without_its_wal(study_dir: Path) -> None:
    """Early in a run every row is still in journal.sqlite-wal: a copy of the main file alone
    has no tables."""
    src = study_dir.parent / "elsewhere.sqlite"
    con = sqlite3.connect(src)
    con.execute("PRAGMA journal_mode=WAL")
    create_schema(con)
    con.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    con.commit()
    journal_path(study_dir).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, journal_path(study_dir))
    con.close()


BROKEN = [truncated, copied_without_its_wal]


@pytest.mark.parametrize("damage", BROKEN)
def test_a_journal_file_without_tables_is_refused_not_taken_as_new(
    tmp_path: Path, damage: Callable[[Path], None]
) -> None:
    d = tmp_path / "s"
    damage(d)
    before = journal_path(d).read_bytes()
    with pytest.raises(StudyError) as e:
        open_journal(d)
    assert str(e.value) == (
        f"{journal_path(d)}: not a complete journal (it holds no tables): the file was "
        "truncated, or copied without its journal.sqlite-wal file. Nothing was done: starting "
        "afresh would plan the campaign again and post its probes a second time. Restore it "
        "from a backup (replybench backup STUDY --out FILE makes one safely, even while the "
        "campaign runs), or copy it again together with its -wal file"
    )
    assert journal_path(d).read_bytes() == before
    with pytest.raises(StudyError, match="not a complete journal"):
        read_status(d)
    result = CliRunner().invoke(app, ["status", str(d)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {journal_path(d)}: not a complete journal")
    assert "Traceback" not in result.stderr


def test_no_error_about_a_journal_says_to_move_it_away_and_start_afresh(tmp_path: Path) -> None:
    journal_path(tmp_path).parent.mkdir(parents=True)
    journal_path(tmp_path).write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StudyError) as e:
        open_journal(tmp_path)
    assert "afresh" not in str(e.value) and "move it away" not in str(e.value)
    assert "replybench backup" in str(e.value)


def test_a_new_journal_asks_for_the_look_up_and_is_never_seen_half_built(tmp_path: Path) -> None:
    j = open_journal(tmp_path)
    assert j.meta(LOOK_UP_OWN_POSTS) == "yes"
    j.close()
    leftovers = sorted(p.name for p in journal_path(tmp_path).parent.iterdir())
    assert leftovers == ["journal.sqlite"]  # the temporary file it was built in is gone


# -- backups ----------------------------------------------------------------------------------


def test_a_backup_is_a_whole_journal_even_while_the_runner_writes(tmp_path: Path) -> None:
    d = tmp_path / "s"
    j = open_journal(d)
    j.drop_meta(LOOK_UP_OWN_POSTS)
    a = j.begin_attempt("kaito-DE-x-r1", T0)  # the writer's connection stays open: all of
    j.record_unknown(a, T0, "timeout")  # this is in journal.sqlite-wal, not yet in the file
    out = tmp_path / "copy.sqlite"
    assert backup(d, out).probes == 3
    con = sqlite3.connect(out)
    try:
        state = "SELECT state FROM probes WHERE probe_id = 'kaito-DE-x-r1'"
        assert con.execute(state).fetchone() == ("sending",)
        # Restored, it is behind the platform: its runner looks the due probes up first.
        assert con.execute(
            "SELECT value FROM meta WHERE key = ?", (LOOK_UP_OWN_POSTS,)
        ).fetchone() == ("yes",)
    finally:
        con.close()
    assert j.meta(LOOK_UP_OWN_POSTS) is None  # the journal itself is untouched
    j.close()
    with pytest.raises(StudyError, match="already exists"):
        backup(d, out)
    result = CliRunner().invoke(app, ["backup", str(d), "--out", str(tmp_path / "b2.sqlite")])
    assert result.exit_code == 0, result.stderr
    assert (
        result.stdout.splitlines()[0]
        == f"wrote {tmp_path / 'b2.sqlite'}: the journal with 3 probes"
    )
    restored = tmp_path / "r"
    journal_path(restored).parent.mkdir(parents=True)
    shutil.copyfile(out, journal_path(restored))
    assert read_status(restored).states == {"planned": 2, "sending": 1}


# -- the lock ---------------------------------------------------------------------------------


def test_deleting_run_lock_lets_no_second_runner_in(tmp_path: Path) -> None:
    """The lock is on the journal itself: no file beside it can be deleted to break it."""
    j = open_journal(tmp_path)
    j.set_meta("runner_pid", str(os.getpid()))
    with RunLock(tmp_path):
        for stray in journal_path(tmp_path).parent.glob("run.lock"):
            stray.unlink()
        with pytest.raises(StudyError) as e, RunLock(tmp_path):
            pass
        assert str(e.value) == (
            f"{journal_path(tmp_path)}: another runner (pid {os.getpid()}) is running this "
            "study; wait for it to finish, or stop it first"
        )
        assert running_pid(tmp_path) == os.getpid()
    assert running_pid(tmp_path) is None
    with RunLock(tmp_path):  # released: the next runner may start
        pass
    j.close()


# -- writes the machine refuses -----------------------------------------------------------------


def test_a_full_disk_is_an_error_line_and_the_transaction_is_rolled_back(tmp_path: Path) -> None:
    j = open_journal(tmp_path)
    # SQLite's own "disk full": the file may not grow past its current pages.
    pages = j.con.execute("PRAGMA page_count").fetchone()[0]
    j.con.execute(f"PRAGMA max_page_count = {pages}")
    many = [
        (Reply(f"r{k}", "x", "kaito_de", "9", "x" * 2000, T0, ReplyKind.PUBLIC_REPLY, "1"), None)
        for k in range(200)
    ]
    with pytest.raises(StudyError) as e:
        j.record_inbox("x", many, {"since": "1"}, T0)
    assert str(e.value) == (
        f"{journal_path(tmp_path)}: the journal could not be written (database or disk is "
        "full); free some disk space or fix the permissions, then run the same command again: "
        "what was recorded before is intact"
    )
    assert j.con.execute("SELECT count(*) FROM replies").fetchone()[0] == 0
    assert j.cursor("x") is None  # nothing half-written
    j.con.execute(f"PRAGMA max_page_count = {pages * 1000}")
    j.record_inbox("x", many[:1], {"since": "1"}, T0)  # space again: on it goes
    j.close()


def test_an_error_the_machine_raises_in_a_command_is_an_error_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`report` on a full disk: the OSError from writing the site is one line, exit 1."""
    import analysis.publish

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "site" / "x"))

    monkeypatch.setattr(analysis.publish, "publish_data", full)
    result = CliRunner().invoke(app, ["report", str(tmp_path), "--out", str(tmp_path / "site")])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {tmp_path / 'site'}: could not write the site: No space left on device "
        f"({tmp_path / 'site' / 'x'}); the folder is unchanged: free some space or fix the "
        "permissions and run again\n"
    )


def test_a_read_only_journal_is_an_error_line(tmp_path: Path) -> None:
    """(Tests run as root, who may write any file: the journal is opened read-only instead.)"""
    j = open_journal(tmp_path)
    j.con.close()
    j.con = sqlite3.connect(f"file:{j.path}?mode=ro", uri=True, isolation_level=None)
    with pytest.raises(StudyError) as e:
        j.set_meta("progress", "{}")
    assert str(e.value).startswith(
        f"{j.path}: the journal could not be written (attempt to write a readonly database); "
    )
    j.close()


# -- reply times not to be believed ----------------------------------------------------------


def test_a_reply_dated_far_outside_the_window_is_recorded_as_suspect(tmp_path: Path) -> None:
    from analysis import outcomes

    j = open_journal(tmp_path)
    for p in PLAN:
        sent = Sent(p.probe_id, f"m-{p.probe_id}", p.scheduled_at)
        j.record_sent(j.begin_attempt(p.probe_id, T0), sent, timedelta(hours=72))
    seen = T0 + timedelta(hours=10)
    year_one = T0.replace(year=1)
    replies = [
        (_reply("a", "kaito-DE-x-r1", T0 + timedelta(hours=2)), "kaito-DE-x-r1"),
        (_reply("b", "kaito-DE-x-r2", year_one), "kaito-DE-x-r2"),
        (_reply("c", "brenner-DE-x-r3", T0.replace(year=9999)), "brenner-DE-x-r3"),
    ]
    j.record_inbox("x", replies, {}, seen)
    rows = j.con.execute(
        "SELECT reply_id, created_at, time_suspect FROM replies ORDER BY reply_id"
    ).fetchall()
    assert [tuple(r) for r in rows] == [
        ("a", "2026-03-02T11:00:00.000Z", None),
        ("b", "2026-03-02T19:00:00.000Z", "0001-03-02T09:00:00.000Z"),
        ("c", "2026-03-02T19:00:00.000Z", "9999-03-02T09:00:00.000Z"),
    ]
    j.close()
    out = outcomes(tmp_path, seen).set_index("probe_id")  # analysable, not "damaged"
    assert bool(out.loc["kaito-DE-x-r1", "observed"])
    assert not out.loc[["kaito-DE-x-r2", "brenner-DE-x-r3"], "observed"].any()


def _reply(rid: str, probe_id: str, at: datetime) -> Reply:
    return Reply(rid, "x", "kaito_de", "9", "Gern!", at, ReplyKind.PUBLIC_REPLY, f"m-{probe_id}")


KILLED_BACKUP = """
import os, signal, sys
from pathlib import Path
import study.journal.backup as b
snapshot = b._snapshot
def killed(*args):
    snapshot(*args)
    os.kill(os.getpid(), signal.SIGKILL)  # the machine stops mid-backup: nothing tidies up
b._snapshot = killed
b.backup(Path(sys.argv[1]), Path(sys.argv[2]))
"""


def test_a_backup_killed_outright_leaves_a_temporary_the_next_one_removes(tmp_path: Path) -> None:
    import subprocess
    import sys

    d = tmp_path / "s"
    open_journal(d).close()
    out = tmp_path / "b" / "copy.sqlite"
    done = subprocess.run([sys.executable, "-c", KILLED_BACKUP, str(d), str(out)], check=False)
    assert done.returncode == -9
    left = sorted(p.name for p in out.parent.iterdir())
    assert len(left) == 1 and left[0].startswith(".copy.sqlite.") and left[0].endswith(".tmp")
    # A live backup's temporary (this test's parent process stands for one) is not touched.
    live = out.parent / f".copy.sqlite.{os.getppid()}.abc.tmp"
    live.mkdir()
    assert backup(d, out).probes == 3
    assert sorted(p.name for p in out.parent.iterdir()) == sorted(["copy.sqlite", live.name])
