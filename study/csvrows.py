"""Reading researchers' CSV files: rows with their physical line numbers, header checks that
suggest a rename, ISO 8601 times that must carry an offset, and the reply columns.

Shared by the study folder's own tables (`study.load_tables`) and the importers of
hand-collected results (`analysis.imports`) and of filled-in worksheets
(`probes.channels.manual.worksheet`), so all of them word a problem the same way. Problems go
to a list
(`Problem`s for whole-file ones, plain messages for one row's) so every row is checked
before anything is written.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from study.errors import Problem
from study.model import ReplyKind
from study.timeutil import in_range, parse_iso, range_text

Rows = list[tuple[int, dict[str, str]]]
# Decides on the header row (its line and stripped cells); False when it is unusable (the
# reasons are added to the problems).
HeaderCheck = Callable[[int, list[str]], bool]

# The embeddings, overrides and isolates of Unicode's bidirectional algorithm (UAX #9): shown
# as nothing, they reorder the text around them ("Trojan Source", CVE-2021-42574).
BIDI = "\u202a-\u202e\u2066-\u2069"
BIDI_CONTROLS = re.compile(f"[{BIDI}]")
CONTROLS = "\x00-\x1f\x7f-\x9f"  # Unicode's control characters (category Cc)
# What a name must not hold, as a character class that Python's re and DuckDB's RE2 both read
# (for names from passive corpora, which are cleaned of it rather than refused).
UNSHOWABLE = f"[{BIDI}{CONTROLS}]"
REPLY_KINDS = ("public_reply", "direct_message", "redirect", "auto_ack")
EXAMPLE_TIME = "2026-03-02T14:05:00+01:00"


def suggest(word: str, known: list[str]) -> str | None:
    """The known word `word` is probably a slip for: same but for case, or close in spelling."""
    same = [k for k in known if k.lower() == word.lower()]
    close = same or difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    return close[0] if close else None


def _words(name: str) -> tuple[str, ...]:
    return tuple(w for w in re.split(r"[^0-9a-z]+", name.lower()) if w)


def suggest_column(column: str, known: list[str]) -> str | None:
    """The known column a header cell is probably meant to be: the same words written another
    way ('Sent At', 'sent-at'), the start of one ('Sent', 'Replied') or one with the words
    of the cell in it ('sent_at_utc'), else one close in spelling ('chanel'); None when no
    single column stands out."""
    words = _words(column)
    if not words:
        return None
    tiers: tuple[list[str], list[str], list[str]] = ([], [], [])  # same, starts, within
    for k in known:
        kw = _words(k)
        if kw == words:
            tiers[0].append(k)
        elif kw[: len(words)] == words:
            tiers[1].append(k)
        elif words[: len(kw)] == kw:
            tiers[2].append(k)
    for found in tiers:
        if len(found) == 1:
            return found[0]
        if found:
            return None  # 'reply' starts reply_kind and reply_text: no single one
    by_key = {"_".join(_words(k)): k for k in known}
    close = difflib.get_close_matches("_".join(words), list(by_key), n=1, cutoff=0.6)
    return by_key[close[0]] if close else None


@dataclass(frozen=True)
class Sheet:
    """The rows read from a CSV text; `header` is None when it holds no non-blank line."""

    header: list[str] | None
    rows: Rows


def read_sheet(
    text: str, name: str, columns: tuple[str, ...], check: HeaderCheck, out: list[Problem]
) -> Sheet | None:
    """The non-blank rows of CSV `text` with the physical line each starts on (the header is
    line 1), values stripped and absent `columns` as ''; None when the header is rejected or
    the text is not valid CSV (the problems are added to `out`)."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    rows: Rows = []
    end = 0
    try:
        for record in reader:
            line, end = end + 1, reader.line_num  # a quoted value may span several lines
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                header = [cell.strip() for cell in record]
                if not check(line, header):
                    return None
            elif len(record) != len(header):
                out.append(
                    Problem(
                        name,
                        line,
                        f"has {len(record)} values but the header has {len(header)}; give "
                        "every row all of them (an empty one is just ',,') and quote a value "
                        "with a comma",
                    )
                )
            else:
                row = dict.fromkeys(columns, "")
                row.update((c, v.strip()) for c, v in zip(header, record, strict=True))
                rows.append((line, row))
    except csv.Error as error:
        out.append(
            Problem(
                name,
                end + 1,
                f"is not valid CSV ({error}); check the quotes from this line on: quote a "
                'whole value, and double a quote inside one ("")',
            )
        )
        return None
    return Sheet(header, rows)


