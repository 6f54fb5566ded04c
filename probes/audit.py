"""Checking a journal against the simulator's ledger: the ground truth of what was posted.

The checks the crash drill and the demo rely on: no probe posted twice, nothing the platform
accepted from the probe account missing from the journal, and every reply addressed to the
probe account up to the runner's last inbox read present in the journal. One simulator
serves X, Mastodon and Bluesky; each ledger line names its `channel` (none means X), and
each channel has its own probe account (`[channels.NAME] account`) and its own ids.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from study.journal.campaign import Journal
from study.journal.probes import ProbeRecord
from study.journal.sends import RECONCILED
from study.model import ChannelSettings, ProbeState, Reply, Study
from study.paths import ledger_path
from study.timeutil import parse_iso

SIMULATED = ("x", "mastodon", "bluesky")  # the channels the simulator serves
ANSWERS = ("public_reply", "direct_message", "redirect")  # reply kinds that answer a probe


@dataclass(frozen=True)
class BrandRow:
    brand: str
    planned: int
    sent: int  # journal: probes acknowledged or reconciled
    ledger_posts: int  # ledger: probe posts mentioning this brand's accounts
    replies: int  # journal: items from this brand's accounts to the probe account
    ledger_replies: int  # ledger: the same, up to the runner's last inbox read
    answered: int  # journal: probes with a response (public reply, DM, redirect) by the brand

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


@dataclass(frozen=True)
class ProbeAccount:
    """The probe account on one simulated channel, and how that channel writes account names
    (Mastodon leaves the instance off its local accounts: `kaito` is `kaito@instance`)."""

    channel: str
    name: str  # as `norm` writes it
    instance: str = ""

    @classmethod
    def of(cls, settings: ChannelSettings) -> ProbeAccount:
        instance = ""
        if settings.name == "mastodon":  # as probes.channels.mastodon.parse.instance_of writes it
            parts = urlsplit(settings.api_base)
            instance = (parts.hostname or "").lower() + (f":{parts.port}" if parts.port else "")
        unnamed = cls(settings.name, "", instance)
        return replace(unnamed, name=unnamed.norm(settings.account))

    def norm(self, who: object) -> str:
        name = str(who or "").strip().lstrip("@").lower()
        if self.instance and name and "@" not in name:
            name = f"{name}@{self.instance}"
        return name

    @property
    def mention(self) -> str:
        """What a text that names the probe account contains, in lower case."""
        return "@" + self.name.split("@")[0]


def read_ledger(path: Path) -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    if not path.exists():
        return items
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                items.append(json.loads(line))
    return items


def _channel(entry: dict[str, object]) -> str:
    return str(entry.get("channel") or "x")


def audit(study: Study, study_dir: Path) -> AuditReport:
    used = {t.channel for t in study.probed_targets}
    accounts = {
        c.name: ProbeAccount.of(c) for c in study.channels if c.name in SIMULATED and c.name in used
    }
    brand_of = {
        (t.channel, accounts[t.channel].norm(t.handle)): t.brand
        for t in study.probed_targets
        if t.channel in accounts
    }
    ledger = [i for i in read_ledger(ledger_path(study_dir)) if _channel(i) in accounts]
    journal = Journal.read_only(study_dir)
    try:
        probes = journal.records()
        replies = journal.replies()
        last_observation = journal.meta("last_observation")
        reconciled = journal.attempts_ending(RECONCILED)
        # Each channel's inbox was last read at its own time (a worksheet import, for one,
        # may have moved the journal's last_observation past the runner's last read).
        read_at = {c: parse_iso(at) for c, at in journal.inbox_reads().items()}
    finally:
        journal.close()
    last_read = parse_iso(last_observation) if last_observation else None
    problems: list[str] = []

    # Ids are the platform's: the same id on two channels names two different things.
    by_message = {
        (p.channel, p.message_id): p for p in probes if p.message_id and p.channel in accounts
    }
    deleted = {(_channel(i), str(i.get("id"))) for i in ledger if i.get("kind") == "deleted"}
    own_posts = [
        i
        for i in ledger
        if i.get("kind") == "post"
        and accounts[_channel(i)].norm(i.get("author")) == accounts[_channel(i)].name
    ]
    texts = Counter((_channel(i), str(i["text"])) for i in own_posts)
    for (_, text), n in texts.items():
        if n > 1:
            problems.append(f"posted {n} times: {text[:60]!r}")
    ledger_posts: Counter[str] = Counter()
    for i in own_posts:
        p = by_message.get((_channel(i), str(i["id"])))
        if p is None:
            problems.append(f"ledger post {i['id']} is not in the journal (acknowledgement lost)")
        else:
            ledger_posts[p.brand] += 1
    ledger_ids = {(_channel(i), str(i["id"])) for i in own_posts}
    for key, p in by_message.items():
        if key not in ledger_ids | deleted:
            problems.append(
                f"{p.probe_id}: journal says posted as {p.message_id}, "
                "but the platform never accepted it"
            )

    seen = {(r.channel, r.reply_id) for r, _ in replies}
    ledger_replies: Counter[str] = Counter()
    after = 0
    for i in ledger:
        channel, kind = _channel(i), i.get("kind")
        me = accounts[channel]
        author = me.norm(i.get("author"))
        if author == me.name or kind not in ("post", "dm"):
            continue
        to_probe = (
            (kind == "dm" and me.norm(i.get("recipient")) == me.name)
            or (kind == "post" and (channel, str(i.get("in_reply_to_id"))) in by_message)
            or (kind == "post" and me.mention in str(i.get("text", "")).lower())
        )
        if not to_probe:
            continue
        created = parse_iso(str(i["created_at"]))
        limit = read_at.get(channel, last_read)
        if limit is None or created > limit:
            after += 1
            continue
        if (channel, str(i["id"])) not in seen:
            problems.append(
                f"ledger {kind} {i['id']} from @{author} to the probe account is not in the journal"
            )
        if (channel, author) in brand_of:
            ledger_replies[brand_of[channel, author]] += 1

    journal_replies: Counter[str] = Counter()
    for r, _ in replies:
        me_on = accounts.get(r.channel)
        b = brand_of.get((r.channel, me_on.norm(r.author))) if me_on else None
        limit = read_at.get(r.channel, last_read)
        if b is not None and (limit is None or r.created_at <= limit):
            journal_replies[b] += 1
    # Only the simulated channels' probes: e-mail and manual ones have no ledger to match.
    planned: Counter[str] = Counter(p.brand for p in probes if p.channel in accounts)
    sent: Counter[str] = Counter(p.brand for p in by_message.values())
    answered = _answered(probes, replies, accounts, brand_of)
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
    missed = sum(1 for p in probes if p.state == ProbeState.MISSED.value)
    return AuditReport(rows, problems, after, reconciled, missed)


def _answered(
    probes: list[ProbeRecord],
    replies: list[tuple[Reply, str | None]],
    accounts: dict[str, ProbeAccount],
    brand_of: dict[tuple[str, str], str],
) -> Counter[str]:
    """Probes of the simulated channels with a response (a public reply, DM or redirect) from
    one of their brand's own accounts, by brand. A stranger's reply to a probe is matched to
    it in the journal but answers nothing, as in the analysis (analysis/sql/outcomes.sql)."""
    brand = {p.probe_id: p.brand for p in probes if p.channel in accounts}
    done: set[str] = set()
    for r, probe_id in replies:
        me = accounts.get(r.channel)
        if me is None or probe_id not in brand or r.kind.value not in ANSWERS:
            continue
        if brand_of.get((r.channel, me.norm(r.author))) == brand[probe_id]:
            done.add(probe_id)
    return Counter(brand[pid] for pid in done)


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
    console = Console() if sys.stdout.isatty() else Console(width=160)
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
