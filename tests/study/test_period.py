"""When the sending period is over: its end in UTC, and the warning plan, validate and status
give (the clock is passed in)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from study.plan_time import past_period_warning, period_end
from tests.study.test_plan import make_study, target

# The study's last day is Sunday 2026-03-15; New York is then on EDT (UTC-4), Berlin on CET.
STUDY = make_study(
    targets=[target("acme", "DE", "AcmeDE"), target("acme", "US", "AcmeUS")],
    end=date(2026, 3, 15),
)
END = datetime(2026, 3, 16, 4, 0, tzinfo=UTC)  # midnight after the last day in New York


def test_the_period_ends_at_midnight_after_its_last_day_where_that_comes_last() -> None:
    assert period_end(STUDY) == END
    berlin_only = make_study(targets=[target("acme", "DE", "AcmeDE")], end=date(2026, 3, 15))
    assert period_end(berlin_only) == datetime(2026, 3, 15, 23, 0, tzinfo=UTC)


def test_a_warning_only_once_the_whole_period_is_over() -> None:
    assert past_period_warning(STUDY, END - timedelta(seconds=1)) is None
    assert past_period_warning(STUDY, END) == (
        "warning: the sending period (2026-03-02 to 2026-03-15) ended at 2026-03-16 04:00 UTC, "
        "before now (2026-03-16 04:00 UTC): `replybench run` would find every slot past and "
        "send nothing; move start and end in study.toml to future dates (`replybench sim` "
        "starts at the first slot, so the simulator still runs it)"
    )
