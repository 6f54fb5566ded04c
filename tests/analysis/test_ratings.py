"""Quality coding: blind sheets, importing filled sheets, quality per brand, and alpha."""

from __future__ import annotations

import csv
import hashlib
import io
import sqlite3
from pathlib import Path

import krippendorff
import numpy as np
import pytest
from scipy import stats

from analysis.export import read_table
from analysis.imports import import_csv
from analysis.ratings import (
    MIN_RATED,
    SHEET_COLUMNS,
    blind,
    import_ratings,
    ordinal_alpha,
    quality,
    rating_sheet,
    satisfaction_interval,
)
from study.errors import StudyError, StudyProblems
from study.paths import journal_path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "analysis"
NAMES = ("kaito", "kaitode", "kaitocare", "brenner", "brennerauto", "service@brenner.example")
# The answered probes' replies, by a phrase that survives blinding.
KAITO_1, KAITO_2, BRENNER = "Bestellnummer", "Please DM us", "book a slot"


@pytest.fixture
def study(tmp_path: Path) -> Path:
    """The hand-collected fixture plus two more replies to the first kaito probe: an earlier
    auto-acknowledgement and a later answer, neither of which is its first response."""
    study = tmp_path / "study"
    import_csv(study, FIXTURES / "hand_collected.csv", 72)
    probes = read_table(study, "probes").set_index("text")
    first = probes.loc["@KaitoDE Hallo, wo ist meine Bestellung?", "probe_id"]
    con = sqlite3.connect(journal_path(study))
    con.executemany(
        "INSERT INTO replies (channel, reply_id, probe_id, author, author_id, text, created_at,"
        " kind, seen_at) VALUES ('x', ?, ?, 'KaitoDE', '42', ?, ?, ?, ?)",
        [
            ("ack", first, "Automatic reply", "2026-03-02T09:06:00.000Z", "auto_ack", "x"),
            ("late", first, "A second answer", "2026-03-02T12:00:00.000Z", "public_reply", "x"),
        ],
    )
    con.commit()
    con.close()
    return study


