"""The plan: counterbalanced, inside its slots in local time, within caps, deterministic."""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from study.errors import StudyError, StudyProblems
from study.load import load_study
from study.model import (
    ChannelSettings,
    Country,
    Ethics,
    PlannedProbe,
    Scope,
    Script,
    Slot,
    Study,
    Target,
)
from study.plan import (
    design,
    make_plan,
    plan_json,
    plan_problems,
    plan_summary,
    round_spans,
)
from study.plan_time import local_instant

BUSINESS = Slot("business", frozenset(range(5)), time(9), time(17))
WEEKEND = Slot("weekend", frozenset({5, 6}), time(10), time(18))
ZONES = {
    "DE": ("Europe/Berlin", "de"),
    "US": ("America/New_York", "en"),
    "AU": ("Australia/Sydney", "en"),
    "IN": ("Asia/Kolkata", "en"),
    "NZ": ("Pacific/Chatham", "en"),
    "JP": ("Asia/Tokyo", "ja"),
    "BR": ("America/Sao_Paulo", "pt"),
    "AT": ("Europe/Vienna", "de"),
    "CH": ("Europe/Zurich", "de"),
    "FR": ("Europe/Paris", "fr"),
}

# Days when some of ZONES change their clocks (Berlin, New York, Sydney, Chatham).
DST_DAYS = [
    date(2026, 3, 29),
    date(2026, 10, 25),
    date(2026, 3, 8),
    date(2026, 11, 1),
    date(2026, 4, 5),
    date(2026, 10, 4),
    date(2026, 9, 27),
]


def country(code: str) -> Country:
    zone, language = ZONES[code]
    return Country(code, code, zone, language)


def target(brand: str, code: str, handle: str, scope: Scope = Scope.LOCAL, line: int = 0) -> Target:
    return Target(brand, brand.title(), "retail", code, "x", handle, scope, line)


# A script text: {handle} and {country} are the study's placeholders, {sid} and {lang} the test's.
NAMED = "{handle} {sid} in {lang} from {country}?"
UNNAMED = "{handle} {sid} in {lang}?"  # the same text from every country of a language


def script(sid: str, languages: list[str], text: str = NAMED) -> Script:
    texts = tuple(
        (lang, text.replace("{sid}", sid).replace("{lang}", lang)) for lang in sorted(languages)
    )
    return Script(sid, "category", texts)


def make_study(
    *,
    targets: list[Target],
    countries: list[str] | None = None,
    scripts: int = 3,
    text: str = NAMED,
    slots: tuple[Slot, ...] = (BUSINESS,),
    start: date = date(2026, 3, 2),
    end: date = date(2026, 3, 15),
    rounds: int = 2,
    spacing: float = 2,
    cap: int = 60,
    per_day: int = 4,
    seed: int = 20260302,
) -> Study:
    codes = sorted(countries or {t.country for t in targets})
    languages = sorted({ZONES[c][1] for c in codes})
    return Study(
        name="test",
        seed=seed,
        window_hours=72,
        start=start,
        end=end,
        probes_per_target=rounds,
        min_spacing_hours=spacing,
        ethics=Ethics(cap, per_day),
        slots=slots,
        channels=(ChannelSettings("x", "https://api.x.test", "probe", "TOKEN"),),
        countries=tuple(country(c) for c in codes),
        targets=tuple(targets),
        scripts=tuple(script(f"s{i}", languages, text) for i in range(scripts)),
    )


