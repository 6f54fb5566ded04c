"""The outcomes table: what counts as a response, censoring at the window or the as-of time."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import outcomes, parse_as_of
from analysis.outcomes import create_outcomes, load_journal, resolve_as_of, study_counts
from analysis.twcs import import_twcs
from study.errors import StudyError
from study.journal.answers import answered_count
from study.paths import journal_path
from study.timeutil import iso
from tests.analysis.journals import T0, P, R, duck, hours, write_journal
from tests.corpus_files import rewrite_corpus_file

NAIVE_T0 = T0.replace(tzinfo=None)
TWCS_SMALL = Path(__file__).resolve().parents[1] / "fixtures" / "analysis" / "twcs_small.csv"


def rows(con: object, sql: str) -> list[tuple[object, ...]]:
    return con.execute(sql).fetchall()  # type: ignore[attr-defined, no-any-return]


def test_outcomes_sql_applies_the_response_rules_on_a_handful_of_rows() -> None:
    probes = [
        P("local", handle="kaito_de"),  # answered by the brand's global account
        P("global", country="US", handle="Kaito", scope="global", sent_at=T0 - hours(5)),
        P("stranger", sent_at=T0 + hours(1)),  # only a stranger and an auto_ack
        P("late", sent_at=T0 + hours(2)),  # answered after its window
        P("open", sent_at=T0 + hours(90)),  # still open at as-of
        P("future", sent_at=T0 + hours(110)),  # sent after as-of
        P("unsent", sent_at=None, state="missed"),
        P("other", brand="brenner", handle="brenner_de", sent_at=T0 + hours(3)),
    ]
    replies = [
        R("local", "@KAITO", T0 + hours(1.5), "direct_message"),
        R("local", "kaito_de", T0 + hours(2), "public_reply"),
        R("stranger", "randomjoe", T0 + hours(2)),
        R("stranger", "kaito_de", T0 + hours(1.25), "auto_ack"),
        R("stranger", "kaito_de", T0 + hours(3), "other"),
        R("late", "kaito_de", T0 + hours(2 + 72.5)),
        R("open", "kaito_de", T0 + hours(105)),  # after as-of
        R("other", "kaito_de", T0 + hours(4)),  # another brand's account
        R("other", "brenner_de", T0 + hours(3) - timedelta(seconds=36), "redirect"),
    ]
    con = duck(probes, replies)
    create_outcomes(con, as_of=T0 + hours(100), window_hours=72)
    got = {
        r[0]: r[1:]
        for r in rows(
            con,
            "SELECT probe_id, first_response_kind, duration_hours, observed, auto_ack_at,"
            " censored_at FROM outcomes",
        )
    }
    as_of = NAIVE_T0 + timedelta(hours=100)
    assert got == {
        "local": ("direct_message", 1.5, True, None, None),
        "global": (None, 72.0, False, None, NAIVE_T0 + timedelta(hours=67)),
        "stranger": (
            None,
            72.0,
            False,
            NAIVE_T0 + timedelta(hours=1.25),
            NAIVE_T0 + timedelta(hours=73),
        ),
        "late": (None, 72.0, False, None, NAIVE_T0 + timedelta(hours=74)),
        "open": (None, 10.0, False, None, as_of),
        # a reply time-stamped before its probe counts as immediate
        "other": ("redirect", 0.0, True, None, None),
    }


def test_a_tie_between_kinds_at_one_instant_goes_to_the_first_kind_by_name() -> None:
    con = duck(
        [P("a")],
        [R("a", "kaito_de", T0 + hours(1), "redirect"), R("a", "kaito_de", T0 + hours(1))],
    )
    create_outcomes(con, as_of=T0 + hours(100), window_hours=72)
    assert rows(con, "SELECT first_response_kind FROM outcomes") == [("public_reply",)]


def test_a_reply_exactly_at_the_end_of_the_window_counts() -> None:
    con = duck([P("a")], [R("a", "kaito_de", T0 + hours(2))])
    create_outcomes(con, as_of=T0 + hours(100), window_hours=2)
    assert rows(con, "SELECT duration_hours, observed FROM outcomes") == [(2.0, True)]


def test_study_counts_sql_counts_each_probe_once() -> None:
    con = duck(
        [
            P("a", sent_at=T0),
            P("b", sent_at=T0 + hours(5), state="closed"),
            P("c", sent_at=T0 + hours(50)),  # after as-of: planned
            P("d", sent_at=None, state="missed"),
            P("e", sent_at=None, state="failed"),
            P("f", sent_at=None, state="planned"),
            P("g", sent_at=None, state="sending"),
        ]
    )
    counts = study_counts(con, as_of=T0 + hours(10))
    assert (counts.probes, counts.planned, counts.sent, counts.missed, counts.failed) == (
        7,
        3,
        2,
        1,
        1,
    )
    assert counts.first_sent_at == T0
    assert counts.last_sent_at == T0 + hours(5)


def test_official_accounts_answer_strangers_and_auto_acks_do_not(tmp_path: Path) -> None:
    write_journal(
        tmp_path,
        [
            P("kaito-DE", handle="kaito_de"),
            P("kaito-US", country="US", handle="kaito", scope="global"),
            P("kaito-FR", country="FR", handle="kaito_fr"),
            P("kaito-IT", country="IT", handle="kaito_it"),
        ],
        [
            R("kaito-DE", "Kaito", T0 + hours(3)),  # the global account answers a local probe
            R("kaito-FR", "troll42", T0 + hours(1)),  # a stranger
            R("kaito-FR", "kaito_fr", T0 + hours(2), "auto_ack"),
            R("kaito-IT", "kaito_it", T0 + hours(73)),  # after the 72-hour window
        ],
        last_observation=T0 + hours(100),
    )
    df = outcomes(tmp_path)
    assert df["probe_id"].tolist() == ["kaito-DE", "kaito-FR", "kaito-IT", "kaito-US"]
    df = df.set_index("probe_id")
    assert df.loc["kaito-DE", "observed"]
    assert df.loc["kaito-DE", "duration_hours"] == 3.0
    assert df.loc["kaito-DE", "first_response_at"] == T0 + hours(3)
    for pid in ("kaito-US", "kaito-FR", "kaito-IT"):
        assert not df.loc[pid, "observed"]
        assert df.loc[pid, "duration_hours"] == 72.0
        assert df.loc[pid, "censored_at"] == T0 + hours(72)
    assert df.loc["kaito-FR", "auto_ack_at"] == T0 + hours(2)
    assert list(df.columns[:9]) == [
        "brand", "country", "channel", "handle", "scope", "script", "slot", "round", "sent_at"
    ]  # fmt: skip
    assert str(df["sent_at"].dt.tz) == "UTC"


def test_as_of_defaults_to_the_last_observation_and_can_be_earlier(tmp_path: Path) -> None:
    write_journal(
        tmp_path,
        [P("a"), P("b", sent_at=T0 + hours(30))],
        [R("a", "kaito_de", T0 + hours(20))],
        last_observation=T0 + hours(40),
    )
    df = outcomes(tmp_path).set_index("probe_id")
    assert df["duration_hours"].to_dict() == {"a": 20.0, "b": 10.0}
    early = outcomes(tmp_path, as_of=T0 + hours(12)).set_index("probe_id")
    assert early["duration_hours"].to_dict() == {"a": 12.0}  # b was not sent yet
    assert not early.loc["a", "observed"]


def test_errors_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(StudyError, match="no journal yet"):
        outcomes(tmp_path)
    path = journal_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StudyError, match="not a readable journal"):
        outcomes(tmp_path)
    path.unlink()
    write_journal(tmp_path, [P("a")])
    with pytest.raises(StudyError, match="no completed inbox read.*--as-of"):
        outcomes(tmp_path)
    assert len(outcomes(tmp_path, as_of=T0 + hours(1))) == 1
    with pytest.raises(StudyError, match="has no UTC offset"):
        outcomes(tmp_path, as_of=datetime(2026, 3, 2))


def test_an_as_of_after_the_last_observation_is_refused(tmp_path: Path) -> None:
    write_journal(tmp_path, [P("a")], last_observation=T0 + hours(5))
    con, info = load_journal(tmp_path)
    con.close()
    assert resolve_as_of(info, None) == T0 + hours(5)
    with pytest.raises(StudyError, match=r"after the journal's last observation .*T14:00"):
        resolve_as_of(info, T0 + hours(6))


def test_a_damaged_meta_or_time_is_a_study_error(tmp_path: Path) -> None:
    path = write_journal(tmp_path, [P("a")], last_observation=T0 + hours(5))
    con = sqlite3.connect(path)
    con.execute("UPDATE meta SET value = 'soon' WHERE key = 'window_hours'")
    con.commit()
    with pytest.raises(StudyError, match="no valid window_hours"):
        outcomes(tmp_path)
    con.execute("UPDATE meta SET value = '72.0' WHERE key = 'window_hours'")
    con.execute("UPDATE probes SET sent_at = 'yesterday'")
    con.commit()
    con.close()
    with pytest.raises(StudyError, match="probes.sent_at holds 'yesterday'"):
        outcomes(tmp_path)


def test_parse_as_of() -> None:
    assert parse_as_of("2026-03-02T10:00:00+01:00") == T0
    with pytest.raises(StudyError) as e:
        parse_as_of("next tuesday")
    assert str(e.value) == (
        "as-of time 'next tuesday' is not an ISO 8601 time with a UTC offset; "
        "write it like 2026-03-20T12:00:00Z"
    )


KINDS = ["public_reply", "direct_message", "redirect", "auto_ack", "other"]
AUTHORS = ["kaito_de", "KAITO", "@kaito_fr", "brenner_de", "stranger"]

replies_strategy = st.lists(
    st.tuples(
        st.integers(0, 5), st.sampled_from(AUTHORS), st.sampled_from(KINDS), st.integers(0, 200)
    ),
    max_size=25,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sends=st.lists(st.one_of(st.none(), st.integers(0, 150)), min_size=6, max_size=6),
    replies=replies_strategy,
    as_of=st.integers(0, 200),
    window=st.sampled_from([1, 24, 72]),
)
def test_outcomes_agree_with_a_plain_python_reading_of_the_rules(
    sends: list[int | None], replies: list[tuple[int, str, str, int]], as_of: int, window: int
) -> None:
    brands = ["kaito", "kaito", "kaito", "brenner", "brenner", "kaito"]
    handles = ["kaito_de", "kaito", "kaito_fr", "brenner_de", "brenner", "kaito_de"]
    probes = [
        P(f"p{i}", brand=b, handle=h, sent_at=None if s is None else T0 + hours(s))
        for i, (b, h, s) in enumerate(zip(brands, handles, sends, strict=True))
    ]
    rs = [R(f"p{i}", a, T0 + hours(h), k) for i, a, k, h in replies]
    con = duck(probes, rs)
    at = T0 + hours(as_of)
    create_outcomes(con, as_of=at, window_hours=window)
    got = {
        r[0]: (r[1], r[2], r[3])
        for r in rows(con, "SELECT probe_id, duration_hours, observed, auto_ack_at FROM outcomes")
    }
    official = {"kaito": {"kaito_de", "kaito", "kaito_fr"}, "brenner": {"brenner_de", "brenner"}}
    expected: dict[str, tuple[float, bool, datetime | None]] = {}
    for i, p in enumerate(probes):
        if p.sent_at is None or p.sent_at > at:
            continue
        until = min(p.sent_at + hours(window), at)
        mine = [
            r
            for r in rs
            if r.probe_id == p.probe_id
            and r.author.lower().lstrip("@") in official[p.brand]
            and r.created_at <= until
        ]
        answers = [max(r.created_at, p.sent_at) for r in mine if r.kind in KINDS[:3]]
        acks = [max(r.created_at, p.sent_at) for r in mine if r.kind == "auto_ack"]
        end = min(answers) if answers else until
        ack = min(acks).replace(tzinfo=None) if acks else None
        expected[f"p{i}"] = ((end - p.sent_at) / timedelta(hours=1), bool(answers), ack)
    assert got.keys() == expected.keys()
    for pid, (duration, observed, ack) in expected.items():
        assert got[pid][0] == pytest.approx(duration, abs=1e-9)
        assert got[pid][1:] == (observed, ack)
        assert 0 <= got[pid][0] <= window
    con.close()


def test_outcome_times_are_utc_instants(tmp_path: Path) -> None:
    write_journal(tmp_path, [P("a")], last_observation=datetime(2026, 3, 9, tzinfo=UTC))
    df = outcomes(tmp_path)
    assert df.loc[0, "censored_at"] == T0 + hours(72)
    assert df.loc[0, "censored_at"].tzinfo is not None


def test_on_private_channels_any_matched_reply_is_the_brands(tmp_path: Path) -> None:
    """An e-mail probe reaches only the brand: its help desk may answer from another address.
    On a public channel a reply from an address that is not the brand's is a stranger's."""
    write_journal(
        tmp_path,
        [
            P("mail", channel="email", handle="support@kaito.example"),
            P("form", country="FR", channel="manual", handle="kaito.example/contact"),
            P("post", country="IT", handle="kaito_it"),
        ],
        [
            R("mail", "agent.7@helpdesk.example", T0 + hours(5), "direct_message"),
            R("form", "", T0 + hours(8)),
            R("post", "agent.7@helpdesk.example", T0 + hours(1)),
        ],
        last_observation=T0 + hours(100),
    )
    df = outcomes(tmp_path).set_index("probe_id")
    assert df.loc["mail", "observed"] and df.loc["mail", "duration_hours"] == 5.0
    assert df.loc["form", "observed"] and df.loc["form", "duration_hours"] == 8.0
    assert not df.loc["post", "observed"]


def test_each_channel_is_censored_at_its_own_last_inbox_read(tmp_path: Path) -> None:
    """Mastodon's inbox was last read at 10 h (its token was revoked, say) while X's was read
    until 30 h: an unanswered Mastodon probe is censored at 10 h, not taken as watched for 30.
    A probe sent after its channel's last read is censored at once; a channel with no
    recorded read (here email) is observed until the as-of time."""
    probes = [
        P("x1"),
        P("m1", channel="mastodon", handle="kaito@mastodon.social"),
        P("m2", channel="mastodon", handle="kaito@mastodon.social", sent_at=T0 + hours(12)),
        P("e1", channel="email", handle="support@kaito.example"),
    ]
    write_journal(tmp_path, probes, last_observation=T0 + hours(30))
    con = sqlite3.connect(journal_path(tmp_path))
    con.executemany(
        "INSERT INTO cursors(channel, cursor, polled_at) VALUES (?, '{}', ?)",
        [("x", "2026-03-03T15:00:00.000Z"), ("mastodon", "2026-03-02T19:00:00.000Z")],
    )
    con.commit()
    con.close()
    out = outcomes(tmp_path).set_index("probe_id")
    assert out["duration_hours"].to_dict() == {"x1": 30.0, "m1": 10.0, "m2": 0.0, "e1": 30.0}
    assert not out["observed"].any()
    assert str(out.loc["m1", "censored_at"]) == "2026-03-02 19:00:00+00:00"
    # An earlier as-of time still cuts every channel.
    early = outcomes(tmp_path, parse_as_of("2026-03-02T14:00:00Z")).set_index("probe_id")
    assert early["duration_hours"].to_dict() == {"x1": 5.0, "m1": 5.0, "e1": 5.0}


def test_each_persona_is_censored_at_its_own_inbox_read(tmp_path: Path) -> None:
    """The runner keys each inbox read by the sending persona (cursors.channel is 'anna' or
    'ben', not 'x'): anna's inbox was last read at 10 h, ben's at 30 h. A reply to anna's
    probe stamped 20 h (read by ben's inbox) is after anna's probe stopped being watched, so
    it is censored at 10 h; ben's probe answered at 20 h is observed. The analysis says what
    the journal's own count (status, the run log) says."""
    probes = [
        P("a1", persona="anna"),
        P("a2", persona="anna", handle="kaito_at"),
        P("b1", persona="ben", handle="kaito_ch"),
    ]
    replies = [
        R("a1", "kaito_de", T0 + hours(20), persona="ben"),
        R("a2", "kaito_at", T0 + hours(5), persona="anna"),
        R("b1", "kaito_ch", T0 + hours(20), persona="ben"),
    ]
    write_journal(tmp_path, probes, replies, last_observation=T0 + hours(30))
    con = sqlite3.connect(journal_path(tmp_path))
    con.executemany(
        "INSERT INTO cursors(channel, cursor, polled_at) VALUES (?, '{}', ?)",
        [("anna", iso(T0 + hours(10))), ("ben", iso(T0 + hours(30)))],
    )
    con.commit()
    out = outcomes(tmp_path).set_index("probe_id")
    assert out["observed"].to_dict() == {"a1": False, "a2": True, "b1": True}
    assert out["duration_hours"].to_dict() == {"a1": 10.0, "a2": 5.0, "b1": 20.0}
    assert int(out["observed"].sum()) == answered_count(con) == 2
    con.close()


def test_a_journal_and_a_corpus_from_before_personas_read_as_before(tmp_path: Path) -> None:
    """A journal opened read-only is not migrated: one without probes.persona (or a corpus
    file written before it) reads every probe as its channel's one account."""
    write_journal(tmp_path / "old", [P("a")], last_observation=T0 + hours(30))
    con = sqlite3.connect(journal_path(tmp_path / "old"))
    con.execute("ALTER TABLE probes DROP COLUMN persona")
    con.execute("INSERT INTO cursors(channel, cursor, polled_at) VALUES ('x', '{}', ?)",
                (iso(T0 + hours(10)),))  # fmt: skip
    con.commit()
    con.close()
    assert outcomes(tmp_path / "old")["duration_hours"].tolist() == [10.0]

    study = tmp_path / "corpus"
    import_twcs(TWCS_SMALL, study)
    rewrite_corpus_file(study, "probes", lambda data: data.drop_columns(["persona"]))
    assert len(outcomes(study)) == 7
