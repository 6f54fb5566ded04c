"""Brand bots: deterministic, as likely and as fast as their profile says, inside service
hours, in the country's language, and only for the countries a global account serves."""

from __future__ import annotations

import re
import statistics
import tomllib
from dataclasses import replace
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from probes.sim.bots import Action, Probe, after_service_time, decide, in_service
from probes.sim.profiles import (
    DEFAULT_PROFILE,
    DEFAULT_STRANGER_RATE,
    Profile,
    ServiceHours,
    load_settings,
    parse_settings,
    settings_problems,
)
from probes.sim.texts import STRANGER, TEMPLATES, Say
from probes.sim.x.face import XPlatform
from study.clock import ManualClock
from study.errors import StudyError
from study.kinds import classify_private_text, classify_public_text
from study.load import load_study
from study.model import ReplyKind
from study.timeutil import parse_iso
from tests.probes.test_sim_platform import MENTION_FIELDS, START, client_for, me_id, small_study

ALWAYS = ServiceHours(frozenset(range(7)), time(0), None)
OFFICE = ServiceHours(frozenset(range(5)), time(9), time(17))
BERLIN = "Europe/Berlin"


def probe(i: int, *, country: str | None = "DE", at: datetime = START, tz: str = BERLIN) -> Probe:
    return Probe(1000 + i, f"@Acme_DE question {i}", at, "Acme_DE", "acme", country, tz, "de")


def profile(**changes: object) -> Profile:
    return replace(DEFAULT_PROFILE, hours=ALWAYS, **changes)  # type: ignore[arg-type]


def answers(actions: list[Action]) -> list[Action]:
    return [a for a in actions if a.kind is not ReplyKind.AUTO_ACK]


def test_same_probe_same_decision() -> None:
    p = profile(auto_ack_share=0.5, redirect_share=0.3, dm_share=0.2)
    for i in range(50):
        first = decide(probe(i), p, 7, "probe_acct")
        assert decide(probe(i), p, 7, "probe_acct") == first
        later = decide(probe(i, at=START + timedelta(days=3)), p, 7, "probe_acct")
        # Posted later, the same probe gets the same answers, just as much later.
        assert [(a.kind, a.text, a.at - START) for a in first] == [
            (a.kind, a.text, a.at - START - timedelta(days=3)) for a in later
        ]
    other_seed = [decide(probe(i), p, 8, "probe_acct") for i in range(50)]
    assert other_seed != [decide(probe(i), p, 7, "probe_acct") for i in range(50)]


def test_answer_share_follows_the_profile() -> None:
    for rate in (0.2, 0.6, 0.9):
        p = profile(answer_rate=rate)
        answered = sum(bool(answers(decide(probe(i), p, 1, "a"))) for i in range(2000))
        assert abs(answered / 2000 - rate) < 0.04


def test_latency_median_and_never_before_the_probe() -> None:
    p = profile(answer_rate=1.0, median_minutes=90, sigma=0.7, redirect_share=0, dm_share=0)
    minutes = []
    for i in range(1500):
        [action] = decide(probe(i), p, 3, "a")
        assert action.at > START
        minutes.append((action.at - START) / timedelta(minutes=1))
    assert 80 < statistics.median(minutes) < 100


def test_answers_only_inside_service_hours() -> None:
    p = replace(DEFAULT_PROFILE, answer_rate=1.0, hours=OFFICE, median_minutes=200, sigma=1.5)
    tz = ZoneInfo(BERLIN)
    friday_evening = datetime(2026, 3, 6, 19, 0, tzinfo=tz)  # closed until Monday 09:00
    answered = 0
    for i in range(400):
        at = friday_evening + timedelta(minutes=37 * i)  # round the clock, weekends too
        got = answers(decide(probe(i, at=at), p, 5, "a"))
        answered += bool(got)
        for action in got:
            assert in_service(action.at, OFFICE, tz), action.at.astimezone(tz)
            assert action.at > at
    assert answered == 400  # answer_rate 1.0: every probe is answered, in service hours


def test_service_time_waits_for_the_opening_and_counts_only_open_minutes() -> None:
    tz = ZoneInfo(BERLIN)
    friday_late = datetime(2026, 3, 6, 16, 30, tzinfo=tz)
    got = after_service_time(friday_late, timedelta(hours=1), OFFICE, tz)
    assert got == datetime(2026, 3, 9, 9, 30, tzinfo=tz)  # 30 min Friday, 30 min Monday
    saturday = datetime(2026, 3, 7, 12, 0, tzinfo=tz)
    assert after_service_time(saturday, timedelta(0), OFFICE, tz) == datetime(
        2026, 3, 9, 9, 0, tzinfo=tz
    )
    # Across the spring DST change (Europe: 29 March 2026), local hours still hold.
    before_dst = datetime(2026, 3, 27, 16, 0, tzinfo=tz)
    got = after_service_time(before_dst, timedelta(hours=2), OFFICE, tz)
    assert got.astimezone(tz).replace(tzinfo=None) == datetime(2026, 3, 30, 10, 0)


