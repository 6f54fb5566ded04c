"""The journal against the simulator's ledger, probe by probe: which brand item answers
which probe, as the runner recorded it and as the simulator knows it happened.

The ledger names, for each post or DM a brand's bot made, the probe post that caused it
(`probe_post_id`); the journal names, for each inbox item, the probe it matched (or none).
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from datetime import datetime
from pathlib import Path

from probes.audit import read_ledger
from study.paths import ledger_path
from study.timeutil import parse_iso

# A reply later than the last inbox read may not have been read yet: not expected.
BRAND_ITEMS = ("post", "dm")


def ledger_answers(
    study_dir: Path, con: sqlite3.Connection, last_read: datetime
) -> dict[str, set[str]]:
    """probe id -> ids of the brand items (replies, redirects, DMs, acknowledgements) the
    simulator made about it, up to the last inbox read."""
    probe_of = {
        (str(r["channel"]), str(r["message_id"])): str(r["probe_id"])
        for r in con.execute("SELECT probe_id, channel, message_id FROM probes")
        if r["message_id"] is not None
    }
    truth: dict[str, set[str]] = defaultdict(set)
    for e in read_ledger(ledger_path(study_dir)):
        if e.get("role") != "brand" or e.get("kind") not in BRAND_ITEMS:
            continue
        if parse_iso(str(e["created_at"])) > last_read:
            continue
        channel = str(e.get("channel") or "x")
        truth[probe_of[(channel, str(e["probe_post_id"]))]].add(f"{channel}:{e['id']}")
    return dict(truth)


def journal_answers(con: sqlite3.Connection) -> dict[str, set[str]]:
    """probe id -> ids of the brand items the runner matched to it (strangers left out)."""
    handles = {
        (str(r[0]), str(r[1]).lower())
        for r in con.execute("SELECT DISTINCT channel, handle FROM probes")
    }
    matched: dict[str, set[str]] = defaultdict(set)
    for r in con.execute("SELECT channel, reply_id, probe_id, author FROM replies"):
        if r["probe_id"] is not None and (r["channel"], str(r["author"]).lower()) in handles:
            matched[str(r["probe_id"])].add(f"{r['channel']}:{r['reply_id']}")
    return dict(matched)


def first_answers(
    answers: dict[str, set[str]], created: dict[str, datetime], kinds: dict[str, str]
) -> dict[str, datetime]:
    """probe id -> when its first response (public reply, DM or redirect) was written."""
    first: dict[str, datetime] = {}
    for probe_id, items in answers.items():
        times = [created[i] for i in items if kinds[i] in ("public_reply", "direct_message",
                                                             "redirect")]  # fmt: skip
        if times:
            first[probe_id] = min(times)
    return first