@st.composite
def slots(draw: st.DrawFn, name: str) -> Slot:
    days = draw(st.frozensets(st.integers(0, 6), min_size=1))
    # Half the slots start in the small hours, where DST changes happen.
    early = st.integers(0, 4 * 60)
    start = draw(st.one_of(early, st.integers(0, 22 * 60))) // 15 * 15
    length = draw(st.integers(60, 24 * 60 - 1 - start))
    end = start + length
    return Slot(name, days, time(start // 60, start % 60), time(end // 60, end % 60))


@st.composite
def studies(draw: st.DrawFn) -> Study:
    codes = draw(st.lists(st.sampled_from(sorted(ZONES)), min_size=1, max_size=4, unique=True))
    brands = draw(st.integers(1, 4))
    targets = []
    for b in range(brands):
        for code in codes:
            scope = draw(st.sampled_from([Scope.LOCAL, Scope.GLOBAL, Scope.NONE]))
            handle = {Scope.LOCAL: f"B{b}_{code}", Scope.GLOBAL: f"B{b}_global"}.get(scope, "")
            targets.append(target(f"b{b}", code, handle, scope))
    rounds = draw(st.integers(1, 4))
    days = rounds * draw(st.integers(3, 10)) + draw(st.integers(0, 6))
    start = draw(
        st.one_of(
            st.dates(date(2024, 1, 1), date(2030, 12, 31)),
            st.builds(
                lambda d, k: d - timedelta(days=k), st.sampled_from(DST_DAYS), st.integers(0, 13)
            ),
        )
    )
    per_target = max(
        Counter(t.account_key for t in targets if t.scope is not Scope.NONE).values(), default=0
    )
    study = make_study(
        targets=targets,
        countries=codes,
        scripts=draw(st.integers(rounds, 4)),  # fewer would repeat a text to every target
        slots=tuple(draw(slots(f"slot{i}")) for i in range(draw(st.integers(1, 3)))),
        start=start,
        end=start + timedelta(days=days - 1),
        rounds=rounds,
        spacing=draw(st.sampled_from([0, 0.5, 1, 2])),
        cap=per_target * rounds + draw(st.sampled_from([0, 1, 100])),
        per_day=draw(st.sampled_from([1, 2, 3, 10])),
        seed=draw(st.integers(0, 2**63)),
    )
    if plan_problems(study):
        reject()
    return study


def plan_or_reject(study: Study) -> list[PlannedProbe]:
    try:
        return make_plan(study)
    except StudyError:
        reject()  # a tight random draw of caps; the error path has its own tests
        raise


RANDOM = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@RANDOM
@given(studies())
def test_every_probe_is_inside_its_slot_in_local_time(study: Study) -> None:
    plan = plan_or_reject(study)
    spans = round_spans(study)
    for p in plan:
        slot = study.slot(p.slot)
        local = p.scheduled_at.astimezone(ZoneInfo(study.country(p.country).timezone))
        assert local.weekday() in slot.days
        assert slot.start <= local.time() < slot.end
        assert p.slot_start_at <= p.scheduled_at < p.slot_end_at
        assert p.scheduled_at <= p.slot_end_at - timedelta(minutes=5)
        assert p.scheduled_at.tzinfo is UTC and p.scheduled_at.microsecond == 0
        first, last = spans[p.round - 1]
        assert first <= local.date() <= last
        start_local = p.slot_start_at.astimezone(local.tzinfo)
        assert start_local.date() == local.date()
        assert start_local.time() >= slot.start


@RANDOM
@given(studies())
def test_one_probe_per_target_per_round_with_a_shared_design(study: Study) -> None:
    plan = plan_or_reject(study)
    ids = [(p.brand, p.country, p.channel, p.round) for p in plan]
    expected = {
        (t.brand, t.country, t.channel, r)
        for t in study.probed_targets
        for r in range(1, study.probes_per_target + 1)
    }
    assert len(ids) == len(set(ids)) and set(ids) == expected
    design_of: dict[tuple[str, int], set[tuple[str, str]]] = defaultdict(set)
    for p in plan:
        design_of[(p.country, p.round)].add((p.script, p.slot))
        assert p.probe_id == f"{p.brand}-{p.country}-{p.channel}-r{p.round}"
        language = study.country(p.country).language
        assert p.text == f"@{p.handle} {p.script} in {language} from {p.country}?"
    assert all(len(d) == 1 for d in design_of.values())
    for code in {p.country for p in plan}:
        used = [next(iter(d))[0] for (c, _), d in design_of.items() if c == code]
        assert len(used) == len(set(used)) == study.probes_per_target
    assert len({(p.channel, p.handle.lower(), p.text) for p in plan}) == len(plan)
    assert plan == sorted(plan, key=lambda p: (p.scheduled_at, p.probe_id))
    summary = plan_summary(plan)
    assert all(sum(counts.values()) == len(plan) for counts in summary.values())


@RANDOM
@given(studies())
def test_spacing_and_caps_hold_per_account(study: Study) -> None:
    plan = plan_or_reject(study)
    by_account: dict[str, list[datetime]] = defaultdict(list)
    for p in plan:
        by_account[p.handle.lower()].append(p.scheduled_at)
    for times in by_account.values():
        times.sort()
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        assert all(g >= timedelta(hours=study.min_spacing_hours) for g in gaps)
        per_day = Counter(t.date() for t in times)
        assert max(per_day.values()) <= study.ethics.max_probes_per_account_per_day
        assert len(times) <= study.ethics.max_probes_per_account
    loose = study.min_spacing_hours == 0 and study.ethics.max_probes_per_account_per_day >= 10
    if loose and all(n == study.probes_per_target for n in map(len, by_account.values())):
        # Nothing binds: every brand of a country is asked on the country's day.
        local_days = defaultdict(set)
        for p in plan:
            zone = ZoneInfo(study.country(p.country).timezone)
            local_days[(p.country, p.round)].add(p.scheduled_at.astimezone(zone).date())
        assert all(len(d) == 1 for d in local_days.values())


@settings(max_examples=20, deadline=None)
@given(studies())
def test_the_plan_is_a_pure_function_of_the_study(study: Study) -> None:
    plan = plan_or_reject(study)
    again = make_plan(study)
    assert plan == again
    assert plan_json(plan) == plan_json(again)
    assert plan_json(plan).encode() == plan_json(list(reversed(again))).encode()


def test_the_seed_changes_the_times_but_not_the_design() -> None:
    targets = [target(f"b{i}", c, f"B{i}{c}") for i in range(3) for c in ("DE", "US")]
    a = make_plan(make_study(targets=targets, seed=1))
    b = make_plan(make_study(targets=targets, seed=2))
    assert [p.scheduled_at for p in a] != [p.scheduled_at for p in b]
    design_a = {(p.probe_id, p.script, p.slot) for p in a}
    assert design_a == {(p.probe_id, p.script, p.slot) for p in b}


def test_an_account_over_the_study_cap_is_named_with_the_fix() -> None:
    targets = [
        target("brenner", c, "BrennerAuto", Scope.GLOBAL, line=2 + i)
        for i, c in enumerate(("AT", "CH", "DE"))
    ]
    targets.append(target("kaito", "DE", "KaitoMotors_DE", line=9))
    study = make_study(targets=targets, rounds=2, cap=5)
    [problem] = plan_problems(study)
    assert (problem.file, problem.line) == ("targets.csv", 2)
    assert "x account @BrennerAuto" in problem.message
    assert "6 probes" in problem.message and "is 5" in problem.message
    assert "lower probes_per_target" in problem.message
    with pytest.raises(StudyError, match="@BrennerAuto would get 6 probes"):
        make_plan(study)


def test_no_room_for_an_account_raises_a_one_line_error_naming_it() -> None:
    # Three countries ask one global account in a one-hour slot, one Monday per round.
    mondays = Slot("monday", frozenset({0}), time(9), time(10))
    targets = [target("brenner", c, "BrennerAuto", Scope.GLOBAL) for c in ("AT", "CH", "DE")]
    study = make_study(targets=targets, slots=(mondays,), spacing=2, rounds=2)
    assert plan_problems(study) == []
    with pytest.raises(StudyError) as caught:
        make_plan(study)
    message = str(caught.value)
    assert "\n" not in message
    assert "@BrennerAuto" in message and "min_spacing_hours" in message


def test_a_round_without_a_weekend_day_is_reported_for_the_weekend_slot() -> None:
    # 2026-03-02 is a Monday: spans Mon-Thu, Fri-Mon, Tue-Thu, Fri-Sun.
    study = make_study(
        targets=[target("kaito", "DE", "Kaito")], slots=(WEEKEND,), rounds=4, scripts=4
    )
    assert round_spans(study)[0] == (date(2026, 3, 2), date(2026, 3, 5))
    problems = plan_problems(study)
    assert [p.file for p in problems] == ["study.toml", "study.toml"]
    assert "round 1 (2026-03-02 to 2026-03-05)" in problems[0].message
    assert "round 3 (2026-03-10 to 2026-03-12)" in problems[1].message
    assert all("'weekend' (sat, sun)" in p.message for p in problems)
    assert all("at least 7 days per round" in p.message for p in problems)
    with pytest.raises(StudyProblems):
        make_plan(study)


def test_more_rounds_than_days_is_reported() -> None:
    study = make_study(targets=[target("kaito", "DE", "Kaito")], end=date(2026, 3, 3), rounds=3)
    [problem] = plan_problems(study)
    assert "probes_per_target is 3" in problem.message and "only 2 day(s)" in problem.message
    assert round_spans(study) == []


def test_a_global_account_asked_from_several_countries_keeps_its_spacing() -> None:
    codes = ("AT", "CH", "DE", "FR")
    targets = [target("brenner", c, "BrennerAuto", Scope.GLOBAL) for c in codes]
    targets += [target("kaito", c, f"Kaito_{c}") for c in codes]
    study = make_study(targets=targets, spacing=3, per_day=2, rounds=2)
    plan = make_plan(study)
    brenner = sorted(p.scheduled_at for p in plan if p.brand == "brenner")
    assert len(brenner) == 8
    assert all(b - a >= timedelta(hours=3) for a, b in zip(brenner, brenner[1:], strict=False))
    assert max(Counter(t.date() for t in brenner).values()) <= 2


def test_a_per_day_cap_of_one_moves_a_shared_account_to_other_days() -> None:
    targets = [target("brenner", c, "BrennerAuto", Scope.GLOBAL) for c in ("AT", "CH", "DE")]
    plan = make_plan(make_study(targets=targets, per_day=1, spacing=0, rounds=2))
    for r in (1, 2):
        days = [p.scheduled_at.date() for p in plan if p.round == r]
        assert len(set(days)) == 3


def test_a_slot_in_a_dst_gap_uses_only_times_that_exist() -> None:
    # Berlin skips 02:00-03:00 on Sunday 2026-03-29.
    night = Slot("night", frozenset({6}), time(2), time(4))
    sunday = date(2026, 3, 29)
    study = make_study(
        targets=[target("kaito", "DE", "Kaito")], slots=(night,), start=sunday, end=sunday, rounds=1
    )
    [p] = make_plan(study)
    assert p.slot_start_at == datetime(2026, 3, 29, 1, tzinfo=UTC)
    assert p.slot_end_at == datetime(2026, 3, 29, 2, tzinfo=UTC)
    local = p.scheduled_at.astimezone(ZoneInfo("Europe/Berlin"))
    assert time(3) <= local.time() < time(4)


def test_a_slot_starting_in_a_repeated_hour_skips_its_second_pass_before_the_start() -> None:
    # Berlin repeats 02:00-03:00 on Sunday 2026-10-25; the second 02:00-02:29 is not in the slot.
    night = Slot("night", frozenset({6}), time(2, 30), time(3))
    sunday = date(2026, 10, 25)
    targets = [target(f"b{i}", "DE", f"B{i}") for i in range(30)]
    study = make_study(
        targets=targets, slots=(night,), start=sunday, end=sunday, rounds=1, spacing=0
    )
    plan = make_plan(study)
    assert {p.slot_start_at for p in plan} == {datetime(2026, 10, 25, 0, 30, tzinfo=UTC)}
    assert {p.slot_end_at for p in plan} == {datetime(2026, 10, 25, 2, tzinfo=UTC)}
    for p in plan:
        local = p.scheduled_at.astimezone(ZoneInfo("Europe/Berlin"))
        assert time(2, 30) <= local.time() < time(3)


def test_local_instants_across_dst_changes() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    gap, fold = date(2026, 3, 29), date(2026, 10, 25)
    assert local_instant(gap, time(2, 30), berlin, last=False) == datetime(
        2026, 3, 29, 1, tzinfo=UTC
    )
    assert local_instant(fold, time(2, 30), berlin, last=False) == datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC
    )
    assert local_instant(fold, time(2, 30), berlin, last=True) == datetime(
        2026, 10, 25, 1, 30, tzinfo=UTC
    )
    # Chatham jumps from 02:45 to 03:45 (+12:45 to +13:45).
    chatham = local_instant(date(2026, 9, 27), time(3), ZoneInfo("Pacific/Chatham"), last=False)
    assert chatham == datetime(2026, 9, 26, 14, tzinfo=UTC)
    # Samoa skipped 2011-12-30 entirely: the whole day is one instant.
    apia = ZoneInfo("Pacific/Apia")
    day = date(2011, 12, 30)
    assert local_instant(day, time(9), apia, last=False) == local_instant(
        day, time(17), apia, last=True
    )


def test_round_spans_are_consecutive_and_as_equal_as_possible() -> None:
    study = make_study(targets=[], start=date(2026, 3, 1), end=date(2026, 3, 10), rounds=3)
    assert round_spans(study) == [
        (date(2026, 3, 1), date(2026, 3, 4)),
        (date(2026, 3, 5), date(2026, 3, 7)),
        (date(2026, 3, 8), date(2026, 3, 10)),
    ]


def test_design_follows_the_rotation_and_balances_slot_by_script() -> None:
    assert [design(r, c, 3, 2) for r in range(3) for c in range(2)] == [
        (0, 0),
        (1, 1),
        (1, 1),
        (2, 0),
        (2, 0),
        (0, 1),
    ]
    cells = Counter(design(r, c, 3, 3) for r in range(3) for c in range(9))
    assert len(cells) == 9 and set(cells.values()) == {3}


@pytest.mark.parametrize(
    ("channel", "handle", "text", "sent"),
    [
        ("x", "Kaito", "{handle} Hi from {country}?", "@Kaito Hi from DE?"),
        (
            "mastodon",
            "kaito@mastodon.social",
            "{handle} Hi from {country}?",
            "@kaito@mastodon.social Hi from DE?",
        ),
        ("bluesky", "kaito.bsky.social", "{handle} Hi?", "@kaito.bsky.social Hi?"),
        # e-mail: a leading {handle} (and the space after it) is dropped, any other is the address
        ("email", "care@kaito.test", "{handle}  Hi from {country}?", "Hi from DE?"),
        ("email", "care@kaito.test", "Hi, is {handle} right?", "Hi, is care@kaito.test right?"),
        (
            "email",
            "care@kaito.test",
            "{handle} Hi, is {handle} right?",
            "Hi, is care@kaito.test right?",
        ),
        # manual: a person says or types the text to the handle (a number, a form): no handle
        ("manual", "+49 30 1234567", "{handle} Hi?", "Hi?"),
        ("manual", "Kaito app", "Hi {handle}, from {country}?", "Hi, from DE?"),
    ],
)
def test_text_fills_the_handle_as_each_channel_names_an_account(
    channel: str, handle: str, text: str, sent: str
) -> None:
    t = Target("kaito", "Kaito", "retail", "DE", channel, handle, Scope.LOCAL)
    [probe] = make_plan(make_study(targets=[t], scripts=1, rounds=1, text=text))
    assert (probe.channel, probe.handle, probe.text) == (channel, handle, sent)


def test_one_brand_on_several_channels_gets_one_probe_per_channel() -> None:
    on = {
        "x": "Kaito",
        "mastodon": "kaito@mastodon.social",
        "email": "care@kaito.test",
        "manual": "Kaito app",
    }
    targets = [Target("kaito", "Kaito", "retail", "DE", c, h, Scope.LOCAL) for c, h in on.items()]
    plan = make_plan(make_study(targets=targets, scripts=1, rounds=1))
    assert sorted(p.probe_id for p in plan) == [
        "kaito-DE-email-r1",
        "kaito-DE-manual-r1",
        "kaito-DE-mastodon-r1",
        "kaito-DE-x-r1",
    ]


def test_the_same_handle_on_two_channels_is_two_accounts() -> None:
    # One script for both rounds would repeat a text to one account; the duplicate check
    # looks at each (channel, handle), so an X and a manual target named alike do not clash.
    targets = [
        target("kaito", "DE", "Kaito"),
        Target("kaito", "Kaito", "retail", "DE", "manual", "Kaito", Scope.LOCAL),
    ]
    study = make_study(targets=targets, scripts=1, rounds=1, text=UNNAMED)
    assert plan_problems(study) == []


# The sha256 of `replybench plan --json` before channels other than X existed: the plans of
# X-only studies must not change, or a running campaign's journal would refuse its study.
EXAMPLE_PLAN_SHA256 = "f1a4d995c9c300445241151b94752e6fdd5aaea627d52c0cbdc0e15848120040"
SCAFFOLD_PLAN_SHA256 = "522c767760eb013aa6598ceaefbe163a95df6853991288db18d9f233c8530548"


def test_the_plans_of_x_only_studies_are_unchanged(example_dir: Path, tmp_path: Path) -> None:
    from study.scaffold import init_study

    example = plan_json(make_plan(load_study(example_dir))).encode()
    assert hashlib.sha256(example).hexdigest() == EXAMPLE_PLAN_SHA256
    init_study(tmp_path / "s")
    scaffold = plan_json(make_plan(load_study(tmp_path / "s"))).encode()
    assert hashlib.sha256(scaffold).hexdigest() == SCAFFOLD_PLAN_SHA256


def test_plan_json_is_sorted_utc_text_ending_with_a_newline() -> None:
    targets = [target("kaito", "DE", "Kaito"), target("brenner", "US", "Brenner", Scope.GLOBAL)]
    plan = make_plan(make_study(targets=targets))
    text = plan_json(plan)
    assert text.endswith("]\n")
    rows = json.loads(text)
    assert [r["probe_id"] for r in rows] == [p.probe_id for p in plan]
    assert list(rows[0]) == sorted(rows[0])
    assert {r["scope"] for r in rows} == {"local", "global"}
    assert all(r["scheduled_at"].endswith(".000Z") for r in rows)
    assert plan_summary(plan) == {
        "country": {"DE": 2, "US": 2},
        "round": {"1": 2, "2": 2},
        "script": {"s0": 1, "s1": 2, "s2": 1},
        "slot": {"business": 4},
    }


# --- texts: {country}, and no text twice to one account -----------------------------------


def test_text_fills_the_country_with_its_local_name_or_its_name() -> None:
    us = Country("US", "United States", "America/New_York", "en", local_name="the US")
    au = Country("AU", "Australia", "Australia/Sydney", "en")
    assert (us.text_name, au.text_name) == ("the US", "Australia")
    asked = [target("brenner", c, "BrennerAuto", Scope.GLOBAL) for c in ("AU", "US")]
    study = replace(
        make_study(targets=asked, scripts=1, rounds=1, text="{handle} Hi from {country}!"),
        countries=(au, us),
    )
    texts = {p.country: p.text for p in make_plan(study)}
    assert texts == {"AU": "@BrennerAuto Hi from Australia!", "US": "@BrennerAuto Hi from the US!"}


def test_a_filled_in_value_is_not_read_as_a_placeholder() -> None:
    odd = Country("DE", "{handle}", "Europe/Berlin", "de")
    study = make_study(targets=[target("kaito", "DE", "Kaito")], scripts=1, rounds=1)
    [p] = make_plan(replace(study, countries=(odd,)))
    assert p.text == "@Kaito s0 in de from {handle}?"


def test_a_global_account_sent_one_text_from_two_countries_is_a_problem() -> None:
    # One script, no {country}: the US and AU probes to @BrennerAuto say the same thing.
    asked = [
        target("brenner", c, "BrennerAuto", Scope.GLOBAL, line=n) for n, c in ((2, "AU"), (3, "US"))
    ]
    local = [target("kaito", c, f"Kaito_{c}", line=4) for c in ("AU", "US")]
    study = make_study(targets=asked + local, scripts=1, rounds=1, text=UNNAMED)
    [problem] = plan_problems(study)
    assert (problem.file, problem.line) == ("scripts.csv", None)
    assert problem.message == (
        "x account @BrennerAuto would be sent the same text more than once: 1 of its probes "
        "repeats another one's text (e.g. brenner-AU-x-r1 and brenner-US-x-r1), and platforms "
        "refuse a repeated post (X answers 403); it is asked from AU, US (en): add {country} "
        "to the script texts of the languages these countries share, or write more scripts"
    )
    with pytest.raises(StudyProblems, match="@BrennerAuto would be sent the same text"):
        make_plan(study)
    named = replace(study, scripts=(script("s0", ["en"]),))
    assert plan_problems(named) == []
    plan = make_plan(named)
    assert len({(p.channel, p.handle.lower(), p.text) for p in plan}) == len(plan) == 4


def test_each_account_sent_a_text_twice_is_one_problem_counting_its_repeats() -> None:
    codes = ("AT", "CH", "DE", "US")
    asked = [target("brenner", c, "BrennerAuto", Scope.GLOBAL) for c in codes]
    asked += [target("skyway", c, "SKYWAY", Scope.GLOBAL) for c in ("AT", "DE")]
    asked += [target("kaito", c, "Kaito", Scope.GLOBAL) for c in ("DE", "US")]  # de and en
    study = make_study(targets=asked, scripts=1, rounds=1, text=UNNAMED)
    messages = [p.message for p in plan_problems(study)]
    assert len(messages) == 2
    assert messages[0].startswith("x account @BrennerAuto would be sent the same text")
    assert "2 of its probes repeat another one's text" in messages[0]
    assert "asked from AT, CH, DE (de): add {country}" in messages[0]
    assert messages[1].startswith("x account @SKYWAY would be sent")
    assert "(e.g. skyway-AT-x-r1 and skyway-DE-x-r1)" in messages[1]


def test_more_rounds_than_scripts_repeats_a_text_to_every_target() -> None:
    study = make_study(targets=[target("kaito", "DE", "Kaito")], scripts=2, rounds=3)
    assert [str(p) for p in plan_problems(study)] == [
        "scripts.csv: probes_per_target is 3 but there are only 2 scripts, so every target "
        "would be sent one text twice, and platforms refuse a repeated post (X answers 403); "
        "write at least 3 scripts or lower probes_per_target"
    ]
    with pytest.raises(StudyProblems):
        make_plan(study)


def test_the_example_study_sends_no_account_the_same_text_twice(example_dir: Path) -> None:
    study = load_study(example_dir)
    assert plan_problems(study) == []
    plan = make_plan(study)
    assert len(plan) == 501
    assert len({(p.channel, p.handle.lower(), p.text) for p in plan}) == len(plan)
    brenner = {p.country: p.text for p in plan if p.brand == "brenner" and p.round == 1}
    assert " the UK " in brenner["GB"] and " México " in brenner["MX"]
    assert not any("{" in p.text for p in plan)
