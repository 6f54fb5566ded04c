"""Alerts through apprise to a webhook on 127.0.0.1: delivered, never fatal, secrets hidden."""

from __future__ import annotations

import logging
import socket
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from probes.alerts import Alerter, alerter_for, shown
from probes.campaign import run_and_tell
from probes.health import Health, OutageExit
from probes.runner import RunSummary
from study.errors import StudyError
from study.journal.campaign import Journal
from study.load import load_study
from study.model import Alerts
from study.plan import make_plan
from tests.probes.alert_receiver import receiver

pytestmark = pytest.mark.anyio

AT = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_an_alert_reaches_the_webhook() -> None:
    with receiver() as hook:
        alerter = Alerter(hook.url(), source="REPLYBENCH_ALERT_URL")
        assert await alerter.send("finished", "replybench: done", "the campaign is over")
    assert hook.posts == [
        (
            "/hook/s3cr3t-token",
            {
                "version": "1.0",
                "title": "replybench: done",
                "message": "the campaign is over",
                "attachments": [],
                "type": "success",
            },
        )
    ]


async def test_an_undeliverable_alert_is_logged_without_its_secret_and_never_raises(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = closed_port()
    alerter = Alerter(
        f"json://user:pa55word@127.0.0.1:{port}/hook/s3cr3t-token?cto=1&rto=1", source="X"
    )
    with caplog.at_level(logging.DEBUG):
        assert not await alerter.send("stopped", "replybench: stopped", "body")
        alerter.notify("stopped", "replybench: stopped again", "body")  # in the background
        await alerter.drain()
    assert alerter.delivered == []
    # What reaches the program's log: ours at any level, anyone's warnings. apprise's own log
    # (it names the URL) is kept to itself: it does not propagate to the root logger (pytest
    # attaches its capture to it all the same).
    assert logging.getLogger("apprise").propagate is False
    shown_records = [
        r for r in caplog.records
        if r.name == "probes.alerts" or (r.levelno >= logging.WARNING and r.name != "apprise")
    ]  # fmt: skip
    logged = "\n".join(r.getMessage() for r in shown_records)
    assert f"json://127.0.0.1:{port}/…" in logged and "was not delivered" in logged
    assert "s3cr3t" not in logged and "pa55word" not in logged


def test_alert_urls_are_shown_as_scheme_and_host_only() -> None:
    assert shown("json://user:pw@hooks.example.org:8443/t/abc") == "json://hooks.example.org:8443/…"
    assert shown("mailtos://u:p@mail.example.org?to=a@b.org") == "mailtos://mail.example.org/…"


def test_a_missing_or_unreadable_alert_url_is_one_line_naming_the_variable(
    tmp_path: Path,
) -> None:
    study = replace(load_study_copy(tmp_path), alerts=Alerts("REPLYBENCH_ALERT_URL", 15))
    with pytest.raises(StudyError) as e:
        alerter_for(study, {})
    assert str(e.value) == (
        "study.toml [alerts] url_env: the environment variable REPLYBENCH_ALERT_URL is not set; "
        "set it to the apprise URL(s) to alert (e.g. json://host/path), or remove [alerts]"
    )
    with pytest.raises(StudyError) as e:
        alerter_for(study, {"REPLYBENCH_ALERT_URL": "hunter2-not-an-url"})
    assert "environment variable REPLYBENCH_ALERT_URL: not a list of apprise URLs" in str(e.value)
    assert "hunter2" not in str(e.value)
    assert alerter_for(replace(study, alerts=None), {}) is None


def load_study_copy(tmp_path: Path):  # type: ignore[no-untyped-def]
    from tests.e2e.studies import short_study

    return load_study(short_study(tmp_path / "s", brands=1))


class Stub:
    """A runner that ends as told."""

    def __init__(self, end: BaseException | None) -> None:
        self.end = end

    async def run(self) -> RunSummary:
        if self.end is not None:
            raise self.end
        return RunSummary(counts={"closed": 2}, answered=1, replies=1, interrupted=False)


async def test_the_runner_stopping_or_finishing_is_alerted() -> None:
    with receiver() as hook:
        alerter = Alerter(hook.url(), source="X")
        with pytest.raises(OutageExit):
            await run_and_tell(Stub(OutageExit("x could not be reached")), alerter, "S")  # type: ignore[arg-type]
        summary = await run_and_tell(Stub(None), alerter, "S")  # type: ignore[arg-type]
    assert summary.counts == {"closed": 2}
    assert hook.titles() == ["replybench: the runner of S stopped", "replybench: S finished"]
    assert "the runner stopped: x could not be reached" in hook.posts[0][1]["message"]
    assert hook.posts[1][1]["message"] == "S: the campaign is over: closed 2."


async def test_health_alerts_once_when_out_of_reach_and_again_when_back(tmp_path: Path) -> None:
    study = load_study_copy(tmp_path)
    journal = Journal.create_or_open(
        study.path, make_plan(study), study_name="S", window_hours=6, now=AT
    )
    with receiver() as hook:
        alerter = Alerter(hook.url(), source="X")
        health = Health(
            journal,
            max_outage=timedelta(hours=1),
            alerter=alerter,
            alert_after=timedelta(minutes=10),
        )
        health.start(AT)
        for minutes in (0, 5, 9):  # three failures in 9 minutes: unreachable, not yet alerted
            health.failed("x", AT + timedelta(minutes=minutes), "ConnectError")
        await alerter.drain()
        assert hook.posts == []
        for minutes in (10, 20, 30):
            health.failed("x", AT + timedelta(minutes=minutes), "ConnectError")
        health.check(AT + timedelta(minutes=30))  # under the hour: carries on
        health.reached("x", AT + timedelta(minutes=31))
        await alerter.drain()
    assert hook.titles() == [
        "replybench: x unreachable since 2026-03-04 09:00 UTC",
        "replybench: x reachable again",
    ]
    kinds = [r[0] for r in journal.con.execute("SELECT kind FROM events WHERE kind <> 'planned'")]
    assert kinds == ["unreachable", "reachable"]
    journal.close()


async def test_failures_far_apart_are_not_one_outage(tmp_path: Path) -> None:
    """Nothing asked the platform for longer than the outage limit: an old failure says
    nothing of the hours in between."""
    study = load_study_copy(tmp_path)
    journal = Journal.create_or_open(
        study.path, make_plan(study), study_name="S", window_hours=6, now=AT
    )
    health = Health(journal, max_outage=timedelta(hours=1))
    health.failed("x", AT, "ConnectError")
    for minutes in (121, 122, 123):
        health.failed("x", AT + timedelta(minutes=minutes), "ConnectError")
    health.check(AT + timedelta(minutes=123))  # three failures in two minutes: no exit
    for minutes in (150, 183):
        health.failed("x", AT + timedelta(minutes=minutes), "ConnectError")
    with pytest.raises(OutageExit, match="x could not be reached from 2026-03-04T11:01:00"):
        health.check(AT + timedelta(minutes=183))
    journal.close()