def check_header(
    name: str,
    line: int,
    header: list[str],
    required: tuple[str, ...],
    optional: tuple[str, ...],
    shape: str,
    out: list[Problem],
) -> bool:
    """Whether `header` has every required column, each once, and no unknown one; an unknown
    column close to a missing or optional one gets a "rename it" hint (each column is
    suggested for one cell only)."""
    known = required + optional
    missing = [c for c in required if c not in header]
    free = [c for c in known if c not in header]
    ok = True
    for column in dict.fromkeys(header):
        if header.count(column) > 1:
            out.append(Problem(name, line, f"has the column '{column}' twice; keep one"))
            ok = False
        if column not in known:
            meant = suggest_column(column, free)
            if meant is None:
                message = f"has an unknown column '{column}'; remove it ({shape})"
            else:
                message = f"has the column '{column}'; rename it '{meant}' ({shape})"
                free.remove(meant)
                if meant in missing:
                    missing.remove(meant)
            out.append(Problem(name, line, message))
            ok = False
    for column in missing:
        out.append(Problem(name, line, f"has no column '{column}'; add it ({shape})"))
    return ok and not missing


def check_required(
    name: str,
    line: int,
    header: list[str],
    required: tuple[str, ...],
    known: tuple[str, ...],
    shape: str,
    out: list[Problem],
) -> bool:
    """Whether `header` has every required column (others are ignored); a missing one close
    to a column not in `known` gets a "rename it" hint."""
    missing = [c for c in required if c not in header]
    for column in missing:
        meant = suggest(column, [h for h in header if h not in known])
        fix = f"rename '{meant}' to '{column}'" if meant else "add it"
        out.append(Problem(name, line, f"has no column '{column}'; {fix} ({shape})"))
    return not missing


def name_problem(column: str, value: str, limit: int) -> str | None:
    """Why `value` cannot be shown as a name (a direction control, a control character, more
    than `limit` characters), as a phrase with the fix; None if it can."""
    if found := BIDI_CONTROLS.search(value):
        return (
            f"{column} holds a hidden direction control (U+{ord(found[0]):04X}) that reorders "
            "the text shown around it; delete it (retype the value if you cannot see it)"
        )
    control = next((c for c in value if unicodedata.category(c) == "Cc"), None)
    if control is not None:
        return (
            f"{column} holds a control character (U+{ord(control):04X}); write it as plain "
            "text on one line"
        )
    if len(value) > limit:
        return f"{column} is {len(value):,} characters long; shorten it to at most {limit}"
    return None


def parse_time(name: str, value: str, bad: list[str]) -> datetime | None:
    """The instant in ISO 8601 `value`, which must carry a UTC offset and lie in the study
    years (`study.timeutil.in_range`); None when it does not (the reason is added to `bad`)."""
    try:
        when: datetime | None = parse_iso(value)
    except ValueError:
        when = None
    if when is not None and in_range(when):
        return when
    try:
        written = datetime.fromisoformat(value)
    except ValueError:
        bad.append(f"{name} '{value}' is not an ISO 8601 time; write it like {EXAMPLE_TIME}")
        return None
    if written.tzinfo is None:
        bad.append(
            f"{name} '{value}' has no UTC offset; add the one of the clock it was read from, "
            f"e.g. '{value}Z' or '{value}+01:00'"
        )
    else:
        bad.append(f"{name} '{value}' is out of range: {range_text()}; check the year")
    return None


def reply_kind(value: str, bad: list[str]) -> str:
    """The reply kind written in a `reply_kind` cell (empty: public_reply); an unknown one
    is added to `bad`."""
    kind = value or ReplyKind.PUBLIC_REPLY.value
    if kind not in REPLY_KINDS:
        meant = suggest(kind, list(REPLY_KINDS))
        hint = f" (did you mean '{meant}'?)" if meant else ""
        bad.append(f"reply_kind '{kind}' is unknown{hint}; use one of {', '.join(REPLY_KINDS)}")
    return kind


def check_reply(
    v: dict[str, str], sent: datetime | None, replied: datetime | None, bad: list[str]
) -> None:
    """A row's reply must come after its send, and a reply's kind or text needs its time."""
    if sent is not None and replied is not None and replied < sent:
        bad.append(
            f"replied_at {v['replied_at']} is before sent_at {v['sent_at']}; check both times "
            "and their UTC offsets"
        )
    if not v["replied_at"]:
        for column in ("reply_kind", "reply_text"):
            if v[column]:
                bad.append(
                    f"{column} is given but replied_at is empty; add the reply's time or "
                    f"clear {column}"
                )
