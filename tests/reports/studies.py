"""Studies for the report tests: the example study with a made-up finished journal, and
journals with hostile names and texts, written straight into SQLite with the real schema."""

from __future__ import annotations

import random
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from study.journal.schema import SCHEMA_VERSION, create_schema
from study.load import load_study
from study.model import Scope
from study.paths import journal_path
from study.timeutil import iso
from tests.conftest import EXAMPLE

MULTICHANNEL = Path(__file__).resolve().parents[2] / "data" / "examples" / "multichannel"

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = 72.0
HOSTILE = "<script>alert(1)</script> & Co"
HOSTILE_REPLY = '<img src=x onerror="alert(2)"></blockquote><script>alert(3)</script>'
SLOTS = ("business", "evening", "weekend")
KINDS = ("public_reply", "public_reply", "direct_message", "redirect")


@dataclass(frozen=True)
class Row:
    """A probe and, when `reply_after` is set, the brand's reply to it."""

    probe_id: str
    brand: str
    country: str
    handle: str
    scope: str
    slot: str
    sent_at: datetime
    text: str
    reply_after: float | None = None  # hours
    kind: str = "public_reply"
    reply: str = "Hi! Happy to help."
    auto_ack: bool = False
    channel: str = "x"


def write_journal(study_dir: Path, rows: list[Row], *, name: str = "test study") -> None:
    """A finished journal holding `rows` (all probes sent and closed)."""
    path = journal_path(study_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    end = max(r.sent_at for r in rows) + timedelta(hours=WINDOW + 1)
    con = sqlite3.connect(path)
    try:
        create_schema(con)
        meta = {
            "schema_version": SCHEMA_VERSION,
            "study_name": name,
            "window_hours": repr(WINDOW),
            "source": "campaign",
            "last_observation": iso(end),
        }
        con.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", list(meta.items()))
        con.executemany(
            "INSERT INTO probes (probe_id, brand, country, channel, handle, scope, script, slot,"
            " round, text, scheduled_at, slot_start_at, slot_end_at, state, sent_at, message_id,"
            " closes_at) VALUES (?,?,?,?,?,?,'delivery',?,1,?,?,?,?,'closed',?,?,?)",
            [
                (r.probe_id, r.brand, r.country, r.channel, r.handle, r.scope, r.slot, r.text,
                 iso(r.sent_at), iso(r.sent_at), iso(r.sent_at + timedelta(hours=4)),
                 iso(r.sent_at), f"m-{r.probe_id}", iso(r.sent_at + timedelta(hours=WINDOW)))
                for r in rows
            ],
        )  # fmt: skip
        replies = []
        for r in rows:
            if r.auto_ack:
                at = r.sent_at + timedelta(seconds=20)
                replies.append((r.channel, f"a-{r.probe_id}", r.probe_id, r.handle,
                                "This is an automatic reply.", iso(at), "auto_ack"))  # fmt: skip
            if r.reply_after is not None:
                at = r.sent_at + timedelta(hours=r.reply_after)
                replies.append(
                    (r.channel, f"r-{r.probe_id}", r.probe_id, r.handle, r.reply, iso(at), r.kind)
                )
        con.executemany(
            "INSERT INTO replies (channel, reply_id, probe_id, author, author_id, text,"
            " created_at, kind, seen_at) VALUES (?, ?, ?, ?, 'id', ?, ?, ?, ?)",
            [(*rep, rep[5]) for rep in replies],
        )
        con.commit()
    finally:
        con.close()


def example_study(folder: Path, *, seed: int = 1, brand_name: str | None = None) -> Path:
    """The example study (10 brands x 17 countries) with a made-up finished journal:
    three probes per probed target, each brand answering with its own rate and speed.
    `brand_name` renames kaito (e.g. to a hostile name)."""
    shutil.copytree(EXAMPLE, folder)
    if brand_name is not None:
        targets = folder / "targets.csv"
        text = targets.read_text(encoding="utf-8").replace("Kaito Motors", brand_name)
        targets.write_text(text, encoding="utf-8")
    study = load_study(folder)
    rng = random.Random(seed)
    rate = {b: 0.15 + 0.8 * rng.random() for b in sorted({t.brand for t in study.targets})}
    rows = []
    for t in study.targets:
        if t.scope is Scope.NONE:
            continue
        for k in range(3):
            sent = T0 + timedelta(days=7 * k, hours=rng.random() * 96)
            answered = rng.random() < rate[t.brand] * (0.6 if t.scope is Scope.GLOBAL else 1)
            rows.append(
                Row(
                    probe_id=f"{t.brand}-{t.country}-x-r{k + 1}",
                    brand=t.brand,
                    country=t.country,
                    handle=t.handle,
                    scope=t.scope.value,
                    slot=SLOTS[(k + len(t.country)) % 3],
                    sent_at=sent,
                    text=f"@{t.handle} Hi, where is my order?",
                    reply_after=round(rng.expovariate(1 / 8), 3) if answered else None,
                    kind=rng.choice(KINDS),
                    reply=f"@probe Hello from {t.brand_name}! Please check your e-mail.",
                    auto_ack=rng.random() < 0.1,
                )
            )
    write_journal(folder, rows, name=study.name)
    return folder


def multichannel_study(folder: Path) -> Path:
    """The multichannel example (6 brands x 3 countries x 4 channels) with a made-up
    finished journal, two probes per probed target. Kaito answers every probe on X within
    2 hours and none on Mastodon; lumen answers nothing; the others answer every other
    probe after 5 hours."""
    shutil.copytree(MULTICHANNEL, folder)
    study = load_study(folder)
    rows = []
    for n, t in enumerate(study.targets):
        if t.scope is Scope.NONE:
            continue
        for k in range(2):
            if t.brand == "kaito":
                after = {"x": 1.5, "mastodon": None}.get(t.channel, 10.0)
            elif t.brand == "lumen":
                after = None
            else:
                after = 5.0 if (n + k) % 2 == 0 else None
            rows.append(
                Row(
                    probe_id=f"{t.brand}-{t.country}-{t.channel}-r{k + 1}",
                    brand=t.brand,
                    country=t.country,
                    handle=t.handle,
                    scope=t.scope.value,
                    slot=("business", "evening")[k],
                    sent_at=T0 + timedelta(days=7 * k, minutes=7 * n),
                    text=f"{t.handle} Hi, where is my order?",
                    reply_after=after,
                    channel=t.channel,
                )
            )
    write_journal(folder, rows, name=study.name)
    return folder


def hostile_journal(folder: Path) -> Path:
    """A journal with no study.toml whose brand ids, handles and texts are hostile."""
    brands = [HOSTILE, "../../etc/passwd", "Kaito", "kaito", "$x^2$ \\ Ltd"]
    rows = []
    for b, brand in enumerate(brands):
        for c, country in enumerate(["DE", "ZZ", "<b>XX</b>"]):
            for k in range(2):
                rows.append(
                    Row(
                        probe_id=f"p{b}-{c}-{k}",
                        brand=brand,
                        country=country,
                        handle=f"<i>h{b}</i>",
                        scope="global" if c == 2 else "local",
                        slot=SLOTS[k],
                        sent_at=T0 + timedelta(hours=10 * (b + c + k)),
                        text=f"{HOSTILE} where is <u>my order</u>?",
                        reply_after=None if (b + k) % 3 == 2 else 0.5 + b + c,
                        kind=KINDS[(b + c + k) % 4],
                        reply=HOSTILE_REPLY,
                        auto_ack=k == 1,
                        channel="x" if k == 0 else "<b>chan</b>",
                    )
                )
    write_journal(folder, rows, name=f"Study of {HOSTILE}")
    return folder