def read_sheet(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def probe_of(study: Path, phrase: str) -> str:
    replies = read_table(study, "replies")
    return str(replies[replies.text.str.contains(phrase)].probe_id.iloc[0])


def fill(sheet: Path, out: Path, scores: dict[str, tuple[str, str]], rater: str = "") -> Path:
    """Fill `sheet` by reply phrase -> (satisfaction, answered), as a rater would."""
    rows = read_sheet(sheet)
    for row in rows:
        for phrase, (satisfaction, answered) in scores.items():
            if phrase in row["reply_text"]:
                row["satisfaction"], row["answered"] = satisfaction, answered
        if rater:
            row["rater"] = rater
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=SHEET_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    out.write_text(buf.getvalue(), encoding="utf-8")
    return out


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_sheet_has_one_blind_row_per_answered_probe(study: Path, tmp_path: Path) -> None:
    out = tmp_path / "ab.csv"
    assert rating_sheet(study, "AB", out) == 3  # the auto-acknowledged probe is not rated

    text = out.read_text(encoding="utf-8")
    for name in NAMES:
        assert name not in text.lower()
    rows = read_sheet(out)
    assert list(rows[0]) == list(SHEET_COLUMNS)
    assert {r["rater"] for r in rows} == {"AB"}
    assert all(r["satisfaction"] == r["answered"] == r["note"] == "" for r in rows)
    assert all(r["item"].startswith("q") and len(r["item"]) == 17 for r in rows)
    by_reply = {r["reply_text"]: r["inquiry_text"] for r in rows}
    assert by_reply == {
        "@[account] Hallo! Bitte nenne uns deine Bestellnummer.": (
            "@[account] Hallo, wo ist meine Bestellung?"
        ),
        "@[account] Please DM us with your order number. [brand] Team": (
            "@[account] Wie kann ich etwas zurückgeben?"
        ),
        "Dear customer, [brand] service here: book a slot online.": (
            "Hello, my car needs a service."
        ),
    }


def test_each_rater_gets_a_fixed_order_of_their_own(study: Path, tmp_path: Path) -> None:
    for name in ("a1", "a2", "b", "c"):
        rating_sheet(study, "Anna" if name[0] == "a" else name, tmp_path / f"{name}.csv")
    order = {
        n: [r["item"] for r in read_sheet(tmp_path / f"{n}.csv")] for n in ("a1", "a2", "b", "c")
    }
    assert order["a1"] == order["a2"]
    assert sorted(order["a1"]) == sorted(order["b"]) == sorted(order["c"])
    assert len({tuple(o) for o in order.values()}) > 1


def test_a_sheet_never_overwrites_a_file(study: Path, tmp_path: Path) -> None:
    out = tmp_path / "ab.csv"
    out.write_text("my ratings so far")
    with pytest.raises(StudyError, match="already exists; choose another --out"):
        rating_sheet(study, "AB", out)
    assert out.read_text() == "my ratings so far"
    with pytest.raises(StudyError, match="the rater's name is empty"):
        rating_sheet(study, "  ", tmp_path / "x.csv")


def test_blinding_masks_mentions_and_names_as_whole_words() -> None:
    names = ["kaito-motors", "KaitoCare", "motors"]
    assert blind("@KaitoCare: Kaito-Motors and KAITOCARE, not kaitocares", names) == (
        "@[account]: [brand] and [brand], not kaitocares"
    )
    assert blind("mail me@kaitocare.example", names) == "mail me@[brand].example"
    assert blind("SpotifyCares: Spotify, spot, spots, Spotifies", ["SpotifyCares"]) == (
        "[brand]: [brand], [brand], spots, Spotifies"
    )
    assert blind("Email service for [brand]", ["service@brand.example"]) == (
        "Email service for [brand]"
    )


def test_a_filled_sheet_round_trips_into_the_ratings_table(study: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "ab.csv"
    rating_sheet(study, "AB", sheet)
    scores = {
        KAITO_1: ("5", "yes"),
        KAITO_2: ("so-so", "Partly"),
        BRENNER: ("Less Satisfied", "no"),
    }
    filled = fill(sheet, tmp_path / "ab-filled.csv", scores)
    assert import_ratings(study, filled) == 3

    con = sqlite3.connect(journal_path(study))
    rows = con.execute("SELECT probe_id, rater, satisfaction, answered FROM ratings").fetchall()
    con.close()
    assert sorted(rows) == sorted(
        [
            (probe_of(study, KAITO_1), "AB", 5, "yes"),
            (probe_of(study, KAITO_2), "AB", 3, "partly"),
            (probe_of(study, BRENNER), "AB", 4, "no"),
        ]
    )


def test_a_new_sheet_from_the_same_rater_replaces_their_ratings(
    study: Path, tmp_path: Path
) -> None:
    sheet = tmp_path / "ab.csv"
    rating_sheet(study, "AB", sheet)
    import_ratings(study, fill(sheet, tmp_path / "1.csv", {KAITO_1: ("1", "no")}))
    import_ratings(study, fill(sheet, tmp_path / "2.csv", {KAITO_1: ("4", "yes")}))
    import_ratings(study, fill(sheet, tmp_path / "3.csv", {KAITO_1: ("2", "no")}, rater="CD"))
    con = sqlite3.connect(journal_path(study))
    rows = con.execute("SELECT rater, satisfaction FROM ratings ORDER BY rater").fetchall()
    con.close()
    assert rows == [("AB", 4), ("CD", 2)]


RANGE = "use 1 (very dissatisfied) to 5 (satisfied)"


@pytest.mark.parametrize(
    ("satisfaction", "answered", "messages"),
    [
        ("7", "yes", [f"satisfaction 7 is out of range 1-5; {RANGE}"]),
        ("0", "yes", [f"satisfaction 0 is out of range 1-5; {RANGE}"]),
        ("3.5", "yes", [f"satisfaction 3.5 is out of range 1-5; {RANGE}"]),
        ("great", "yes", [f"satisfaction 'great' is not on the scale; {RANGE}, or its words"]),
        ("", "yes", [f"satisfaction is empty; {RANGE}"]),
        ("4", "maybe", ["answered is 'maybe'; write yes, partly or no"]),
        ("4", "", ["answered is empty; write yes, partly or no"]),
        ("9", "y", [
            f"satisfaction 9 is out of range 1-5; {RANGE}",
            "answered is 'y'; write yes, partly or no",
        ]),
    ],
)  # fmt: skip
def test_each_bad_rating_names_file_line_and_fix(
    study: Path, tmp_path: Path, satisfaction: str, answered: str, messages: list[str]
) -> None:
    sheet = tmp_path / "ab.csv"
    rating_sheet(study, "AB", sheet)
    filled = fill(sheet, tmp_path / "f.csv", {KAITO_1: (satisfaction, answered)})
    line = 2 + [r["reply_text"] for r in read_sheet(filled)].index(
        "@[account] Hallo! Bitte nenne uns deine Bestellnummer."
    )
    before = digest(journal_path(study))
    with pytest.raises(StudyProblems) as e:
        import_ratings(study, filled)
    assert str(e.value).splitlines() == [f"{filled}:{line}: {m}" for m in messages]
    assert digest(journal_path(study)) == before


def test_unknown_and_repeated_items_are_refused(study: Path, tmp_path: Path) -> None:
    rating_sheet(study, "AB", tmp_path / "ab.csv")
    item = read_sheet(tmp_path / "ab.csv")[0]["item"]
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "rater,item,satisfaction,answered\n"
        f"AB,{item},5,yes\nAB,qdeadbeefdeadbeef,4,no\nAB,{item},4,no\n,{item},3,no\n"
    )
    with pytest.raises(StudyProblems) as e:
        import_ratings(study, bad)
    assert str(e.value).splitlines() == [
        f"{bad}:3: item 'qdeadbeefdeadbeef' is not in this study's journal; rate the items of "
        "a sheet made by rating-sheet for this study",
        f"{bad}:4: rates item {item} again (see line 2); keep one row",
        f"{bad}:5: rater is empty; write the rater's name as on the sheet",
    ]


def test_unrated_rows_are_skipped_and_a_study_without_sheets_is_refused(
    study: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "r.csv"
    bad.write_text("rater,item,satisfaction,answered\nAB,q1,5,yes\n")
    with pytest.raises(StudyError, match="no rating sheets yet; make them with rating-sheet"):
        import_ratings(study, bad)
    sheet = tmp_path / "ab.csv"
    rating_sheet(study, "AB", sheet)
    assert import_ratings(study, sheet) == 0


def test_quality_averages_over_raters_then_probes(study: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "ab.csv"
    rating_sheet(study, "A", sheet)
    a = {KAITO_1: ("5", "yes"), KAITO_2: ("3", "partly"), BRENNER: ("4", "yes")}
    b = {KAITO_1: ("4", "yes"), KAITO_2: ("2", "no"), BRENNER: ("4", "partly")}
    import_ratings(study, fill(sheet, tmp_path / "a.csv", a))
    import_ratings(study, fill(sheet, tmp_path / "b.csv", b, rater="B"))

    q = quality(study)
    assert (q["raters"], q["probes_rated"], q["ratings"]) == (["A", "B"], 3, 6)
    kaito, brenner = q["brands"]["kaito"], q["brands"]["brenner"]
    assert kaito["probes"] == 2
    assert kaito["satisfaction_mean"] == pytest.approx(3.5)
    assert kaito["satisfaction_low"] is kaito["satisfaction_high"] is None  # below MIN_RATED
    assert kaito["answered_score"] == pytest.approx((1 + 0.25) / 2)
    shares = [kaito[f"answered_{w}"] for w in ("yes", "partly", "no")]
    assert shares == pytest.approx([0.5, 0.25, 0.25])
    assert brenner["satisfaction_low"] is None
    assert brenner["answered_score"] == pytest.approx(0.75)
    expected = krippendorff.alpha(
        reliability_data=[[5, 3, 4], [4, 2, 4]], level_of_measurement="ordinal"
    )
    assert q["alpha_satisfaction"] == pytest.approx(expected, rel=1e-12)
    expected_answered = krippendorff.alpha(
        reliability_data=[[2, 1, 2], [2, 0, 1]], level_of_measurement="ordinal"
    )
    assert q["alpha_answered"] == pytest.approx(expected_answered, rel=1e-12)


def test_ordinal_alpha_matches_the_krippendorff_package_with_missing_values() -> None:
    rng = np.random.default_rng(20260302)
    checked = 0
    for _ in range(300):
        raters, units = rng.integers(2, 6), rng.integers(3, 40)
        truth = rng.integers(1, 6, size=units)
        data = np.clip(truth + rng.integers(-1, 2, size=(raters, units)), 1, 5).astype(float)
        data[rng.random(size=data.shape) < rng.uniform(0, 0.5)] = np.nan
        pairable = (np.sum(~np.isnan(data), axis=0) >= 2).sum()
        values = np.unique(data[:, np.sum(~np.isnan(data), axis=0) >= 2])
        values = values[~np.isnan(values)]
        if pairable < 1 or len(values) < 2:
            continue
        units_list = [[None if np.isnan(v) else float(v) for v in data[:, u]] for u in range(units)]
        expected = krippendorff.alpha(reliability_data=data, level_of_measurement="ordinal")
        assert ordinal_alpha(units_list) == pytest.approx(expected, rel=1e-9, abs=1e-12)
        checked += 1
    assert checked > 250


def test_ordinal_alpha_is_one_for_perfect_agreement_and_none_when_undefined() -> None:
    assert ordinal_alpha([[1, 1], [3, 3], [5, 5, None]]) == pytest.approx(1.0)
    assert ordinal_alpha([[4, 4], [4, 4]]) is None  # one value: no expected disagreement
    assert ordinal_alpha([[4, None], [None, 2]]) is None  # no unit rated twice


def test_the_satisfaction_interval_is_scipys_percentile_bootstrap() -> None:
    rng = np.random.default_rng(7)
    for n in (MIN_RATED, 25, 140):
        values = rng.choice([1.0, 1.5, 2.0, 3.0, 4.5, 5.0], size=n, p=[0.5, 0.2, 0.1, 0.1, 0, 0.1])
        low, high = satisfaction_interval(values, "kaito")
        expected = stats.bootstrap(
            (values,),
            np.mean,
            method="percentile",
            n_resamples=20_000,
            rng=np.random.default_rng(1),
        ).confidence_interval
        # Two Monte Carlo estimates of the same quantiles: a few hundredths apart at most.
        assert low == pytest.approx(expected.low, abs=0.05)
        assert high == pytest.approx(expected.high, abs=0.05)
        assert 1 <= low <= values.mean() <= high <= 5
    assert satisfaction_interval(values, "kaito") == satisfaction_interval(values, "kaito")


def test_the_satisfaction_interval_stays_on_the_scale_and_needs_min_rated_probes() -> None:
    # Issue 9: three ratings 1, 1, 2 gave "1.3, 95% CI -0.1-2.8" (a t-interval).
    assert satisfaction_interval([1.0, 1.0, 2.0], "kaito") == (None, None)
    assert satisfaction_interval([1.0] * (MIN_RATED - 1), "kaito") == (None, None)
    low, high = satisfaction_interval([1.0] * (MIN_RATED - 1) + [5.0], "kaito")
    assert low is not None and high is not None
    assert 1.0 <= low < high <= 5.0
    assert satisfaction_interval([5.0] * MIN_RATED, "kaito") == (5.0, 5.0)


def test_strangers_and_late_replies_are_not_rated(study: Path, tmp_path: Path) -> None:
    """Issue 9: a stranger's reply was the "first response" on the sheet, so a brand that
    answered once was published as "Responses rated 3". Only the brand's first response
    within the window goes on a sheet, and only ratings of answered probes count."""
    probes = read_table(study, "probes").set_index("text")
    unanswered = probes.loc["@KaitoCare Hi! Where is my order?", "probe_id"]
    first = probes.loc["@KaitoDE Hallo, wo ist meine Bestellung?", "probe_id"]
    con = sqlite3.connect(journal_path(study))
    con.executemany(
        "INSERT INTO replies (channel, reply_id, probe_id, author, author_id, text, created_at,"
        " kind, seen_at) VALUES ('x', ?, ?, ?, '7', ?, ?, ?, 'x')",
        [  # a stranger before the brand, a stranger alone, the brand after the window
            (
                "s1",
                first,
                "@maria_k_83",
                "Same here, no parcel",
                "2026-03-02T09:10:00.000Z",
                "public_reply",
            ),
            ("s2", unanswered, "maria_k_83", "Me too", "2026-03-03T10:00:00.000Z", "redirect"),
            (
                "after-window",
                unanswered,
                "KaitoCare",
                "Sorry for the wait",
                "2026-03-06T10:00:00.000Z",
                "public_reply",
            ),
        ],
    )
    con.commit()
    con.close()
    sheet = tmp_path / "ab.csv"
    assert rating_sheet(study, "AB", sheet) == 3
    texts = {r["reply_text"] for r in read_sheet(sheet)}
    assert "@[account] Hallo! Bitte nenne uns deine Bestellnummer." in texts
    assert not texts & {"Same here, no parcel", "Me too", "Sorry for the wait"}

    import_ratings(study, fill(sheet, tmp_path / "a.csv", {KAITO_1: ("5", "yes")}))
    con = sqlite3.connect(journal_path(study))  # as an older sheet carrying the stranger did
    con.execute(
        "INSERT INTO ratings VALUES (?, 'AB', 1, 'no', '', '2026-03-08T00:00:00.000Z')",
        (unanswered,),
    )
    con.commit()
    con.close()
    q = quality(study)
    assert (q["probes_rated"], q["brands"]["kaito"]["probes"]) == (1, 1)
    assert q["brands"]["kaito"]["satisfaction_mean"] == 5


def test_quality_without_ratings_is_empty(study: Path) -> None:
    assert quality(study) == {
        "raters": [],
        "probes_rated": 0,
        "ratings": 0,
        "alpha_satisfaction": None,
        "alpha_answered": None,
        "min_rated_for_interval": MIN_RATED,
        "brands": {},
    }