def test_global_account_answers_only_its_countries() -> None:
    p = profile(answer_rate=1.0, answers_only=frozenset({"DE", "US", "GB"}))
    for i in range(100):
        assert answers(decide(probe(i, country="DE"), p, 1, "a"))
        assert answers(decide(probe(i, country="US"), p, 1, "a"))
        assert not answers(decide(probe(i, country="JP"), p, 1, "a"))


def test_kinds_are_what_the_classifier_says() -> None:
    p = profile(answer_rate=1.0, auto_ack_share=1.0, redirect_share=0.4, dm_share=0.3,
                redirect_dm_rate=1.0)  # fmt: skip
    seen = set()
    for i in range(300):
        actions = decide(probe(i), p, 9, "probe_acct")
        assert actions == sorted(actions, key=lambda a: a.at)
        for a in actions:
            seen.add(a.kind)
            if a.dm:
                assert classify_private_text(a.text) is a.kind
            else:
                assert a.text.startswith("@probe_acct ")
                assert classify_public_text(a.text) is a.kind
        if actions[1].kind is ReplyKind.REDIRECT:
            assert actions[2].kind is ReplyKind.DIRECT_MESSAGE and actions[2].at > actions[1].at
    assert seen == {
        ReplyKind.AUTO_ACK,
        ReplyKind.REDIRECT,
        ReplyKind.DIRECT_MESSAGE,
        ReplyKind.PUBLIC_REPLY,
    }


@pytest.mark.parametrize("language", sorted(TEMPLATES))
def test_every_template_is_classified_as_its_kind(language: str) -> None:
    expected = {
        Say.ANSWER: ReplyKind.PUBLIC_REPLY,
        Say.REDIRECT: ReplyKind.REDIRECT,
        Say.AUTO_ACK: ReplyKind.AUTO_ACK,
    }
    for kind, texts in TEMPLATES[language].items():
        for text in texts:
            public = classify_public_text(f"@probe_acct {text}")
            if kind is Say.DM:
                assert classify_private_text(text) is ReplyKind.DIRECT_MESSAGE
            else:
                assert public is expected[kind], (language, text)


def test_all_twelve_languages_and_strangers_look_like_answers() -> None:
    assert set(TEMPLATES) == {
        "en",
        "de",
        "fr",
        "es",
        "it",
        "nl",
        "sv",
        "pl",
        "tr",
        "pt",
        "ja",
        "ko",
    }
    assert all(set(t) == set(Say) for t in TEMPLATES.values())
    # A stranger's words read like an answer: only the author tells them apart.
    assert {classify_public_text(s) for s in STRANGER} == {ReplyKind.PUBLIC_REPLY}


def settings_doc() -> dict[str, object]:
    return {
        "simulator": {"seed": 11, "stranger_rate": 0.0},
        "defaults": {"answer_rate": 1.0, "median_minutes": 30, "days": "all", "opens": "00:00",
                     "closes": "24:00", "redirect_share": 0.0, "dm_share": 0.0},
        "brands": {"globex": {"answers_only": ["DE", "US"], "countries": {
            "US": {"median_minutes": 600}}}},
    }  # fmt: skip


def test_platform_answers_lazily_in_thread_and_in_language() -> None:
    clock = ManualClock(START)
    study = small_study()
    settings = parse_settings(settings_doc(), seed=1)
    index = {"@Globex hallo": ("globex", "DE"), "@Globex hello": ("globex", "US"),
             "@Globex konnichiwa": ("globex", "JP")}  # fmt: skip
    platform = XPlatform(study, clock, settings=settings, probe_index=index)
    with client_for(platform) as c:
        posted = {text: c.post("/2/tweets", json={"text": text}).json()["data"]["id"]
                  for text in index}  # fmt: skip
        me = me_id(c)
        assert c.get(f"/2/users/{me}/mentions").json()["meta"]["result_count"] == 0
        [de, us] = sorted(platform.pending(), key=lambda a: a.country or "")
        assert de.at - START < us.at - START  # the US override is slower
        clock.set(de.at)
        params = {"tweet.fields": MENTION_FIELDS, "expansions": "author_id"}
        [reply] = c.get(f"/2/users/{me}/mentions", params=params).json()["data"]
        assert reply["conversation_id"] == posted["@Globex hallo"]
        assert reply["referenced_tweets"] == [{"type": "replied_to", "id": posted["@Globex hallo"]}]
        assert parse_iso(reply["created_at"]) == de.at.replace(microsecond=0)
        assert classify_public_text(reply["text"]) is ReplyKind.PUBLIC_REPLY
        assert any(reply["text"][len("@probe_acct ") :] in t for t in TEMPLATES["de"][Say.ANSWER])
        clock.advance(3 * 24 * 3600)
        assert c.get(f"/2/users/{me}/mentions").json()["meta"]["result_count"] == 2  # not JP


