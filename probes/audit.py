"""Checking a journal against the simulator's ledger: the ground truth of what was posted.

The checks the crash drill and the demo rely on: no probe posted twice, nothing the platform
accepted from the probe account missing from the journal, and every reply addressed to the
probe account up to the runner's last inbox read present in the journal.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from study.model import Study
from study.paths import journal_path, ledger_path
from study.timeutil import parse_iso


@dataclass(frozen=True)
class BrandRow:
    brand: str
    planned: int
    sent: int  # journal: probes acknowledged or reconciled
    ledger_posts: int  # ledger: probe posts mentioning this brand's accounts
    replies: int  # journal: items from this brand's accounts to the probe account
    ledger_replies: int  # ledger: the same, up to the runner's last inbox read
    answered: int  # journal: probes with a response (public reply, DM, redirect)

    @property
    def matches(self) -> bool:
        return self.sent == self.ledger_posts and self.replies == self.ledger_replies


@dataclass
class AuditReport:
    rows: list[BrandRow]
    problems: list[str] = field(default_factory=list)
    after_last_read: int = 0  # ledger replies newer than the last inbox read (not expected)
    reconciled: int = 0
    missed: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems and all(r.matches for r in self.rows)


def read_ledger(path: Path) -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    if not path.exists():
        return items
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                items.append(json.loads(line))
    return items


def audit(study: Study, study_dir: Path) -> AuditReport:
    account = study.channel("x").account.lower()
    brand_of = {t.handle.lower(): t.brand for t in study.probed_targets}
    ledger = read_ledger(ledger_path(study_dir))
    con = sqlite3.connect(f"file:{journal_path(study_dir)}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    try:
        probes = con.execute("SELECT * FROM probes").fetchall()
        replies = con.execute("SELECT * FROM replies").fetchall()
        last_read_row = con.execute(
            "SELECT value FROM meta WHERE key = 'last_observation'"
        ).fetchone()
        reconciled = con.execute(
            "SELECT count(*) FROM attempts WHERE outcome = 'reconciled'"
        ).fetchone()[0]
        answered_rows = con.execute(
            "SELECT p.brand, count(DISTINCT r.probe_id) FROM replies r JOIN probes p "
            "USING (probe_id) WHERE r.kind IN ('public_reply', 'direct_message', 'redirect') "
            "GROUP BY p.brand"
        ).fetchall()
    finally:
        con.close()
    last_read = parse_iso(last_read_row[0]) if last_read_row else None
    problems: list[str] = []

    by_message = {p["message_id"]: p for p in probes if p["message_id"]}
    deleted = {str(i.get("id")) for i in ledger if i.get("kind") == "deleted"}
    own_posts = [
        i for i in ledger if i.get("kind") == "post" and str(i.get("author", "")).lower() == account
    ]
    texts = Counter(str(i["text"]) for i in own_posts)
    for text, n in texts.items():
        if n > 1:
            problems.append(f"posted {n} times: {text[:60]!r}")
    ledger_posts: Counter[str] = Counter()
    for i in own_posts:
        p = by_message.get(str(i["id"]))
        if p is None:
            problems.append(f"ledger post {i['id']} is not in the journal (acknowledgement lost)")
        else:
            ledger_posts[p["brand"]] += 1
    ledger_ids = {str(i["id"]) for i in own_posts}
    for p in probes:
        if p["message_id"] and p["message_id"] not in ledger_ids | deleted:
            problems.append(
                f"{p['probe_id']}: journal says posted as {p['message_id']}, "
                "but the platform never accepted it"
            )

    seen = {(r["reply_id"]) for r in replies}
    ledger_replies: Counter[str] = Counter()
    after = 0
    for i in ledger:
        kind = i.get("kind")
        author = str(i.get("author", "")).lower()
        if author == account or kind not in ("post", "dm"):
            continue
        to_probe = (
            (kind == "dm" and str(i.get("recipient", "")).lower() == account)
            or (kind == "post" and str(i.get("in_reply_to_id")) in by_message)
            or (kind == "post" and f"@{account}" in str(i.get("text", "")).lower())
        )
        if not to_probe:
            continue
        created = parse_iso(str(i["created_at"]))
        if last_read is None or created > last_read:
            after += 1
            continue
        if str(i["id"]) not in seen:
            problems.append(
                f"ledger {kind} {i['id']} from @{author} to the probe account is not in the journal"
            )
        if author in brand_of:
            ledger_replies[brand_of[author]] += 1

    journal_replies: Counter[str] = Counter()
    for r in replies:
        b = brand_of.get(str(r["author"]).lower())
        if b is not None and (last_read is None or parse_iso(r["created_at"]) <= last_read):
            journal_replies[b] += 1
    planned: Counter[str] = Counter(p["brand"] for p in probes)
    sent: Counter[str] = Counter(p["brand"] for p in probes if p["message_id"])
    answered = defaultdict(int, {str(r[0]): int(r[1]) for r in answered_rows})
    rows = [
        BrandRow(
            brand=b,
            planned=planned[b],
            sent=sent[b],
            ledger_posts=ledger_posts[b],
            replies=journal_replies[b],
            ledger_replies=ledger_replies[b],
            answered=answered[b],
        )
        for b in sorted(planned)
    ]
    missed = sum(1 for p in probes if p["state"] == "missed")
    return AuditReport(rows, problems, after, int(reconciled), missed)


def print_audit(report: AuditReport) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Per brand: the journal against the simulator's ledger")
    for col in (
        "brand",
        "planned",
        "sent",
        "ledger posts",
        "replies",
        "ledger replies",
        "answered",
        "rate",
        "match",
    ):
        table.add_column(col, justify="left" if col == "brand" else "right")
    for r in report.rows:
        rate = f"{r.answered / r.sent:.0%}" if r.sent else "-"
        table.add_row(
            r.brand,
            str(r.planned),
            str(r.sent),
            str(r.ledger_posts),
            str(r.replies),
            str(r.ledger_replies),
            str(r.answered),
            rate,
            "yes" if r.matches else "NO",
        )
    console = Console()
    console.print(table)
    for p in report.problems[:20]:
        console.print(f"problem: {p}")
    verdict = "matches" if report.ok else "DOES NOT match"
    console.print(
        f"journal {verdict} the ledger: {sum(r.sent for r in report.rows)} probe posts, "
        f"{sum(r.replies for r in report.rows)} brand replies; {report.reconciled} sends "
        f"reconciled, {report.missed} missed; {report.after_last_read} ledger items after the "
        "last inbox read"
    )
