"""The crash drill: `replybench sim` and `replybench run` as separate processes, the runner
killed with SIGKILL at random moments and started again, then checked against the
simulator's ledger: no probe posted twice, nothing acknowledged lost, every reply to the
probe account (up to the last inbox read) in the journal."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from probes.audit import audit
from probes.campaign import run_campaign
from probes.channels.email.adapter import MailChannel
from probes.channels.tokens import STATE_ENV
from probes.channels.x.adapter import XChannel
from probes.channels.x.credentials import sim_auth
from probes.runner import RunnerConfig
from study.journal.campaign import Journal
from study.load import load_study
from study.model import PlannedProbe, Study
from study.paths import journal_path, ledger_path, sim_dir
from study.plan import make_plan
from tests.e2e.multichannel import (
    MAIL_PASSWORD_ENV,
    BrandThread,
    SharedClock,
    VirtualNow,
    deliveries,
    last_read,
    local_servers,
    mail_rules,
    message_id,
    missing_mail_replies,
    mixed_study,
    serve_on,
)
from tests.e2e.studies import short_study
from tests.e2e.test_hostile import Ahead
from tests.e2e.test_login import login_x, oauth2_study
from tests.probes.mailservers import ADDRESS, PASSWORD, Responder, Rule, dovecot, smtp_server

CLI = [sys.executable, "-m", "replybench"]
ENV = {k: v for k, v in os.environ.items() if not k.startswith("REPLYBENCH_")}
# Besides the random kills, runners die at the worst moment: after the platform acknowledged
# a post, before the journal recorded it.
RUN_ENV = {**ENV, "REPLYBENCH_DRILL_CRASH_AFTER_SEND": "0.15"}


_STARTED: list[subprocess.Popen[bytes]] = []


def spawn(args: list[str], **kw: Any) -> subprocess.Popen[bytes]:
    """subprocess.Popen, the process killed (and reaped) when the test ends, however it ends:
    a simulator or runner left behind fails a later test with a ResourceWarning."""
    proc: subprocess.Popen[bytes] = subprocess.Popen(args, **kw)
    _STARTED.append(proc)
    return proc


@pytest.fixture(autouse=True)
def _reap() -> Iterator[None]:
    yield
    while _STARTED:
        proc = _STARTED.pop()
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def stop(sim: subprocess.Popen[bytes]) -> None:
    """SIGTERM, as Ctrl-C in its terminal would; killed if a busy machine keeps it long."""
    sim.send_signal(signal.SIGTERM)
    try:
        sim.wait(30)
    except subprocess.TimeoutExpired:
        sim.kill()
        sim.wait()


def start_sim(d: Path, speed: float, faults: float) -> tuple[subprocess.Popen[bytes], str]:
    port_file = sim_dir(d) / "port"
    proc = spawn(
        [*CLI, "sim", str(d), "--port", "0", "--speed", f"{speed:.2f}", "--faults", str(faults)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if port_file.exists() and port_file.read_text().strip():
            return proc, f"http://127.0.0.1:{port_file.read_text().strip()}"
        assert proc.poll() is None, "the simulator exited at start"
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("the simulator did not write its port")


def status_json(d: Path) -> dict[str, object]:
    out = subprocess.run(
        [*CLI, "status", str(d), "--json"], capture_output=True, text=True, env=ENV, timeout=60
    )
    assert out.returncode == 0, out.stderr
    value = json.loads(out.stdout)
    assert isinstance(value, dict)
    return value


def wait_for_journal(d: Path, runner: subprocess.Popen[bytes]) -> bool:
    """Until the runner has made the journal (it appears complete: study.journal.file links
    it into place); False when the runner exited first."""
    deadline = time.monotonic() + 60
    while runner.poll() is None and time.monotonic() < deadline:
        if journal_path(d).exists():
            return True
        time.sleep(0.05)
    return False


def status_sees_running(d: Path, runner: subprocess.Popen[bytes], probes: int) -> bool:
    """Whether `status`, from another process, names `runner` as the journal's running
    runner: asked again until it does or the runner exits (a runner just started on a busy
    machine may not have taken the journal's lock yet, while the journal of the run before
    is already there). Every answer must count all `probes`."""
    deadline = time.monotonic() + 60
    while wait_for_journal(d, runner) and time.monotonic() < deadline:
        s = status_json(d)
        assert s["probes"] == probes
        if s["running_pid"] == runner.pid:
            return True
        time.sleep(0.1)
    return False


def campaign_span(study: Study, plan: Sequence[PlannedProbe]) -> timedelta:
    """From an hour before the first slot opens to an hour after the last window closes."""
    return (
        max(p.scheduled_at for p in plan) + timedelta(hours=study.window_hours + 1)
        - (min(p.slot_start_at for p in plan) - timedelta(hours=1))
    )  # fmt: skip


@pytest.mark.slow
def test_kill_9_at_random_moments_never_posts_twice_and_loses_nothing(tmp_path: Path) -> None:
    d = short_study(tmp_path / "drill", window_hours=3)
    study = load_study(d)
    plan = make_plan(study)
    span = campaign_span(study, plan)
    speed = span.total_seconds() / 30  # the whole campaign in about 30 real seconds
    sim, url = start_sim(d, speed, faults=0.15)
    rng = random.Random(int(os.environ.get("DRILL_SEED", "2026")))
    kills = 0
    crashes = 0  # runs that died at the injection point (exit 137)
    seen_running = False
    try:
        while True:
            log = tmp_path / f"run-{kills}.log"
            with log.open("wb") as f:
                runner = spawn(
                    [*CLI, "run", str(d), "--api-base", url], stdout=f, stderr=f, env=RUN_ENV
                )
            if kills < 6:
                time.sleep(rng.uniform(0.4, 3.0))
                if runner.poll() == 137:
                    crashes += 1
                    continue
                if runner.poll() is None:
                    # status from another process while run is running (once the runner
                    # has made the journal: status on a study without one is an error)
                    if not seen_running and kills >= 1:
                        seen_running = status_sees_running(d, runner, len(plan))
                    runner.send_signal(signal.SIGKILL)
                    runner.wait()
                    kills += 1
                    continue
            runner.wait(timeout=180)
            if runner.returncode == 137:
                crashes += 1
                continue
            assert runner.returncode == 0, log.read_text()
            break
    finally:
        stop(sim)
    assert kills >= 3, "the campaign ended before the drill could kill it often enough"
    assert seen_running, "status never saw the runner running"
    assert crashes >= 1, "no run died between acknowledgement and journal"
    final = status_json(d)
    states = final["states"]
    assert isinstance(states, dict)
    # Two processes cannot share the test's manual clock: what is asserted holds at any speed
    # (how many a busy machine misses while runners restart depends on its speed, so misses
    # are allowed, but every probe ends closed or missed, exactly once), except that something
    # was posted: a slot lasts 8 virtual hours, about 13 real seconds here, so that fails only
    # if no runner got one post out in either slot.
    assert set(states) <= {"closed", "missed"}, states
    assert sum(states.values()) == len(plan), states
    assert states.get("closed", 0) > 0
    report = audit(study, d)
    assert report.ok, report.problems
    assert report.reconciled >= crashes  # each post acknowledged then lost was found again
    assert sum(r.ledger_posts for r in report.rows) == states.get("closed", 0)


def wait_for_a_send(d: Path, runner: subprocess.Popen[bytes]) -> None:
    """Until the journal shows a probe past `planned` (the runner alive all along)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert runner.poll() is None, "the runner exited before sending"
        if journal_path(d).exists():
            con = sqlite3.connect(f"file:{journal_path(d)}?mode=ro", uri=True, timeout=10)
            try:
                sent = con.execute("SELECT count(*) FROM probes WHERE state <> 'planned'")
                if sent.fetchone()[0]:
                    return
            except sqlite3.OperationalError:  # the runner is still creating the schema
                pass
            finally:
                con.close()
        time.sleep(0.05)
    raise AssertionError("no probe was sent within 120 s")


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_a_second_start_resumes(tmp_path: Path) -> None:
    d = short_study(tmp_path / "s", window_hours=3, brands=4)
    study = load_study(d)
    plan = make_plan(study)
    span = campaign_span(study, plan)
    sim, url = start_sim(d, span.total_seconds() / 12, faults=0.0)
    try:
        # SIGINT as a terminal delivers it: a test run started in the background (as by
        # `make test &` from a script) hands its children SIGINT ignored.
        first = spawn(
            [*CLI, "run", str(d), "--api-base", url],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )  # fmt: skip
        # Ctrl-C once the first probe is sent, however long the runner took to start: the
        # campaign then has about 12 s to go.
        wait_for_a_send(d, first)
        assert first.poll() is None, "the campaign ended before Ctrl-C"
        first.send_signal(signal.SIGINT)
        out, err = first.communicate(timeout=30)
        assert first.returncode == 130, err.decode()
        assert "stopped; the journal is intact: run the same command again to resume" in (
            err.decode()
        )
        assert "Traceback" not in err.decode()
        middle = status_json(d)
        assert middle["running_pid"] is None
        states = middle["states"]
        assert isinstance(states, dict) and states.get("planned", 0) < len(plan)
        second = subprocess.run(
            [*CLI, "run", str(d), "--api-base", url],
            capture_output=True, env=ENV, timeout=120,
        )  # fmt: skip
        assert second.returncode == 0, second.stderr.decode()
        assert "campaign over:" in second.stdout.decode()
    finally:
        stop(sim)
    assert audit(study, d).ok