def test_a_restarted_platform_decides_the_same() -> None:
    runs = []
    for _ in range(2):
        clock = ManualClock(START)
        platform = XPlatform(small_study(), clock)
        with client_for(platform) as c:
            for i in range(30):
                c.post("/2/tweets", json={"text": f"@Acme_US @Globex question {i}"})
                clock.advance(600)
        runs.append([(a.author, a.kind, a.text, a.at) for a in platform.pending()])
    assert runs[0] == runs[1] and runs[0]


def test_strangers_mention_sometimes_as_other() -> None:
    clock = ManualClock(START)
    doc = settings_doc()
    doc["simulator"] = {"stranger_rate": 0.3}
    # 200 posts at once: more than X's 100 per 15 minutes, so without its limits.
    settings = parse_settings(doc, seed=1)
    platform = XPlatform(small_study(), clock, settings=settings, lenient=True)
    with client_for(platform) as c:
        for i in range(200):
            c.post("/2/tweets", json={"text": f"@Acme_DE question {i}"})
    others = [a for a in platform.pending() if a.kind is ReplyKind.OTHER]
    assert 40 < len(others) < 80
    assert all(a.brand is None and not a.author.lower().startswith("acme") for a in others)


def test_settings_layers_and_mistakes(tmp_path: Path) -> None:
    settings = parse_settings(settings_doc(), seed=1)
    assert settings.seed == 11
    assert settings.profile("globex", "US").median_minutes == 600
    assert settings.profile("globex", "DE").median_minutes == 30
    assert settings.profile("acme", "US").answers_only == frozenset()
    assert load_settings(tmp_path, seed=5).defaults == DEFAULT_PROFILE  # no file: defaults
    for bad, message in (
        ({"defaults": {"answer_rat": 0.5}}, "unknown key 'answer_rat'"),
        ({"defaults": {"answer_rate": 1.5}}, "between 0 and 1"),
        ({"defaults": {"opens": "18:00", "closes": "09:00"}}, "do not cross midnight"),
        ({"defaults": {"days": ["mon", "funday"]}}, "mon..sun"),
        ({"brands": {"acme": {"countries": {"XX": {}}}}}, "country study.toml does not have"),
        ({"brands": {"initech": {}}}, "brand that targets.csv does not have"),
        ({"brands": {"acme": {"channels": {"bluesky": {}}}}}, "channel study.toml does not have"),
        ({"brands": {"acme": {"channels": {"email": {}}}}},
         r"brand bots on x, mastodon, bluesky only, not 'email'"),
        ({"brands": {"acme": {"channels": {"x": {"dm_share": 0.9, "redirect_share": 0.2}}}}},
         r"\[brands.acme.channels.x\]: redirect_share .* add up to more than 1"),
    ):  # fmt: skip
        with pytest.raises(StudyError, match=message):
            parse_settings(bad, seed=1, brands={"acme", "globex"}, countries={"DE", "US"},
                           channels={"x", "mastodon", "email"})  # fmt: skip


def test_a_brand_can_work_differently_on_each_channel() -> None:
    """Layers: defaults, brand, brand on a channel, brand in a country (most specific last)."""
    doc = {
        "defaults": {"answer_rate": 0.6, "median_minutes": 100},
        "brands": {
            "acme": {
                "answer_rate": 0.9,
                "channels": {"mastodon": {"answer_rate": 0.3, "median_minutes": 600}},
                "countries": {"DE": {"median_minutes": 45}},
            }
        },
    }
    settings = parse_settings(doc, seed=1, channels={"x", "mastodon"})
    assert (
        settings.profile("acme", "US", "x").answer_rate,
        settings.profile("acme", "US", "x").median_minutes,
    ) == (0.9, 100)
    assert (
        settings.profile("acme", "US", "mastodon").answer_rate,
        settings.profile("acme", "US", "mastodon").median_minutes,
    ) == (0.3, 600)
    assert settings.profile("acme", "DE", "mastodon").median_minutes == 45
    assert settings.profile("globex", "US", "mastodon").answer_rate == 0.6


