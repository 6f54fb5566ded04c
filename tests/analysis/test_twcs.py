"""The TWCS passive corpus: a hand-checked small file, and the real sample against pandas."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis import twcs, twcs_file
from analysis.export import read_table
from analysis.twcs import TwcsSummary, import_twcs
from study.errors import StudyError, StudyProblems
from study.journal.tables import open_journal
from study.kinds import classify_public_text
from study.paths import journal_path

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests" / "fixtures" / "analysis" / "twcs_small.csv"
SAMPLE = ROOT.parent / "shared" / "fixtures" / "twcs" / "twcs_head5000.csv"
needs_sample = pytest.mark.skipif(
    not SAMPLE.exists(),
    reason="../shared/fixtures/twcs/twcs_head5000.csv is absent (the TWCS data set is "
    "CC BY-NC-SA and is not copied into the project)",
)

# Worked out by hand from twcs_small.csv (see tests/fixtures/analysis/README.md):
# probe, brand, handle, slot, sent_at, slot start, slot end, state, reply, kind, replied_at.
EXPECTED = [
    ("twcs-1", "acmehelp", "AcmeHelp", "business", "2017-10-30T10:00", "2017-10-30T09:00",
     "2017-10-30T17:00", "closed", "3", "redirect", "2017-10-30T10:20"),
    ("twcs-7", "betacare", "BetaCare", "night", "2017-10-31T23:30", "2017-10-31T22:00",
     "2017-11-01T00:00", "closed", "8", "public_reply", "2017-11-01T00:10"),
    ("twcs-10", "betacare", "BetaCare", "evening", "2017-11-01T18:30", "2017-11-01T17:00",
     "2017-11-01T22:00", "closed", "11", "auto_ack", "2017-11-01T19:00"),
    ("twcs-17", "betacare", "BetaCare", "business", "2017-11-02T16:00", "2017-11-02T09:00",
     "2017-11-02T17:00", "closed", None, None, None),
    ("twcs-13", "betacare", "BetaCare", "night", "2017-11-03T08:59:59", "2017-11-03T00:00",
     "2017-11-03T09:00", "closed", "14", "public_reply", "2017-11-05T09:00"),
    ("twcs-4", "acmehelp", "AcmeHelp", "weekend", "2017-11-04T12:00", "2017-11-04T00:00",
     "2017-11-05T00:00", "sent", None, None, None),
    ("twcs-16", "acmehelp", "AcmeHelp", "business", "2017-11-06T11:00", "2017-11-06T09:00",
     "2017-11-06T17:00", "sent", None, None, None),
]  # fmt: skip


def z(minutes: str | None) -> str | None:
    """'2017-10-30T10:00' -> '2017-10-30T10:00:00.000Z'."""
    if minutes is None:
        return None
    return (minutes + ":00" if minutes.count(":") == 1 else minutes) + ".000Z"


def journal_rows(study: Path) -> list[tuple[object, ...]]:
    con = open_journal(study)
    try:
        return con.execute(
            "SELECT p.probe_id, p.brand, p.handle, p.slot, p.sent_at, p.slot_start_at,"
            " p.slot_end_at, p.state, r.reply_id, r.kind, r.created_at FROM probes AS p"
            " LEFT JOIN replies AS r USING (probe_id) ORDER BY p.sent_at"
        ).fetchall()
    finally:
        con.close()


def test_the_small_file_gives_the_hand_checked_pairs(tmp_path: Path) -> None:
    study = tmp_path / "corpus"
    summary = import_twcs(SMALL, study)

    assert summary == TwcsSummary(
        journal=journal_path(study),
        tweets=18,
        brands=2,
        inquiries=7,
        responses=4,
        closed=5,
        last_observation=summary.last_observation,
    )
    assert summary.last_observation.isoformat() == "2017-11-06T12:00:00+00:00"
    expected = [
        (p, b, h, s, z(at), z(start), z(end), state, r, k, z(rt))
        for p, b, h, s, at, start, end, state, r, k, rt in EXPECTED
    ]
    assert journal_rows(study) == expected

    probes = read_table(study, "probes").set_index("probe_id")
    assert probes.loc["twcs-7", "text"] == "@BetaCare\r\rmy phone broke"
    assert probes.loc["twcs-17", "text"] == '@BetaCare, my bill has a "mystery" fee'
    assert set(probes.country) == {"ZZ"}
    assert set(probes.channel) == {"x"}
    assert set(probes.script) == {"passive"}
    assert set(probes.scope) == {"local"}
    assert probes.loc["twcs-4", "closes_at"] == "2017-11-07T12:00:00.000Z"
    assert probes.loc["twcs-13", "closed_at"] == "2017-11-06T08:59:59.000Z"
    assert probes.loc["twcs-10", "message_id"] == "10"
    replies = read_table(study, "replies").set_index("reply_id")
    assert replies.loc["11", "text"] == (
        "@115805 Hi,\nthis is an automatic reply. We will get back to you."
    )
    assert replies.loc["3", "in_reply_to"] == "1"
    assert replies.loc["3", "author"] == "AcmeHelp"
    con = sqlite3.connect(journal_path(study))
    meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    assert con.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    con.close()
    assert meta["source"] == "twcs"
    assert meta["window_hours"] == "72.0"
    assert meta["last_observation"] == "2017-11-06T12:00:00.000Z"


def test_the_window_decides_which_probes_are_closed(tmp_path: Path) -> None:
    summary = import_twcs(SMALL, tmp_path / "corpus", window_hours=24)
    assert summary.closed == 6  # all but twcs-16, asked an hour before the as-of time


def test_crlf_line_ends_read_the_same(tmp_path: Path) -> None:
    crlf = tmp_path / "crlf.csv"
    crlf.write_bytes(SMALL.read_bytes().replace(b"\n", b"\r\n"))
    import_twcs(crlf, tmp_path / "a")
    rows = journal_rows(tmp_path / "a")
    assert [r[0] for r in rows] == [e[0] for e in EXPECTED]
    texts = read_table(tmp_path / "a", "replies").set_index("reply_id").text
    assert texts["11"] == "@115805 Hi,\nthis is an automatic reply. We will get back to you."


@given(st.binary(max_size=60).map(lambda b: bytes(b"\r\na,"[x % 4] for x in b)), st.integers(1, 7))
def test_only_bare_carriage_returns_are_replaced(data: bytes, chunk: int) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        src, folder = Path(tmp) / "in", Path(tmp) / "copy"
        src.write_bytes(data)
        folder.mkdir()
        old, twcs_file._CHUNK = twcs_file._CHUNK, chunk
        try:
            read = twcs_file.without_bare_cr(src, folder)
        finally:
            twcs_file._CHUNK = old
        assert read.read_bytes() == data.replace(b"\r\n", b"\n").replace(b"\r", b"\x1e")
        # the file itself when it has no CR to replace, else a copy (the original untouched)
        assert (read == src) == (b"\r" not in data)
        assert src.read_bytes() == data


def test_a_folder_with_a_journal_is_refused(tmp_path: Path) -> None:
    import_twcs(SMALL, tmp_path / "corpus")
    with pytest.raises(StudyError, match="already has a journal; import the corpus into a new"):
        import_twcs(SMALL, tmp_path / "corpus")


def test_a_file_without_the_twcs_columns_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("tweet_id,author,inbound,created_at,text\n1,a,True,x,y\n")
    with pytest.raises(StudyProblems) as e:
        import_twcs(bad, tmp_path / "corpus")
    shape = "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id"
    assert str(e.value).splitlines() == [
        f"{bad}:1: has no column '{c}'; a TWCS file's header is {shape}"
        for c in ("author_id", "response_tweet_id", "in_response_to_tweet_id")
    ]
    assert not journal_path(tmp_path / "corpus").exists()


def test_bad_times_and_repeated_tweets_are_reported(tmp_path: Path) -> None:
    lines = SMALL.read_bytes().decode().split("\n")[:-1]  # not splitlines(): it splits at CR
    lines[2] = lines[2].replace("Mon Oct 30 10:00:00 +0000 2017", "30/10/2017 10:00")
    lines.append(lines[-1])
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(StudyProblems) as e:
        import_twcs(bad, tmp_path / "corpus")
    assert str(e.value).splitlines() == [
        f"{bad}: tweet 1: created_at '30/10/2017 10:00' is not a time like "
        "'Tue Oct 31 22:10:47 +0000 2017'; correct or remove the row",
        f"{bad}: tweet 17 appears more than once; keep one row",
    ]
    assert not journal_path(tmp_path / "corpus").exists()


def test_an_unreadable_row_is_a_study_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(SMALL.read_bytes().replace(b",3,AcmeHelp,", b",three,AcmeHelp,"))
    with pytest.raises(StudyProblems) as e:
        import_twcs(bad, tmp_path / "corpus")
    assert str(e.value) == (
        f'{bad}:4: not readable as a TWCS file (Error when converting column "tweet_id". '
        "Could not convert string \"three\" to 'BIGINT'); check that it is the CSV of the "
        "Customer Support on Twitter data set"
    )


def pandas_pairs(path: Path) -> tuple[dict[int, str], dict[int, int], dict[int, str]]:
    """An independent reading: inquiries (tweet -> brand), responses, and inquiry texts."""
    df = pd.read_csv(path, lineterminator="\n", dtype={"author_id": str})
    df["text"] = df["text"].fillna("")
    df["at"] = pd.to_datetime(df["created_at"], format="%a %b %d %H:%M:%S %z %Y", utc=True)
    brands = {a.lower() for a in df.loc[~df["inbound"], "author_id"]}
    mention = re.compile(r"(?:^|[^A-Za-z0-9_])@([A-Za-z0-9_]+)")
    inquiries: dict[int, str] = {}
    texts: dict[int, str] = {}
    for row in df[df["inbound"] & df["in_response_to_tweet_id"].isna()].itertuples():
        m = mention.search(str(row.text))
        if m and m.group(1).lower() in brands:
            inquiries[int(row.tweet_id)] = m.group(1).lower()
            texts[int(row.tweet_id)] = str(row.text)
    responses: dict[int, int] = {}
    answers = df[~df["inbound"] & df["in_response_to_tweet_id"].notna()]
    for row in answers.sort_values(["at", "tweet_id"]).itertuples():
        parent = int(row.in_response_to_tweet_id)
        if inquiries.get(parent) == str(row.author_id).lower() and parent not in responses:
            responses[parent] = int(row.tweet_id)
    return inquiries, responses, texts


@needs_sample
def test_the_real_sample_matches_an_independent_pandas_reading(tmp_path: Path) -> None:
    study = tmp_path / "corpus"
    summary = import_twcs(SAMPLE, study)
    inquiries, responses, texts = pandas_pairs(SAMPLE)

    assert summary.tweets == 5000
    assert (summary.inquiries, summary.responses, summary.brands) == (767, 724, 64)
    assert summary.inquiries == len(inquiries)
    assert summary.responses == len(responses)
    assert summary.brands == len(set(inquiries.values()))
    probes = read_table(study, "probes")
    assert dict(zip(probes.message_id.astype(int), probes.brand, strict=True)) == inquiries
    assert dict(zip(probes.message_id.astype(int), probes.text, strict=True)) == texts
    replies = read_table(study, "replies")
    got = dict(zip(replies.in_reply_to.astype(int), replies.reply_id.astype(int), strict=True))
    assert got == responses
    assert replies.kind.tolist() == [classify_public_text(t).value for t in replies.text]
    assert set(replies.kind) == {"public_reply", "redirect"}
    assert summary.last_observation.isoformat() == "2017-12-03T18:52:36+00:00"


def test_a_file_without_tweets_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(SMALL.read_bytes().split(b"\n")[0] + b"\n")
    with pytest.raises(StudyError) as e:
        import_twcs(empty, tmp_path / "corpus")
    assert str(e.value) == f"{empty}:2: has no tweets under the header; import a file with rows"
    assert not journal_path(tmp_path / "corpus").exists()


def test_an_empty_text_is_stored_as_empty(tmp_path: Path) -> None:
    data = SMALL.read_bytes().replace(b"@115807 Sorry for the wait. Try a restart first.", b"")
    path = tmp_path / "t.csv"
    path.write_bytes(data)
    import_twcs(path, tmp_path / "corpus")
    replies = read_table(tmp_path / "corpus", "replies").set_index("reply_id")
    assert (replies.loc["14", "text"], replies.loc["14", "kind"]) == ("", "public_reply")


def test_an_over_long_author_id_is_cut_to_the_length_a_name_may_have(tmp_path: Path) -> None:
    brand = "Acme" + "x" * 296  # a Twitter name has 15 characters; a corrupt file may not
    path = tmp_path / "long.csv"
    path.write_text(
        "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"
        f"1,115801,True,Mon Oct 30 10:00:00 +0000 2017,@{brand} my order is late,2,\n"
        f"2,{brand},False,Mon Oct 30 10:20:00 +0000 2017,@115801 Sorry!,,1\n",
        encoding="utf-8",
    )
    import_twcs(path, tmp_path / "corpus")
    probes = read_table(tmp_path / "corpus", "probes")
    replies = read_table(tmp_path / "corpus", "replies")
    assert list(probes["brand"]) == [brand.lower()[:64]]
    assert list(probes["handle"]) == list(replies["author"]) == [brand[:254]]


def test_the_names_sql_removes_direction_controls_and_control_characters() -> None:
    """The mention a brand is found by cannot carry them today; the cleaning stays in place
    for any other way of finding brands."""
    import duckdb

    con = duckdb.connect()
    [(shown,)] = con.execute(
        "SELECT left(regexp_replace($name, $unshowable, '', 'g'), $brand_chars)",
        {
            "name": "Acme\u202eevil\u2066\x00\x1b[2J\u0085" + "y" * 100,
            "unshowable": twcs.SHOWN_NAME["unshowable"],
            "brand_chars": twcs.SHOWN_NAME["brand_chars"],
        },
    ).fetchall()
    assert shown == ("Acmeevil[2J" + "y" * 100)[:64]


def test_an_inquiry_is_for_the_brand_of_its_first_mention(tmp_path: Path) -> None:
    """Wherever the first @mention stands (the import looks at a leading one first), the
    brand is the one Python's `re` finds with the documented rule."""
    texts = [
        "@AcmeHelp my order is late",
        "@BetaCare @AcmeHelp which of you?",
        "hey @BetaCare and @AcmeHelp",
        "@ AcmeHelp no name after the first @, then @BetaCare",
        "@@AcmeHelp twice",
        "mail me at x@BetaCare.com or @AcmeHelp",
        "@AcmeHelp_x is no brand, @BetaCare is",
        "no mention at all",
    ]
    head = ",tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id"
    when = "Mon Oct 30 10:00:00 +0000 2017"
    rows = [f"0,1,AcmeHelp,False,{when},@1 hello,,", f"1,2,BetaCare,False,{when},@1 hello,,"]
    rows += [f'{i},{i},115801,True,{when},"{t}",,' for i, t in enumerate(texts, start=10)]
    csv = tmp_path / "mentions.csv"
    csv.write_text("\n".join([head, *rows]) + "\n", encoding="utf-8")
    import_twcs(csv, tmp_path / "corpus")

    mention = re.compile(r"(?:^|[^A-Za-z0-9_])@([A-Za-z0-9_]+)")
    found = {
        i: m.group(1).lower() for i, t in enumerate(texts, start=10) if (m := mention.search(t))
    }
    want = {i: b for i, b in found.items() if b in ("acmehelp", "betacare")}
    probes = read_table(tmp_path / "corpus", "probes")
    assert dict(zip(probes.message_id.astype(int), probes.brand, strict=True)) == want
    assert want == {
        10: "acmehelp",
        11: "betacare",
        12: "betacare",
        13: "betacare",
        14: "acmehelp",
        15: "acmehelp",
    }


def test_a_time_with_another_utc_offset_is_read_as_its_utc_instant(tmp_path: Path) -> None:
    # The real file's times are all +0000 (read by a format without the offset); any other
    # offset is still honoured.
    path = tmp_path / "offsets.csv"
    path.write_text(
        "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"
        "1,115801,True,Mon Oct 30 12:00:00 +0200 2017,@Acme my order is late,2,\n"
        "2,Acme,False,Mon Oct 30 10:20:00 +0000 2017,@115801 Sorry!,,1\n"
        "3,115802,True,Mon Oct 30 05:30:00 -0500 2017,@Acme hello?,,\n",
        encoding="utf-8",
    )
    summary = import_twcs(path, tmp_path / "corpus")
    probes = read_table(tmp_path / "corpus", "probes").set_index("probe_id")
    replies = read_table(tmp_path / "corpus", "replies")
    assert probes["sent_at"].to_dict() == {
        "twcs-1": "2017-10-30T10:00:00.000Z",
        "twcs-3": "2017-10-30T10:30:00.000Z",
    }
    assert list(replies["created_at"]) == ["2017-10-30T10:20:00.000Z"]
    assert summary.last_observation.isoformat() == "2017-10-30T10:30:00+00:00"
