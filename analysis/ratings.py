"""Quality coding: blind rating sheets, importing the filled sheets, and agreement.

The scale is the one the benchmark studies use: satisfaction 5 = satisfied, 4 = less
satisfied, 3 = so-so, 2 = dissatisfied, 1 = very dissatisfied (a sheet may hold the number
or the words, in any case), and whether the reply answered the question: yes, partly or no.

A sheet has one row per answered probe (its inquiry and its first response: a public reply,
direct message or redirect by the brand within the window, as `study.journal.answers` defines it)
and no brand, handle, country or author: @mentions become `@[account]`; the brand's
identifier, handle and author, each 4+ letter part of the identifier, and any 4+ letter word
that begins a handle (`Spotify` for `SpotifyCares`) become `[brand]`. Brand names spelled
otherwise in a text are not caught. An item is `q` + 16 hex digits of an HMAC of the probe
id under a random key kept in the journal's meta (`rating_key`), so it maps back to the
probe but tells a rater nothing (the `q` stops spreadsheets from reading an id as a
number). Rows are shuffled by a seed derived from the rater's name, so each rater sees
their own fixed order.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import random
import re
import secrets
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from analysis.import_rows import read_rows
from study import csvout
from study.atomic import write_atomic
from study.errors import Problem, StudyError, StudyProblems, UsageError
from study.journal.answers import matched_replies
from study.journal.imports import add_meta, writing
from study.journal.ratings import KEY_META, probe_ids, rated, rating_key, store_ratings
from study.journal.tables import open_journal, read_meta_value
from study.timeutil import iso

SATISFACTION = {
    5: "satisfied",
    4: "less satisfied",
    3: "so-so",
    2: "dissatisfied",
    1: "very dissatisfied",
}
ANSWERED = {"no": 0.0, "partly": 0.5, "yes": 1.0}  # the answered score counts partly as half
SHEET_COLUMNS = ("rater", "item", "inquiry_text", "reply_text", "satisfaction", "answered", "note")
SCALE_HELP = (
    "satisfaction: 5 satisfied, 4 less satisfied, 3 so-so, 2 dissatisfied, "
    "1 very dissatisfied (the number or the words); answered: yes, partly or no"
)
_WORDS = {w.replace("-", " "): n for n, w in SATISFACTION.items()} | {"soso": 3}
_MENTION = re.compile(r"(?<![A-Za-z0-9_])@[A-Za-z0-9_]+")
_HANDLE = re.compile(r"[A-Za-z0-9_]{4,}")
_WORD = re.compile(r"\[(?:brand|account)\]|(?<![A-Za-z0-9])[A-Za-z0-9]{4,}(?![A-Za-z0-9])")
_RANGE = "use 1 (very dissatisfied) to 5 (satisfied)"
MIN_RATED = 10  # rated responses a brand needs for a satisfaction interval
RESAMPLES = 10_000  # bootstrap resamples of the satisfaction interval


def item_id(key: str, probe_id: str) -> str:
    digest = hmac.new(key.encode(), probe_id.encode(), hashlib.sha256).hexdigest()
    return "q" + digest[:16]


def blind(text: str, names: Sequence[str]) -> str:
    """`text` without @mentions, without any of `names` (whole words, any case), and without
    any word of 4+ letters that begins a handle-like name (`Spotify` for `SpotifyCares`)."""
    text = _MENTION.sub("@[account]", text)
    for name in sorted({n for n in names if n}, key=len, reverse=True):
        word = rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])"
        text = re.sub(word, "[brand]", text, flags=re.IGNORECASE)
    stems = {n.lower().replace("_", "") for n in names if _HANDLE.fullmatch(n)}

    def mask(m: re.Match[str]) -> str:
        token = m.group()
        if token[0] != "[" and any(s.startswith(token.lower()) for s in stems):
            return "[brand]"
        return token

    return _WORD.sub(mask, text)


def _key(study_dir: Path) -> str:
    key = read_meta_value(study_dir, KEY_META)
    if key is not None:
        return key
    with writing(study_dir) as w:
        return add_meta(w, KEY_META, secrets.token_hex(16))


def rating_sheet(study_dir: Path, rater: str, out: Path) -> int:
    """Write a blind rating sheet for `rater` to `out` (a new file); the number of items."""
    rater = rater.strip()
    if not rater:
        raise UsageError("the rater's name is empty; give one, e.g. --rater AB")
    if out.exists():
        raise StudyError(f"{out}: already exists; choose another --out, or move it away first")
    key = _key(study_dir)
    con = open_journal(study_dir)
    try:
        firsts = [m for m in matched_replies(con) if m.first_response]
    finally:
        con.close()
    sheet = []
    for m in firsts:
        parts = [p for p in re.split(r"[-_]", m.brand) if len(p) >= 4]
        names = [m.brand, m.handle, m.author, m.author_id, *parts]
        sheet.append(
            (item_id(key, m.probe_id), blind(m.inquiry_text, names), blind(m.reply_text, names))
        )
    sheet.sort()
    seed = int.from_bytes(hashlib.sha256(rater.encode()).digest()[:8], "big")
    random.Random(seed).shuffle(sheet)
    buf = io.StringIO()
    writer = csvout.writer(buf)
    writer.writerow(SHEET_COLUMNS)
    writer.writerows((rater, item, q, a, "", "", "") for item, q, a in sheet)
    write_atomic(out, buf.getvalue().encode("utf-8"))
    return len(sheet)


def _satisfaction(value: str) -> int | str:
    """The scale point, or the reason it is not one."""
    word = " ".join(value.lower().replace("-", " ").split())
    if word in _WORDS:
        return _WORDS[word]
    try:
        number = float(value)
    except ValueError:
        return f"satisfaction '{value}' is not on the scale; {_RANGE}, or its words"
    if number != int(number) or not 1 <= number <= 5:
        return f"satisfaction {value} is out of range 1-5; {_RANGE}"
    return int(number)


def import_ratings(study_dir: Path, csv_path: Path, *, now: datetime | None = None) -> int:
    """Store a filled rating sheet's ratings; the number stored.

    A row whose satisfaction and answered are both empty is not rated yet and is skipped.
    A rater's earlier rating of the same item is replaced. Nothing is stored unless every
    row is good."""
    file = str(csv_path)
    problems: list[Problem] = []
    optional = ("inquiry_text", "reply_text", "note")
    records = read_rows(csv_path, ("rater", "item", "satisfaction", "answered"), optional, problems)
    con = open_journal(study_dir)
    try:
        key, ids = rating_key(con), probe_ids(con)
    finally:
        con.close()
    if key is None:
        raise StudyError(
            f"{file}: this study has no rating sheets yet; make them with rating-sheet first"
        )
    probe_of = {item_id(key, pid): pid for pid in ids}
    ratings: dict[tuple[str, str], tuple[int, int, str, str]] = {}
    for line, v in records or []:
        if not v["satisfaction"] and not v["answered"]:
            continue
        bad = []
        if not v["rater"]:
            bad.append("rater is empty; write the rater's name as on the sheet")
        pid = probe_of.get(v["item"])
        if pid is None:
            bad.append(
                f"item '{v['item']}' is not in this study's journal; rate the items of a "
                "sheet made by rating-sheet for this study"
            )
        score = (
            _satisfaction(v["satisfaction"])
            if v["satisfaction"]
            else f"satisfaction is empty; {_RANGE}"
        )
        if isinstance(score, str):
            bad.append(score)
        answered = v["answered"].lower()
        if answered not in ANSWERED:
            shown = f"'{v['answered']}'" if v["answered"] else "empty"
            bad.append(f"answered is {shown}; write yes, partly or no")
        if pid is not None and (v["rater"], pid) in ratings:
            first = ratings[(v["rater"], pid)][0]
            bad.append(f"rates item {v['item']} again (see line {first}); keep one row")
        problems.extend(Problem(file, line, b) for b in bad)
        if not bad and pid is not None and isinstance(score, int):
            ratings[(v["rater"], pid)] = (line, score, answered, v["note"])
    if problems:
        raise StudyProblems(sorted(problems, key=lambda p: p.line or 0))
    stamp = iso(now or datetime.now(UTC))
    with writing(study_dir) as w:
        store_ratings(
            w, [(pid, rater, s, a, n, stamp) for (rater, pid), (_, s, a, n) in ratings.items()]
        )
    return len(ratings)


def quality(study_dir: Path) -> dict[str, Any]:
    """Mean satisfaction and answered shares per brand, and the raters' agreement.

    Only the ratings of answered probes count (their first response, as `study.journal.answers`
    defines it and the rating sheets carry it): a sheet made before may have carried a
    stranger's reply. Each probe's ratings are averaged over its raters first, so a probe
    rated twice counts once. `satisfaction_low/high` is the 95% percentile bootstrap interval
    of the brand's probe means (None below MIN_RATED probes; satisfaction_interval);
    `answered_score` counts yes = 1, partly = 0.5, no = 0 and `answered_yes/partly/no` are
    the shares (per probe over raters, then over probes). `alpha_satisfaction` and
    `alpha_answered` are Krippendorff's alpha with the ordinal metric (no < partly < yes),
    None when undefined (fewer than two values to pair)."""
    con = open_journal(study_dir)
    try:
        rows = rated(con)
        answered = {m.probe_id for m in matched_replies(con) if m.first_response}
    finally:
        con.close()
    rows = [r for r in rows if r[0] in answered]
    by_probe: dict[str, list[tuple[str, int, str]]] = defaultdict(list)
    brand_of: dict[str, str] = {}
    for probe_id, brand, rater, satisfaction, answer in rows:
        by_probe[probe_id].append((rater, satisfaction, answer))
        brand_of[probe_id] = brand
    raters = sorted({r for ratings in by_probe.values() for r, _, _ in ratings})
    per_brand: dict[str, list[list[float]]] = defaultdict(list)
    for probe_id, ratings in by_probe.items():
        probe = [float(np.mean([s for _, s, _ in ratings]))]
        probe.append(float(np.mean([ANSWERED[a] for _, _, a in ratings])))
        probe.extend(
            float(np.mean([a == w for _, _, a in ratings])) for w in ("yes", "partly", "no")
        )
        per_brand[brand_of[probe_id]].append(probe)
    brands = {}
    for brand, probes in sorted(per_brand.items()):
        m = np.array(probes)
        low, high = satisfaction_interval(m[:, 0], brand)
        brands[brand] = {
            "probes": len(probes),
            "satisfaction_mean": float(m[:, 0].mean()),
            "satisfaction_low": low,
            "satisfaction_high": high,
            "answered_score": float(m[:, 1].mean()),
            "answered_yes": float(m[:, 2].mean()),
            "answered_partly": float(m[:, 3].mean()),
            "answered_no": float(m[:, 4].mean()),
        }
    units_s = [[_value(ratings, r, 1) for r in raters] for ratings in by_probe.values()]
    units_a = [[_value(ratings, r, 2) for r in raters] for ratings in by_probe.values()]
    return {
        "raters": raters,
        "probes_rated": len(by_probe),
        "ratings": len(rows),
        "alpha_satisfaction": ordinal_alpha(units_s),
        "alpha_answered": ordinal_alpha(units_a),
        "min_rated_for_interval": MIN_RATED,
        "brands": brands,
    }


def _value(ratings: list[tuple[str, int, str]], rater: str, field: int) -> float | None:
    for r in ratings:
        if r[0] == rater:
            return float(r[1]) if field == 1 else ANSWERED[r[2]]
    return None


def satisfaction_interval(
    values: Sequence[float] | np.ndarray[Any, Any], seed: str
) -> tuple[float | None, float | None]:
    """The 95% percentile bootstrap interval of the mean of `values` (None, None below
    MIN_RATED values). It lies within the values' range, so within the 1-5 scale, where a
    t-interval of three ratings runs off it. Resampling n values with replacement is drawing
    how often each distinct value comes up, a multinomial over the few distinct values, so
    a resample costs the same at any n; `seed` (e.g. the brand) fixes the resamples."""
    n = len(values)
    if n < MIN_RATED:
        return None, None
    distinct, counts = np.unique(np.asarray(values, dtype=float), return_counts=True)
    rng = np.random.default_rng(int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big"))
    means = rng.multinomial(n, counts / n, size=RESAMPLES) @ distinct / n
    low, high = np.quantile(means, [0.025, 0.975])
    return float(low), float(high)


def ordinal_alpha(units: Sequence[Sequence[float | None]]) -> float | None:
    """Krippendorff's alpha, ordinal metric, for units of values (None = not rated).

    Built from the coincidence matrix o (pairs of values within a unit, each unit weighted
    1/(m_u - 1)) and the ordinal distance d(c, k) = (sum of n_g for g from c to k
    - (n_c + n_k) / 2)^2; alpha = 1 - (n - 1) * sum(o * d) / sum(n_c * n_k * d)
    (Krippendorff, Content Analysis, 2004, ch. 11)."""
    values = sorted({v for u in units for v in u if v is not None})
    index = {v: i for i, v in enumerate(values)}
    k = len(values)
    o = np.zeros((k, k))
    for unit in units:
        codes = [index[v] for v in unit if v is not None]
        if len(codes) < 2:
            continue
        counts = np.bincount(codes, minlength=k).astype(float)
        o += (np.outer(counts, counts) - np.diag(counts)) / (len(codes) - 1)
    n_c = o.sum(axis=1)
    n = float(n_c.sum())
    cum = np.concatenate([[0.0], np.cumsum(n_c)])
    lo = np.minimum.outer(np.arange(k), np.arange(k))
    hi = np.maximum.outer(np.arange(k), np.arange(k))
    d = (cum[hi + 1] - cum[lo] - (n_c[lo] + n_c[hi]) / 2) ** 2
    expected = float((np.outer(n_c, n_c) * d).sum())
    if n < 2 or expected == 0:
        return None
    return 1.0 - (n - 1) * float((o * d).sum()) / expected
