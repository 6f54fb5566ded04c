"""The CSV reading shared by the importers: line numbers, header hints, times, reply kinds."""

from __future__ import annotations

from datetime import UTC, datetime

from study.csvrows import check_header, check_reply, parse_time, read_sheet, reply_kind
from study.errors import Problem


def test_rows_carry_their_physical_line_and_defaults() -> None:
    out: list[Problem] = []
    text = 'a,b\n\n"x\ny",1\n2\n3,4\n'
    sheet = read_sheet(text, "f.csv", ("a", "b", "c"), lambda line, header: True, out)
    assert sheet is not None and sheet.header == ["a", "b"]
    assert sheet.rows == [(3, {"a": "x\ny", "b": "1", "c": ""}), (6, {"a": "3", "b": "4", "c": ""})]
    assert [str(p) for p in out] == [
        "f.csv:5: has 1 values but the header has 2; give every row all of them (an empty one "
        "is just ',,') and quote a value with a comma"
    ]


def test_an_empty_text_has_no_header() -> None:
    sheet = read_sheet("\n ,\n", "f.csv", (), lambda line, header: True, [])
    assert sheet is not None and sheet.header is None and sheet.rows == []


def test_a_misspelt_column_gets_a_rename_hint() -> None:
    out: list[Problem] = []
    assert not check_header("f.csv", 1, ["brnd", "x"], ("brand",), ("note",), "S", out)
    assert [str(p) for p in out] == [
        "f.csv:1: has the column 'brnd'; rename it 'brand' (S)",
        "f.csv:1: has an unknown column 'x'; remove it (S)",
    ]


def test_a_time_must_carry_an_offset() -> None:
    bad: list[str] = []
    assert parse_time("sent_at", "2026-03-02T14:05:00Z", bad) == datetime(
        2026, 3, 2, 14, 5, tzinfo=UTC
    )
    assert parse_time("sent_at", "2026-03-02T14:05", bad) is None
    assert parse_time("sent_at", "soon", bad) is None
    assert bad == [
        "sent_at '2026-03-02T14:05' has no UTC offset; add the one of the clock it was read "
        "from, e.g. '2026-03-02T14:05Z' or '2026-03-02T14:05+01:00'",
        "sent_at 'soon' is not an ISO 8601 time; write it like 2026-03-02T14:05:00+01:00",
    ]


def test_reply_kind_and_reply_columns() -> None:
    bad: list[str] = []
    assert reply_kind("", bad) == "public_reply"
    assert reply_kind("redirct", bad) == "redirct"
    sent, replied = datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)
    check_reply({"sent_at": "s", "replied_at": "r"}, sent, replied, bad)
    check_reply({"replied_at": "", "reply_kind": "", "reply_text": "hi"}, None, None, bad)
    assert bad == [
        "reply_kind 'redirct' is unknown (did you mean 'redirect'?); use one of public_reply, "
        "direct_message, redirect, auto_ack",
        "replied_at r is before sent_at s; check both times and their UTC offsets",
        "reply_text is given but replied_at is empty; add the reply's time or clear reply_text",
    ]


def test_each_near_miss_gets_the_column_it_means_once() -> None:
    out: list[Problem] = []
    header = ["brand", "Country", "CHANNEL", "Sent", "sent time", "Replied", "reply", "Notes"]
    required = ("brand", "country", "channel", "sent_at", "replied_at")
    optional = ("reply_kind", "reply_text")
    assert not check_header("f.csv", 1, header, required, optional, "S", out)
    assert [str(p) for p in out] == [
        "f.csv:1: has the column 'Country'; rename it 'country' (S)",
        "f.csv:1: has the column 'CHANNEL'; rename it 'channel' (S)",
        "f.csv:1: has the column 'Sent'; rename it 'sent_at' (S)",
        "f.csv:1: has an unknown column 'sent time'; remove it (S)",  # sent_at is taken
        "f.csv:1: has the column 'Replied'; rename it 'replied_at' (S)",
        "f.csv:1: has an unknown column 'reply'; remove it (S)",  # reply_kind or reply_text?
        "f.csv:1: has an unknown column 'Notes'; remove it (S)",
    ]


def test_a_column_with_more_words_or_another_spelling_is_recognised() -> None:
    from study.csvrows import suggest_column

    known = ["sent_at", "replied_at", "inquiry_text", "reply_text"]
    assert suggest_column("sent_at_utc", known) == "sent_at"
    assert suggest_column("Inquiry", known) == "inquiry_text"
    assert suggest_column("Reply-Text", known) == "reply_text"
    assert suggest_column("repled_at", known) == "replied_at"
    assert suggest_column("platform", known) is None
    assert suggest_column("  ", known) is None
