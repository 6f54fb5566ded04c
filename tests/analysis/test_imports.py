"""Hand-collected results into a journal: round trips, extension, and every kind of bad row."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from analysis.export import read_table
from analysis.imports import ImportSummary, import_csv
from study.errors import StudyError, StudyProblems
from study.journal.schema import create_schema
from study.paths import journal_path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "analysis"
FIRST = FIXTURES / "hand_collected.csv"
MORE = FIXTURES / "hand_collected_more.csv"
HEADER = "brand,country,channel,sent_at,replied_at"


def pid(brand: str, country: str, channel: str, sent_iso: str) -> str:
    """The id of an imported probe: its whole key (2026-03-02T09:05:00.000Z: 20260302T090500Z)."""
    compact = sent_iso.replace("-", "").replace(":", "").replace(".000Z", "Z")
    return f"import-{brand}-{country}-{channel}-{compact}"


def old_pid(brand: str, country: str, channel: str, sent_iso: str) -> str:
    """The id imports gave before ids were whole keys: 8 hex digits of a hash of sent_at."""
    return f"import-{brand}-{country}-{channel}-{hashlib.sha1(sent_iso.encode()).hexdigest()[:8]}"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def meta(study: Path) -> dict[str, str]:
    con = sqlite3.connect(journal_path(study))
    try:
        return dict(con.execute("SELECT key, value FROM meta").fetchall())
    finally:
        con.close()


@pytest.fixture
def study(tmp_path: Path) -> Path:
    return tmp_path / "hand-study"


def write(tmp_path: Path, text: str, name: str = "results.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(study: Path, csv_path: Path, window: float = 72) -> list[str]:
    with pytest.raises(StudyProblems) as e:
        import_csv(study, csv_path, window)
    return str(e.value).splitlines()


def test_import_creates_a_journal_with_every_value(study: Path) -> None:
    summary = import_csv(study, FIRST, 72)

    assert summary == ImportSummary(
        journal=journal_path(study),
        created=True,
        probes=6,
        replies=4,
        closed=3,
        open=3,
        last_observation=summary.last_observation,
    )
    assert summary.last_observation.isoformat() == "2026-03-07T09:00:00+00:00"
    probes = read_table(study, "probes").set_index("probe_id")
    kaito1 = pid("kaito", "DE", "x", "2026-03-02T09:05:00.000Z")
    kaito2 = pid("kaito", "DE", "x", "2026-03-05T15:00:00.000Z")
    brenner_mail = pid("brenner", "DE", "email", "2026-03-07T09:00:00.000Z")
    assert probes.loc[kaito1].to_dict() == {
        "brand": "kaito",
        "country": "DE",
        "channel": "x",
        "handle": "KaitoDE",
        "scope": "local",
        "script": "delivery",
        "slot": "business",
        "round": 1,
        "scheduled_at": "2026-03-02T09:05:00.000Z",
        "sent_at": "2026-03-02T09:05:00.000Z",
        "message_id": None,
        "state": "closed",
        "closes_at": "2026-03-05T09:05:00.000Z",
        "closed_at": "2026-03-05T09:05:00.000Z",
        "text": "@KaitoDE Hallo, wo ist meine Bestellung?",
        "detail": None,
    }
    assert probes.loc[kaito2, "round"] == 2
    assert probes.loc[kaito2, "state"] == "sent"
    assert probes.loc[kaito2, "closed_at"] is None
    # Defaults: handle = brand, scope local, script and slot unknown, text empty.
    defaults = probes.loc[brenner_mail]
    assert (defaults.handle, defaults.scope, defaults.script, defaults.slot, defaults.text) == (
        "brenner",
        "local",
        "unknown",
        "unknown",
        "",
    )
    assert probes.loc[pid("kaito", "GB", "x", "2026-03-03T09:00:00.000Z"), "scope"] == "global"
    assert sorted(probes.state) == ["closed"] * 3 + ["sent"] * 3

    replies = read_table(study, "replies")
    assert replies[["probe_id", "author", "kind", "created_at"]].values.tolist() == [
        [kaito1, "KaitoDE", "public_reply", "2026-03-02T10:35:00.000Z"],
        [
            pid("brenner", "DE", "email", "2026-03-02T13:00:00.000Z"),
            "service@brenner.example",
            "direct_message",
            "2026-03-04T07:00:00.000Z",
        ],
        [kaito2, "KaitoDE", "redirect", "2026-03-05T16:00:00.000Z"],
        [
            pid("brenner", "GB", "x", "2026-03-06T18:30:00.000Z"),
            "BrennerAuto",
            "auto_ack",
            "2026-03-06T18:31:00.000Z",
        ],
    ]
    assert replies.reply_id.tolist()[0] == f"{kaito1}-reply"
    assert (
        replies.text.tolist()[0] == "@replybench_probe Hallo! Bitte nenne uns deine Bestellnummer."
    )
    assert meta(study) == {
        "schema_version": "1",
        "study_name": "hand-study",
        "window_hours": "72.0",
        "source": "import",
        "last_observation": "2026-03-07T09:00:00.000Z",
    }


def test_a_second_file_extends_the_journal_and_closes_windows(study: Path) -> None:
    import_csv(study, FIRST, 72)
    summary = import_csv(study, MORE, 72)

    assert (summary.created, summary.probes, summary.replies) == (False, 2, 2)
    assert (summary.closed, summary.open) == (1, 1)
    probes = read_table(study, "probes").set_index("probe_id")
    assert len(probes) == 8
    assert meta(study)["last_observation"] == "2026-03-10T13:00:00.000Z"
    # The new latest time closes the windows that ended before it, old rows included.
    assert (probes.state == "sent").sum() == 1
    assert probes.loc[pid("brenner", "GB", "x", "2026-03-10T12:00:00.000Z"), "state"] == "sent"
    # An earlier probe to kaito DE/x renumbers the rounds in sending order.
    rounds = probes[(probes.brand == "kaito") & (probes.country == "DE")]
    assert rounds.sort_values("sent_at")["round"].tolist() == [1, 2, 3]
    reply = read_table(study, "replies").set_index("probe_id")
    assert reply.loc[pid("kaito", "DE", "x", "2026-03-01T12:00:00.000Z"), "kind"] == "public_reply"
    assert len(reply) == 6


def test_an_earlier_file_does_not_move_the_as_of_time_back(study: Path, tmp_path: Path) -> None:
    import_csv(study, FIRST, 72)
    early = write(tmp_path, f"{HEADER}\nkaito,FR,x,2026-02-01T10:00:00Z,\n")
    summary = import_csv(study, early, 72)
    assert meta(study)["last_observation"] == "2026-03-07T09:00:00.000Z"
    assert summary.closed == 1


def test_reimporting_the_same_rows_is_refused_and_changes_nothing(study: Path) -> None:
    import_csv(study, FIRST, 72)
    before = digest(journal_path(study))
    lines = problems(study, FIRST)
    expected = pid("kaito", "DE", "x", "2026-03-02T09:05:00.000Z")
    assert len(lines) == 6
    assert lines[0] == (
        f"{FIRST}:2: this probe (same brand, country, channel and sent_at) is already in the "
        f"journal as {expected}; remove the row (it was imported before)"
    )
    assert digest(journal_path(study)) == before


def test_the_same_instant_written_with_another_offset_is_a_duplicate(
    study: Path, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        f"{HEADER}\nkaito,DE,x,2026-03-02T10:05:00+01:00,\nkaito,DE,x,2026-03-02T09:05:00Z,\n",
    )
    assert problems(study, path) == [
        f"{path}:3: repeats the probe on line 2 (same brand, country, channel and sent_at); "
        "remove one of the two rows"
    ]
    assert not journal_path(study).exists()


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            "kaito,DE,x,2026-03-02T10:05:00,",
            "sent_at '2026-03-02T10:05:00' has no UTC offset; add the one of the clock it was "
            "read from, e.g. '2026-03-02T10:05:00Z' or '2026-03-02T10:05:00+01:00'",
        ),
        (
            "kaito,DE,x,2026-03-02T10:05:00Z,2026-03-02 11:00",
            "replied_at '2026-03-02 11:00' has no UTC offset; add the one of the clock it was "
            "read from, e.g. '2026-03-02 11:00Z' or '2026-03-02 11:00+01:00'",
        ),
        (
            "kaito,DE,x,yesterday at noon,",
            "sent_at 'yesterday at noon' is not an ISO 8601 time; write it like "
            "2026-03-02T14:05:00+01:00",
        ),
        (
            "kaito,DE,x,2026-03-02T10:05:00Z,2026-03-02T10:04:59Z",
            "replied_at 2026-03-02T10:04:59Z is before sent_at 2026-03-02T10:05:00Z; check "
            "both times and their UTC offsets",
        ),
        (
            "kaito,UK,x,2026-03-02T10:05:00Z,",
            "country 'UK' is not an ISO 3166 code; did you mean 'GB'?",
        ),
        (
            "Kaito Motors,DE,x,2026-03-02T10:05:00Z,",
            "brand 'Kaito Motors' is not an identifier (lower-case letters, digits, '-', '_'); "
            "write e.g. 'kaito-motors'",
        ),
        (",DE,x,2026-03-02T10:05:00Z,", "brand is empty; fill it in"),
        (
            "kaito,DE,X,2026-03-02T10:05:00Z,",
            "channel 'X' is not a channel kind; did you mean 'x'? (one of x, mastodon, bluesky, "
            "email, manual)",
        ),
        (
            "kaito,DE,twitter,2026-03-02T10:05:00Z,",
            "channel 'twitter' is not a channel kind; did you mean 'x'? (one of x, mastodon, "
            "bluesky, email, manual)",
        ),
        (
            "kaito,DE,Phone call,2026-03-02T10:05:00Z,",
            "channel 'Phone call' is not a channel kind; did you mean 'manual'? (one of x, "
            "mastodon, bluesky, email, manual)",
        ),
        (
            "kaito,DE,Mastadon,2026-03-02T10:05:00Z,",
            "channel 'Mastadon' is not a channel kind; did you mean 'mastodon'? (one of x, "
            "mastodon, bluesky, email, manual)",
        ),
        (
            "kaito,DE,carrier pigeon,2026-03-02T10:05:00Z,",
            "channel 'carrier pigeon' is not a channel kind; write the channel kind (one of x, "
            "mastodon, bluesky, email, manual)",
        ),
        (
            "kaito,DE,x,1600-01-01T00:00:00+00:00,",
            "sent_at '1600-01-01T00:00:00+00:00' is out of range: times must lie in the years "
            "2000-2099; check the year",
        ),
        (
            "kaito,DE,x,2026-03-02T10:05:00Z,9999-12-31T23:00:00Z",
            "replied_at '9999-12-31T23:00:00Z' is out of range: times must lie in the years "
            "2000-2099; check the year",
        ),
    ],
)
def test_a_bad_required_value_names_file_line_and_fix(
    study: Path, tmp_path: Path, row: str, message: str
) -> None:
    path = write(tmp_path, f"{HEADER}\nkaito,DE,x,2026-03-01T10:00:00Z,\n{row}\n")
    assert problems(study, path) == [f"{path}:3: {message}"]
    assert not journal_path(study).exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "reply_kind\n{row},2026-03-02T11:00:00Z,publicreply",
            "reply_kind 'publicreply' is unknown (did you mean 'public_reply'?); use one of "
            "public_reply, direct_message, redirect, auto_ack",
        ),
        (
            "reply_kind\n{row},2026-03-02T11:00:00Z,other",
            "reply_kind 'other' is unknown; use one of public_reply, direct_message, redirect, "
            "auto_ack",
        ),
        ("scope\n{row},,none", "scope 'none' is unknown; use local or global"),
        (
            "reply_text\n{row},,Thanks!",
            "reply_text is given but replied_at is empty; add the reply's time or clear reply_text",
        ),
    ],
)
def test_a_bad_optional_value_names_file_line_and_fix(
    study: Path, tmp_path: Path, extra: str, message: str
) -> None:
    body = extra.format(row="kaito,DE,x,2026-03-02T10:00:00Z")
    path = write(tmp_path, f"{HEADER},{body}\n")
    assert problems(study, path) == [f"{path}:2: {message}"]


def test_every_problem_of_a_file_is_reported_at_once(study: Path, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"{HEADER}\n"
        "kaito,DE,x,2026-03-02T10:05:00,\n"
        "kaito,DE,x,2026-03-03T10:05:00Z,\n"
        '"kaito","DE","x","2026-03-04T10:05:00Z","2026-03-04T09:00:00Z"\n'
        "kaito,DE,x,2026-03-05T10:05:00Z\n",
    )
    lines = problems(study, path)
    assert [line.split(": ")[0] for line in lines] == [f"{path}:2", f"{path}:4", f"{path}:5"]
    assert lines[2] == (
        f"{path}:5: has 4 values but the header has 5; give every row all of them (an empty "
        "one is just ',,') and quote a value with a comma"
    )
    assert not journal_path(study).exists()


def test_missing_and_misspelt_columns_are_reported_on_line_1(study: Path, tmp_path: Path) -> None:
    path = write(tmp_path, "brand,country,chanel,sent_at,notes\nkaito,DE,x,2026-03-02T10:00Z,\n")
    shape = (
        "required: brand, country, channel, sent_at, replied_at; optional: handle, scope, "
        "script, slot, reply_kind, reply_text, inquiry_text, brand_name, sector"
    )
    assert problems(study, path) == [
        f"{path}:1: has the column 'chanel'; rename it 'channel' ({shape})",
        f"{path}:1: has an unknown column 'notes'; remove it ({shape})",
        f"{path}:1: has no column 'replied_at'; add it ({shape})",
    ]


def test_an_empty_file_and_a_file_without_rows_are_refused(study: Path, tmp_path: Path) -> None:
    empty = write(tmp_path, "", "empty.csv")
    header_only = write(tmp_path, HEADER + "\n", "header.csv")
    assert problems(study, empty)[0].startswith(f"{empty}:1: is empty; start it with the header")
    assert problems(study, header_only) == [
        f"{header_only}:1: has no rows under the header; add one row per record"
    ]


def test_a_window_that_is_not_positive_is_refused(study: Path) -> None:
    for window in (0, -3, float("nan")):
        with pytest.raises(StudyError, match="the window must be more than 0 hours"):
            import_csv(study, FIRST, window)
    assert not journal_path(study).exists()


def test_a_different_window_names_both(study: Path) -> None:
    import_csv(study, FIRST, 72)
    before = digest(journal_path(study))
    with pytest.raises(StudyError) as e:
        import_csv(study, MORE, 48)
    assert str(e.value) == (
        f"{journal_path(study)}: the journal's window is 72 hours but this import asks for 48; "
        "import with --window-hours 72, or into a new study folder"
    )
    assert digest(journal_path(study)) == before


def test_a_campaign_journal_is_not_mixed_with_imports(study: Path) -> None:
    path = journal_path(study)
    path.parent.mkdir(parents=True)
    con = sqlite3.connect(path)
    create_schema(con)
    con.execute(
        "INSERT INTO meta VALUES ('schema_version', '1'), ('source', 'campaign'), "
        "('window_hours', '72.0')"
    )
    con.commit()
    con.close()
    before = digest(path)
    with pytest.raises(StudyError, match="holds a campaign"):
        import_csv(study, FIRST, 72)
    assert digest(path) == before


def test_a_bad_row_in_a_second_file_leaves_the_journal_byte_identical(
    study: Path, tmp_path: Path
) -> None:
    import_csv(study, FIRST, 72)
    before = digest(journal_path(study))
    path = write(tmp_path, f"{HEADER}\nkaito,FR,x,2026-03-09T10:00:00Z,\nkaito,FR,x,soon,\n")
    assert len(problems(study, path)) == 1
    assert digest(journal_path(study)) == before
    assert len(read_table(study, "probes")) == 6


def test_a_missing_or_non_utf8_file_is_refused(study: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    assert problems(study, missing) == [f"{missing}: does not exist; check the path"]
    latin = tmp_path / "latin.csv"
    latin.write_bytes(f"{HEADER}\nkaito,DE,x,2026-03-02T10:00:00Z,\n".encode() + b"\xe9\n")
    assert problems(study, latin) == [
        f'{latin}:1: is not UTF-8 text; save it as UTF-8 ("CSV UTF-8")'
    ]
    assert not journal_path(study).exists()


def test_a_quoted_value_over_two_lines_keeps_the_line_numbers(study: Path, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"{HEADER},inquiry_text\n"
        'kaito,DE,x,2026-03-02T10:00:00Z,,"Hello,\nwhere is my order?"\n'
        "kaito,DE,x,2026-03-02T10:00,,\n",
    )
    assert problems(study, path)[0].startswith(f"{path}:4: sent_at '2026-03-02T10:00' has no")


def test_observed_until_sets_the_as_of_time_and_closes_windows(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    csv = tmp_path / "hand.csv"
    csv.write_text(
        "brand,country,channel,sent_at,replied_at\n"
        "kaito,DE,x,2026-03-02T09:00:00+01:00,\n"
        "kaito,DE,x,2026-03-09T09:00:00+01:00,\n",
        encoding="utf-8",
    )
    plain = import_csv(tmp_path / "a", csv, 72)
    assert plain.open == 1  # the last probe counts as open: nobody said until when they looked
    until = datetime(2026, 3, 13, tzinfo=UTC)
    s = import_csv(tmp_path / "b", csv, 72, observed_until=until)
    assert (s.closed, s.open, s.last_observation) == (2, 0, until)
    with pytest.raises(StudyError, match=r"hand.csv: --observed-until .* is before the latest"):
        import_csv(tmp_path / "c", csv, 72, observed_until=datetime(2026, 3, 3, tzinfo=UTC))
    assert not (tmp_path / "c").exists()


# Two instants whose old 8-hex-digit ids were the same (found offline by a birthday search
# over whole seconds: 2 days of seconds are enough for a 32-bit hash to repeat).
COLLIDING = ("2026-03-02T02:34:50.000Z", "2026-03-03T14:28:12.000Z")


def test_two_probes_whose_old_hashed_ids_collide_both_import(study: Path, tmp_path: Path) -> None:
    a, b = COLLIDING
    assert old_pid("kaito", "DE", "x", a) == old_pid("kaito", "DE", "x", b)  # the old clash
    path = write(tmp_path, f"{HEADER}\nkaito,DE,x,{a},\nkaito,DE,x,{b},\n")

    summary = import_csv(study, path, 72)

    assert summary.probes == 2
    ids = sorted(read_table(study, "probes").probe_id)
    assert ids == [
        "import-kaito-DE-x-20260302T023450Z",
        "import-kaito-DE-x-20260303T142812Z",
    ]


def test_an_id_keeps_milliseconds_and_no_spaces(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from analysis.imports import probe_id_for

    at = datetime(2026, 3, 2, 9, 5, 0, 123000, tzinfo=UTC)
    expected = "import-kaito-DE-manual-20260302T090500.123Z"
    assert probe_id_for("kaito", "DE", "manual", at) == expected


def test_a_journal_with_the_old_hashed_ids_keeps_working(study: Path, tmp_path: Path) -> None:
    """A journal imported when ids were hashes: its rows are still recognised by their key
    (brand, country, channel, sent_at), and later files extend it with whole-key ids."""
    import_csv(study, FIRST, 72)
    con = sqlite3.connect(journal_path(study))
    with con:
        for (old,) in con.execute("SELECT probe_id FROM probes").fetchall():
            b, c, ch, at = con.execute(
                "SELECT brand, country, channel, sent_at FROM probes WHERE probe_id = ?", (old,)
            ).fetchone()
            legacy = old_pid(b, c, ch, at)
            con.execute("UPDATE probes SET probe_id = ? WHERE probe_id = ?", (legacy, old))
            con.execute(
                "UPDATE replies SET probe_id = ?, reply_id = ? WHERE probe_id = ?",
                (legacy, f"{legacy}-reply", old),
            )
    con.close()
    before = digest(journal_path(study))

    lines = problems(study, FIRST)

    assert len(lines) == 6
    assert lines[0] == (
        f"{FIRST}:2: this probe (same brand, country, channel and sent_at) is already in the "
        f"journal as {old_pid('kaito', 'DE', 'x', '2026-03-02T09:05:00.000Z')}; remove the row "
        "(it was imported before)"
    )
    assert digest(journal_path(study)) == before
    summary = import_csv(study, MORE, 72)
    assert summary.probes == 2
    probes = read_table(study, "probes").set_index("probe_id")
    assert len(probes) == 8
    assert probes.loc[pid("brenner", "GB", "x", "2026-03-10T12:00:00.000Z"), "state"] == "sent"
    rounds = probes[(probes.brand == "kaito") & (probes.country == "DE")]
    assert rounds.sort_values("sent_at")["round"].tolist() == [1, 2, 3]


def test_a_header_with_sent_gets_told_sent_at(study: Path, tmp_path: Path) -> None:
    path = write(tmp_path, "brand,country,channel,Sent,Replied\nkaito,DE,x,2026-03-02T10:00Z,\n")
    shape = (
        "required: brand, country, channel, sent_at, replied_at; optional: handle, scope, "
        "script, slot, reply_kind, reply_text, inquiry_text, brand_name, sector"
    )
    assert problems(study, path) == [
        f"{path}:1: has the column 'Sent'; rename it 'sent_at' ({shape})",
        f"{path}:1: has the column 'Replied'; rename it 'replied_at' ({shape})",
    ]


def test_an_import_removes_the_temporary_of_one_that_was_killed(study: Path) -> None:
    """A `kill -9` while an import built the journal leaves an empty `.journal.sqlite.*.tmp`
    (study.atomic shows the kill itself); the next import, creating or extending, removes it."""
    folder = journal_path(study).parent
    folder.mkdir(parents=True)
    (folder / ".journal.sqlite.k1ll3d.tmp").write_bytes(b"")
    import_csv(study, FIRST, 72)
    assert sorted(p.name for p in folder.iterdir()) == ["journal.sqlite"]
    (folder / ".journal.sqlite.k1ll3d.tmp").write_bytes(b"")
    import_csv(study, MORE, 72)
    assert ".journal.sqlite.k1ll3d.tmp" not in [p.name for p in folder.iterdir()]


@pytest.mark.parametrize(
    ("columns", "values", "message"),
    [
        ("handle", "Kaito\u202eevil",
         "handle holds a hidden direction control (U+202E) that reorders the text shown around "
         "it; delete it (retype the value if you cannot see it)"),
        ("script", "s\u2067x", "script holds a hidden direction control (U+2067) that reorders "
         "the text shown around it; delete it (retype the value if you cannot see it)"),
        ("slot", "day\x1b[2J", "slot holds a control character (U+001B); write it as plain "
         "text on one line"),
        ("handle", "k" * 10_000, "handle is 10,000 characters long; shorten it to at most 254"),
    ],
)  # fmt: skip
def test_a_name_that_cannot_be_shown_as_it_is_is_refused(
    study: Path, tmp_path: Path, columns: str, values: str, message: str
) -> None:
    path = write(tmp_path, f"{HEADER},{columns}\nkaito,DE,x,2026-03-02T10:00:00Z,,{values}\n")
    assert problems(study, path) == [f"{path}:2: {message}"]
    assert not journal_path(study).exists()


def test_a_long_brand_or_country_is_refused_without_quoting_it(study: Path, tmp_path: Path) -> None:
    brand, country = "k" * 10_000, "D\u202eE"
    path = write(tmp_path, f"{HEADER}\n{brand},{country},x,2026-03-02T10:00:00Z,\n")
    lines = problems(study, path)
    assert lines == [
        f"{path}:2: brand is 10,000 characters long; shorten it to at most 64",
        f"{path}:2: country holds a hidden direction control (U+202E) that reorders the text "
        "shown around it; delete it (retype the value if you cannot see it)",
    ]
