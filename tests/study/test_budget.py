"""A plan held against the platforms' rules (study/platforms.toml): peaks, cost, validate."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from replybench.cli import app
from study.budget import budget_json, budgets, limit_problems, open_seconds, peak
from study.model import ChannelSettings, PlannedProbe, Scope, Study
from study.platforms import platform, platforms
from tests.study.conftest import StudyFolder
from tests.study.test_plan import make_study, target

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def probe(n: int, at: datetime, channel: str = "x", text: str = "@Kaito hello") -> PlannedProbe:
    return PlannedProbe(
        f"b{n}-DE-{channel}-r1", f"b{n}", "DE", channel, "Kaito", Scope.LOCAL, "s0",
        "business", 1, text, at, at, at + timedelta(hours=8),
    )  # fmt: skip


def study_with(*channels: str, window_hours: float = 2) -> Study:
    study = make_study(targets=[target("kaito", "DE", "Kaito")])
    settings = tuple(ChannelSettings(c, "https://api.test", "probe", "TOKEN") for c in channels)
    return replace(study, channels=settings, window_hours=window_hours)


def test_every_figure_names_its_source_and_the_day_it_was_read() -> None:
    for rules in platforms().values():
        for row in (*rules.limits, *rules.prices):
            assert row.source.startswith("https://") and row.read_on.year >= 2026
    x = platform("x")
    assert x is not None
    assert [(x.limit, x.window) for x in x.limits_of("post")] == [
        (100, timedelta(minutes=15)),
        (10000, timedelta(hours=24)),
    ]
    assert [(x.limit, x.window) for x in x.limits_of("dm_read")] == [(15, timedelta(minutes=15))]
    assert platform("email") is None and platform("manual") is None


def test_the_busiest_window_slides() -> None:
    times = [T0, T0 + timedelta(minutes=10), T0 + timedelta(minutes=20), T0 + timedelta(minutes=29)]
    busiest = peak(times, timedelta(minutes=15))
    assert (busiest.posts, busiest.starts_at) == (2, T0)
    assert peak(times, timedelta(minutes=20)).posts == 3  # 09:10, 09:20, 09:29
    assert peak([], timedelta(minutes=15)).posts == 0


def test_windows_open_together_count_once() -> None:
    hour = timedelta(hours=1)
    assert open_seconds([T0, T0 + hour], 2 * hour) == 3 * 3600
    assert open_seconds([T0, T0 + 5 * hour], 2 * hour) == 4 * 3600


def test_the_cost_of_an_x_campaign_is_what_a_hand_computation_gives() -> None:
    # Two posts an hour apart with 2-hour windows: windows open from 09:00 to 12:00, 180
    # polls a minute apart, each reading mentions ($0.005) and DM events ($0.010).
    # One post carries a URL ($0.200 instead of $0.015).
    plan = [probe(1, T0), probe(2, T0 + timedelta(hours=1), text="@Kaito see https://x.test")]
    [b] = budgets(study_with("x"), plan)
    assert b.polls == 180
    assert b.posts_usd == pytest.approx(0.015 + 0.200)
    assert b.reads_usd == pytest.approx(180 * (0.005 + 0.010))
    assert b.total_usd == pytest.approx(0.215 + 2.70)
    [row] = budget_json(study_with("x"), plan)
    assert row["cost_usd"] == {
        "polls": 180, "posts": 0.215, "reads_at_most": 2.7, "total_at_most": 2.915,
    }  # fmt: skip


def test_mastodon_costs_nothing_and_manual_has_no_platform_limit() -> None:
    plan = [probe(1, T0, "mastodon"), probe(2, T0, "manual")]
    manual, mastodon = budgets(study_with("mastodon", "manual"), plan)
    assert mastodon.total_usd == 0 and mastodon.limits[0].limit.limit == 300
    assert manual.platform is None and manual.limits == () and manual.total_usd == 0
    assert budget_json(study_with("mastodon", "manual"), plan)[0]["note"].startswith(
        "no platform limit"
    )


def test_a_plan_over_x_fifteen_minute_limit_is_a_problem_naming_account_day_and_limit() -> None:
    plan = [probe(n, T0 + timedelta(seconds=5 * n)) for n in range(101)]
    [problem] = limit_problems(study_with("x"), plan)
    assert str(problem) == (
        "study.toml: the x account @probe would post 101 probes in 15 minutes on 2026-03-02 "
        "from 09:00 UTC, over X's limit of 100 posts per 15 minutes per user "
        "(study/platforms.toml); widen the slots, lengthen the sending period or lower "
        "probes_per_target so that no 15 minutes hold more than 100 of its probes"
    )
    assert limit_problems(study_with("x"), plan[:100]) == []


def crowded(folder: StudyFolder, brands: int) -> None:
    """`brands` X targets in the US, one round, every slot 15 minutes long."""
    rows = "".join(f"b{n},Brand {n},retail,US,x,brand{n},local\n" for n in range(brands))
    header = folder.text("targets.csv").splitlines()[0]
    folder.write("targets.csv", header + "\n" + rows)
    text = folder.text("study.toml")
    text = text.replace("probes_per_target = 3", "probes_per_target = 1")
    for start, end in (("09:00", "17:00"), ("18:00", "22:00"), ("10:00", "18:00")):
        text = text.replace(
            f'start = "{start}"\nend = "{end}"', f'start = "{start}"\nend = "{start[:3]}15"'
        )
    folder.write("study.toml", text)


def test_validate_refuses_a_plan_over_x_fifteen_minute_limit(folder: StudyFolder) -> None:
    crowded(folder, 101)
    result = CliRunner().invoke(app, ["validate", str(folder.path)])
    assert result.exit_code == 1, result.stdout
    [line] = [x for x in result.stderr.splitlines() if "posts per 15 minutes" in x]
    where = folder.path / "study.toml"
    assert line.startswith(f"{where}: the x account @replybenchprobe would post 101 probes in")
    assert "over X's limit of 100 posts per 15 minutes per user" in line
    assert result.stderr.strip().endswith("Error: 1 problem found; fix them and run again")


def test_plan_shows_each_account_against_the_limits_as_text_and_json(
    folder: StudyFolder,
) -> None:
    crowded(folder, 101)
    result = CliRunner().invoke(app, ["plan", str(folder.path)])
    assert result.exit_code == 0
    assert "  x account @replybenchprobe: 101 posts; busiest 101 per 15 minutes (limit 100)" in (
        result.stdout
    )
    assert "    OVER X's limit of 100 posts per 15 minutes per user" in result.stdout
    result = CliRunner().invoke(app, ["plan", str(folder.path), "--json"])
    rows = json.loads(result.stdout)
    [account] = rows["accounts"]
    assert len(rows["probes"]) == 101
    fifteen = account["limits"][0]
    assert (fifteen["limit"], fifteen["peak"], fifteen["over"]) == (100, 101, True)
    assert account["cost_usd"]["posts"] == pytest.approx(101 * 0.015)


def test_posting_limits_hold_per_persona_account() -> None:
    """150 X posts in one quarter hour: over the limit from one account, within it from two
    personas (X's limit is per user); the plan shows each persona's account."""
    from study.personas import Assignment, Persona

    study = study_with("x")
    anna, ben = (
        Persona(n, "x", replace(study.channels[0], account=f"{n}_probe")) for n in ("anna", "ben")
    )
    study = replace(study, personas=(anna, ben), assignment=Assignment("balanced"))
    plan = [probe(n, T0 + timedelta(seconds=n)) for n in range(150)]
    assert len(limit_problems(study, plan)) == 1
    shared = [replace(p, persona="anna" if n % 2 else "ben") for n, p in enumerate(plan)]
    assert limit_problems(study, shared) == []
    assert [(b.account, b.posts) for b in budgets(study, shared)] == [
        ("anna_probe", 75),
        ("ben_probe", 75),
    ]