def test_example_simulator_toml_loads() -> None:
    folder = Path(__file__).resolve().parents[2] / "data" / "examples" / "uxalliance"
    settings = load_settings(folder, seed=1)
    assert settings.profile("kaito", "DE").answer_rate >= 0.85
    assert settings.profile("brenner", "JP").answers_only == frozenset({"DE", "US", "GB"})
    assert settings.profile("orchard").redirect_share > 0.5
    assert settings.profile("stride").auto_ack_share > 0.5


def test_a_client_cannot_tell_answers_before_they_happen() -> None:
    clock = ManualClock(START)
    platform = XPlatform(small_study(), clock, settings=parse_settings(settings_doc(), seed=1))
    with client_for(platform) as c:
        c.post("/2/tweets", json={"text": "@Acme_DE question"})
        [due] = platform.pending()
        clock.set(due.at - timedelta(seconds=1))
        me = me_id(c)
        assert c.get(f"/2/users/{me}/mentions").json()["meta"]["result_count"] == 0
        clock.set(due.at)
        assert c.get(f"/2/users/{me}/mentions").json()["meta"]["result_count"] == 1
        assert platform.pending() == []


def test_the_documented_example_parses_and_shows_the_defaults() -> None:
    doc = Path(__file__).resolve().parents[2] / "docs" / "simulator.md"
    block = re.search(r"```toml\n(.*?)```", doc.read_text(encoding="utf-8"), re.S)
    assert block is not None
    settings = parse_settings(tomllib.loads(block.group(1)), seed=1)
    assert settings.defaults == DEFAULT_PROFILE
    assert settings.stranger_rate == DEFAULT_STRANGER_RATE
    assert settings.profile("kaito", "JP").median_minutes == 90


def test_the_multichannel_example_has_a_channel_layer() -> None:
    folder = Path(__file__).resolve().parents[2] / "data" / "examples" / "multichannel"
    study = load_study(folder)
    settings = load_settings(
        folder,
        seed=1,
        brands={t.brand for t in study.targets},
        countries={c.code for c in study.countries},
        channels={c.name for c in study.channels},
    )
    on_x, on_mastodon = (settings.profile("skyway", "US", ch) for ch in ("x", "mastodon"))
    assert (on_x.answer_rate, on_mastodon.answer_rate) == (0.85, 0.5)
    assert on_x.hours.always and not on_mastodon.hours.always


def test_a_support_account_gives_its_share_of_answers_and_nothing_else_changes() -> None:
    """answer_from / answer_from_share: that share of answers (a redirect and its DM alike)
    comes from the support account; auto-acks stay the asked account's; every other draw
    (whether, when, what) is as without it."""
    base = profile(answer_rate=0.8, auto_ack_share=0.5, redirect_share=0.4, redirect_dm_rate=1)
    support = replace(base, answer_from="AcmeCare", answer_from_share=0.3)
    by_support = 0
    for i in range(1000):
        plain, shared = decide(probe(i), base, 3, "acct"), decide(probe(i), support, 3, "acct")
        assert [(a.kind, a.at, a.text) for a in plain] == [(a.kind, a.at, a.text) for a in shared]
        assert {a.author for a in shared if a.kind is ReplyKind.AUTO_ACK} <= {"Acme_DE"}
        authors = {a.author for a in answers(shared)}
        assert len(authors) <= 1  # a redirect and its DM come from one account
        by_support += authors == {"AcmeCare"}
    answered = sum(bool(answers(decide(probe(i), base, 3, "acct"))) for i in range(1000))
    assert abs(by_support / answered - 0.3) < 0.07  # 4 standard errors: the seed is fixed


def test_answer_from_must_be_a_handle(tmp_path: Path) -> None:
    (tmp_path / "simulator.toml").write_text(
        '[brands.acme]\nanswer_from = "@AcmeCare"\nanswer_from_share = 1.5\n', encoding="utf-8"
    )
    settings, problems = settings_problems(tmp_path, seed=1)
    assert settings is None
    assert [(p.line, p.message) for p in problems] == [
        (3, "[brands.acme] answer_from_share must be a share between 0 and 1, not 1.5; e.g. 0.25"),
        (2, "[brands.acme] answer_from must be a handle without '@', e.g. 'KaitoCare'"),
    ]