def own_posts(d: Path) -> int:
    from probes.sim import read_ledger

    return sum(1 for e in read_ledger(ledger_path(d)) if e.get("role") == "probe")


def settled_posts(d: Path) -> int:
    """The probe account's posts once no request in flight adds to them (2 s unchanged)."""
    last, since = own_posts(d), time.monotonic()
    deadline = since + 30
    while time.monotonic() - since < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
        now = own_posts(d)
        if now != last:
            last, since = now, time.monotonic()
    return last


@pytest.mark.slow
def test_an_emptied_journal_is_refused_and_a_restored_backup_posts_nothing_twice(
    tmp_path: Path,
) -> None:
    """The journal emptied after a kill (truncated, its -wal gone: what a copy made without
    the -wal file looks like): `run` refuses it and posts nothing. A backup taken while the
    runner ran is restored; it is behind the platform, so the runner looks the due probes up
    before sending, and the campaign ends with no probe posted twice."""
    d = short_study(tmp_path / "drill", window_hours=3)
    study = load_study(d)
    plan = make_plan(study)
    span = campaign_span(study, plan)
    sim, url = start_sim(d, span.total_seconds() / 30, faults=0.15)
    backup = tmp_path / "backup.sqlite"
    runner: subprocess.Popen[bytes] | None = None
    try:
        runner = spawn([*CLI, "run", str(d), "--api-base", url], env=ENV,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        deadline = time.monotonic() + 60
        while own_posts(d) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        taken = subprocess.run([*CLI, "backup", str(d), "--out", str(backup)],
                               capture_output=True, text=True, env=ENV, timeout=60)  # fmt: skip
        assert taken.returncode == 0, taken.stderr
        while own_posts(d) < 6 and time.monotonic() < deadline:  # the backup falls behind
            time.sleep(0.1)
        assert runner.poll() is None, "the campaign ended before the journal was emptied"
        runner.send_signal(signal.SIGKILL)
        runner.wait()
        journal_path(d).write_bytes(b"")
        for side in ("-wal", "-shm"):
            Path(f"{journal_path(d)}{side}").unlink(missing_ok=True)
        posted = settled_posts(d)  # a request in flight at the kill may still land
        refused = subprocess.run([*CLI, "run", str(d), "--api-base", url],
                                 capture_output=True, text=True, env=ENV, timeout=60)  # fmt: skip
        assert refused.returncode == 1
        assert (
            refused.stderr.strip()
            .splitlines()[-1]
            .startswith(f"Error: {journal_path(d)}: not a complete journal (it holds no tables)")
        ), refused.stderr
        assert "Traceback" not in refused.stderr
        status = subprocess.run([*CLI, "status", str(d)], capture_output=True, text=True,
                                env=ENV, timeout=60)  # fmt: skip
        assert status.returncode == 1 and status.stderr.startswith("Error: "), status.stderr
        assert own_posts(d) == posted  # nothing sent from the empty journal
        assert journal_path(d).read_bytes() == b""

        shutil.copyfile(backup, journal_path(d))  # restored as `replybench backup` says
        kills, crashes = kill_and_restart(d, url, RUN_ENV, tmp_path, kills=2)
    finally:
        if runner is not None and runner.poll() is None:
            runner.kill()
            runner.wait()
        stop(sim)
    final = status_json(d)
    states = final["states"]
    assert isinstance(states, dict) and set(states) <= {"closed", "missed"}, states
    report = audit(study, d)
    assert report.ok, report.problems  # nothing posted twice, nothing acknowledged lost
    assert sum(r.ledger_posts for r in report.rows) == states.get("closed", 0) == own_posts(d)


# -- the drill with e-mail and Mastodon targets ------------------------------------------------


def kill_and_restart(
    d: Path, url: str, env: dict[str, str], logs: Path, *, kills: int = 6
) -> tuple[int, int]:
    """`replybench run` started, SIGKILLed after a random 0.4-3 s and started again, `kills`
    times, then left to finish (runs that die at the injection point are started again).
    (kills, crashes)."""
    rng = random.Random(int(os.environ.get("DRILL_SEED", "2026")))
    killed = crashes = 0
    while True:
        log = logs / f"run-{killed}-{crashes}.log"
        with log.open("wb") as f:
            runner = spawn([*CLI, "run", str(d), "--api-base", url], stdout=f,
                                      stderr=f, env=env)  # fmt: skip
        if killed < kills:
            time.sleep(rng.uniform(0.4, 3.0))
            if runner.poll() is None:
                runner.send_signal(signal.SIGKILL)
                runner.wait()
                killed += 1
                continue
        runner.wait(timeout=180)
        if runner.returncode == 137:
            crashes += 1
            continue
        assert runner.returncode == 0, log.read_text()
        return killed, crashes


@pytest.mark.slow
def test_the_drill_with_email_and_mastodon_targets_never_sends_twice_nor_loses_a_reply(
    tmp_path: Path,
) -> None:
    """The drill repeated on a study without X: `replybench sim` serves its Mastodon targets
    (with faults), Dovecot and aiosmtpd in this process its e-mail targets, whose brands
    answer from a thread on the simulator's clock."""
    d = tmp_path / "drill"
    brands = ["acorn", "birch", "cedar", "dune", "ember", "fjord"]

    now = VirtualNow(d)
    with dovecot() as imap, smtp_server(imap, now) as hub:
        mixed_study(d, channels=("mastodon", "email"), brands=brands, window_hours=3,
                    smtp_port=hub.port, imap_port=imap.port)  # fmt: skip
        study = load_study(d)
        plan = make_plan(study)
        span = campaign_span(study, plan)
        sim, url = start_sim(d, span.total_seconds() / 30, faults=0.15)
        # dune's team answers in the thread here: matching by subject alone is another test's
        responder = Responder(hub, mail_rules(brands, {"dune": Rule("answer", after_s=5400)}))
        try:
            with BrandThread(responder, now):
                env = {**RUN_ENV, MAIL_PASSWORD_ENV: PASSWORD}
                kills, crashes = kill_and_restart(d, url, env, tmp_path)
        finally:
            stop(sim)
        assert kills >= 3, "the campaign ended before the drill could kill it often enough"
        assert crashes >= 1, "no run died between acknowledgement and journal"

        final = status_json(d)
        states = final["states"]
        # A kill inside an SMTP transaction leaves an e-mail probe failed (outcome unknowable).
        assert isinstance(states, dict) and set(states) <= {"closed", "missed", "failed"}, states
        # How many a busy machine misses while runners restart depends on its speed.
        assert states.get("closed", 0) > 0
        # Mastodon: the journal against the simulator's ledger.
        report = audit(study, d)
        assert report.ok, report.problems
        assert report.reconciled >= crashes
        # E-mail: count each probe's deliveries (its Message-ID is the same on every attempt).
        con = sqlite3.connect(f"file:{journal_path(d)}?mode=ro", uri=True)
        try:
            sent = {r[0] for r in con.execute("SELECT message_id FROM probes WHERE channel = "
                                              "'email' AND message_id IS NOT NULL")}  # fmt: skip
            failed = {r[0]: (r[1], r[2]) for r in con.execute(
                "SELECT probe_id, channel, detail FROM probes WHERE state = 'failed'")}  # fmt: skip
            seen = {r[0] for r in con.execute("SELECT reply_id FROM replies WHERE channel = "
                                              "'email'")}  # fmt: skip
            unsent = {str(r[0]) for r in con.execute("SELECT state FROM probes WHERE channel "
                      "= 'email' AND message_id IS NULL AND state <> 'failed'")}  # fmt: skip
            last = last_read(con, "email") or datetime.min.replace(tzinfo=UTC)
        finally:
            con.close()
        ids = {message_id(p): p.probe_id for p in plan if p.channel == "email"}
        got = deliveries(hub)
        assert set(got) <= set(ids)
        # Each restart costs the simulator hours at this speed: on a busy machine the
        # restarts can outlast the e-mail probes' slots. A probe never sent was missed so.
        assert sent or unsent <= {"missed"}, unsent
        for mid, probe_id in ids.items():
            # Nothing acknowledged is lost, and no probe reaches a brand twice: a kill inside
            # the SMTP transaction leaves the pending Sent copy, and the probe is given up.
            acknowledged = int(mid in sent)
            assert acknowledged <= got[mid] <= 1, probe_id
        for channel, detail in failed.values():
            assert channel == "email" and "cannot be learned" in detail, detail
        # Every answer in the mailbox by the runner's last read of it is in the journal. (How
        # many the brands sent follows from how many probes a busy machine got out.) In the
        # mailbox by: when its delivery had finished, as both processes' scaled clocks tell
        # (one anchor): a grace in virtual minutes would be a bet on the machine's speed.
        assert missing_mail_replies(hub, seen, last, grace=timedelta(0)) == []


@pytest.mark.slow
@pytest.mark.anyio
async def test_a_kill_between_smtp_and_the_sent_copy_is_not_sent_again(tmp_path: Path) -> None:
    """The e-mail drill's worst moment, made deterministic: the probe reached the brand's
    server and the process died before the pending Sent copy was confirmed. The probe is
    given up (failed, excluded from the analysis): never sent a second time."""
    clock = SharedClock(datetime(2026, 3, 2, tzinfo=UTC))
    with dovecot() as imap, smtp_server(imap, clock.now) as hub:
        d = mixed_study(tmp_path / "s", channels=("email",), brands=["cedar"],
                        smtp_port=hub.port, imap_port=imap.port)  # fmt: skip
        study = load_study(d)
        plan = make_plan(study)
        first = min(plan, key=lambda p: p.scheduled_at)
        clock.set(first.scheduled_at)
        journal = Journal.create_or_open(
            d, plan, study_name=study.name, window_hours=study.window_hours, now=clock.now()
        )
        journal.begin_attempt(first.probe_id, clock.now())
        journal.close()
        channel = MailChannel(local_servers(hub, imap.port), from_address=ADDRESS, clock=clock)
        raw, sent = channel.compose(first)
        assert channel._file_pending(raw, sent)  # the copy, marked pending, then SMTP:
        channel._submit(first, raw)  # accepted by the server ... and the process died here
        clock.advance(120)
        config = RunnerConfig(reconcile_after_real_s=0)
        env = {MAIL_PASSWORD_ENV: PASSWORD}
        await run_campaign(d, env=env, clock=clock, config=config)
        assert deliveries(hub)[sent.message_id] == 1
    con = sqlite3.connect(f"file:{journal_path(d)}?mode=ro", uri=True)
    try:
        row = con.execute(
            "SELECT state, message_id, detail FROM probes WHERE probe_id = ?", (first.probe_id,)
        ).fetchone()
    finally:
        con.close()
    assert tuple(row)[:2] == ("failed", None)
    assert "not sending again avoids a double inquiry" in row[2]


@pytest.mark.slow
@pytest.mark.anyio
async def test_a_runner_clock_10_minutes_ahead_finds_the_post_a_crash_lost(
    tmp_path: Path,
) -> None:
    """The drill's worst moment with the runner's clock 10 minutes ahead of the platform's:
    the post was accepted and the process died before the journal recorded it. On restart
    the look-up, set on the platform's clock (its Date header), finds the post: not sent
    again, not `failed`."""
    d = short_study(tmp_path / "s", brands=1, window_hours=3)
    study = load_study(d)
    plan = make_plan(study)
    first = min(plan, key=lambda p: p.scheduled_at)
    ahead = timedelta(minutes=10)
    # The simulator and the runner share the test's clock (it moves only when the runner
    # sleeps): on a scaled one a busy machine's stall between the attempt and the POST would
    # move the post out of the look-up's reach.
    platform = SharedClock(first.scheduled_at - ahead)
    clock = Ahead(platform, ahead)
    sim = serve_on(d, platform)
    try:
        journal = Journal.create_or_open(
            d, plan, study_name=study.name, window_hours=study.window_hours, now=clock.now()
        )
        async with httpx.AsyncClient(base_url=sim.url, auth=sim_auth()) as c:
            x = XChannel(c, account=study.channel("x").account, clock=clock)
            await x.me()
            journal.begin_attempt(first.probe_id, clock.now())
            sent = await x.send(first)  # accepted ... and the process died here
        journal.close()
        config = RunnerConfig(reconcile_after_real_s=0)
        await run_campaign(d, api_base=sim.url, env={}, clock=clock, config=config)
    finally:
        sim.stop()
    con = sqlite3.connect(f"file:{journal_path(d)}?mode=ro", uri=True)
    try:
        state, message_id = con.execute(
            "SELECT state, message_id FROM probes WHERE probe_id = ?", (first.probe_id,)
        ).fetchone()
        outcomes = [r[0] for r in con.execute(
            "SELECT outcome FROM attempts WHERE probe_id = ? ORDER BY attempt_id",
            (first.probe_id,))]  # fmt: skip
    finally:
        con.close()
    assert (state, message_id) == ("closed", sent.message_id)
    assert outcomes == ["reconciled"]  # found at once: never sent a second time
    report = audit(study, d)
    assert report.ok, report.problems


@pytest.mark.slow
@pytest.mark.parametrize("point", ["refreshing", "answered", "saved"])
def test_kill_9_inside_a_token_refresh_loses_nothing_and_sends_nothing_twice(
    tmp_path: Path, point: str
) -> None:
    # OAuth 2.0 on X: two-hour access tokens, single-use refresh tokens. The runner dies as
    # kill -9 would at each point of a refresh; the restart goes on with the stored pair.
    # Dying after X answered but before the save ("answered") spends the stored refresh
    # token: the restart says to log in again, and after `login x` goes on.
    d = oauth2_study(tmp_path / "drill")
    study = load_study(d)
    span = campaign_span(study, make_plan(study))
    env = {**ENV, STATE_ENV: str(tmp_path / "state")}
    sim, url = start_sim(d, span.total_seconds() / 40, faults=0.0)
    try:
        login_x(d, url, env)
        log = tmp_path / "crashed.log"
        with log.open("wb") as f:
            dying = spawn(
                [*CLI, "run", str(d), "--api-base", url],
                stdout=f, stderr=f, env={**env, "REPLYBENCH_DRILL_CRASH_IN_REFRESH": point},
            )  # fmt: skip
            assert dying.wait(timeout=180) == 137, log.read_text()
        again = subprocess.run(
            [*CLI, "run", str(d), "--api-base", url], capture_output=True, text=True, env=env,
            timeout=300,
        )  # fmt: skip
        if point == "answered":
            assert again.returncode == 1
            assert "run `replybench login x STUDY` again" in again.stderr
            login_x(d, url, env)
            again = subprocess.run(
                [*CLI, "run", str(d), "--api-base", url], capture_output=True, text=True,
                env=env, timeout=300,
            )  # fmt: skip
        assert again.returncode == 0, again.stderr
    finally:
        stop(sim)
    states = status_json(d)["states"]
    assert isinstance(states, dict) and set(states) <= {"closed", "missed"}, states
    assert states.get("closed", 0) > 0
    report = audit(study, d)
    assert report.ok, report.problems  # nothing posted twice, nothing acknowledged lost
    assert sum(r.ledger_posts for r in report.rows) == states.get("closed", 0)
