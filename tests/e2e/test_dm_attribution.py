"""A brand's one global account asked from several countries, answering by redirect and DM:
the journal must tie every DM to the probe the simulator's ledger says it answers.

Each brand has one global Mastodon account and one global X account, asked from Germany,
Japan and the US in the same week, so their 72-hour windows overlap; the bots ask most
probes to move to DMs and follow up by DM many hours later, when the account's other
probes have been sent. A matcher that gave a DM to the brand's probe most recently sent
before it credits German DMs to the US probe (issue 9). The run is driven by the test's
clock (the simulator's virtual time moves only when the runner sleeps): nothing here depends
on the machine's speed.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from probes.campaign import run_campaign
from probes.journal import AMBIGUOUS
from probes.runner import RunnerConfig
from probes.sim.ledger import read_ledger
from probes.status import read_status
from study.load import load_study
from study.paths import journal_path, ledger_path
from study.plan import make_plan
from study.timeutil import parse_iso
from tests.e2e.ledger_truth import first_answers, journal_answers, ledger_answers
from tests.e2e.multichannel import SharedClock, last_observation, serve_on

pytestmark = pytest.mark.anyio
CONFIG = RunnerConfig(poll_min_s=300, poll_max_s=3600, reconcile_after_real_s=0)
BRANDS = ("acorn", "birch", "cedar", "dune", "ember", "fjord")
COUNTRIES = {  # code: (name, zone, language)
    "DE": ("Germany", "Europe/Berlin", "de"),
    "JP": ("Japan", "Asia/Tokyo", "ja"),
    "US": ("United States", "America/New_York", "en"),
}
SCRIPTS = """script,category,language,text
delivery,order status,en,"{handle} Hi, I ordered online a week ago and have heard nothing since. Where is my order?"
delivery,order status,de,"{handle} Hallo, ich habe vor einer Woche online bestellt und seitdem nichts gehört. Wo ist meine Bestellung?"
delivery,order status,ja,"{handle} こんにちは。一週間前にオンラインで注文しましたが、その後連絡がありません。注文はどうなっていますか？"
account,account help,en,"{handle} Hi, I can't log in to my account and the reset e-mail never arrives. What can I do?"
account,account help,de,"{handle} Hallo, ich komme nicht in mein Konto und die E-Mail zum Zurücksetzen kommt nie an. Was kann ich tun?"
account,account help,ja,"{handle} こんにちは。アカウントにログインできず、リセットのメールも届きません。どうすればよいですか？"
"""  # noqa: E501
# Redirects followed by a DM hours later, and answers by DM alone: every DM of a global
# account arrives while its other countries' probes are open.
BOTS = """[defaults]
answer_rate = 0.9
median_minutes = 240
sigma = 0.8
days = "all"
opens = "00:00"
closes = "24:00"
auto_ack_share = 0.1
redirect_share = 0.5
redirect_dm_rate = 1.0
dm_followup_minutes = 900
dm_share = 0.3

[simulator]
stranger_rate = 0.1
"""


def global_accounts_study(path: Path) -> Path:
    """Six brands, each with one global account per channel, asked from DE, JP and US in
    one week (two rounds: two scripts), business hours, 72-hour windows."""
    path.mkdir(parents=True)
    countries = "".join(
        f'[countries.{code}]\nname = "{name}"\ntimezone = "{zone}"\nlanguage = "{lang}"\n\n'
        for code, (name, zone, lang) in COUNTRIES.items()
    )
    (path / "study.toml").write_text(
        f"""[study]
name = "Global accounts answering by DM (test)"
seed = 424242
window_hours = 72
start = 2026-03-02
end = 2026-03-13
probes_per_target = 2
min_spacing_hours = 1

[ethics]
max_probes_per_account = 6
max_probes_per_account_per_day = 4

[slots.business]
days = ["mon", "tue", "wed", "thu", "fri"]
start = "09:00"
end = "17:00"

[channels.x]
api_base = "https://api.x.com"
account = "replybenchprobe"
token_env = "REPLYBENCH_X_TOKEN"

[channels.mastodon]
api_base = "https://mastodon.social"
account = "replybench"
token_env = "REPLYBENCH_MASTODON_TOKEN"

{countries}""",
        encoding="utf-8",
    )
    rows = ["brand,brand_name,sector,country,channel,handle,scope"]
    for b in BRANDS:
        for c in COUNTRIES:
            rows.append(f"{b},{b.capitalize()} Co,retail,{c},x,{b.capitalize()},global")
            rows.append(f"{b},{b.capitalize()} Co,retail,{c},mastodon,{b}@social.{b}.test,global")
    (path / "targets.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (path / "scripts.csv").write_text(SCRIPTS, encoding="utf-8")
    (path / "simulator.toml").write_text(BOTS, encoding="utf-8")
    return path


def read_journal(d: Path) -> sqlite3.Connection:
    con = sqlite3.connect(f"file:{journal_path(d)}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    return con


def dms_with_another_probe_open(d: Path, con: sqlite3.Connection) -> int:
    """Brand DMs (ledger) written while another probe to the same account was open: the
    DMs a matcher by time alone could give to the wrong probe."""
    probes = con.execute("SELECT channel, handle, message_id, sent_at, closes_at FROM probes")
    windows = [(r[0], r[1].lower(), r[2], parse_iso(r[3]), parse_iso(r[4])) for r in probes]
    n = 0
    for e in read_ledger(ledger_path(d)):
        if e.get("role") != "brand" or e.get("reply_kind") != "direct_message":
            continue
        channel, at = str(e.get("channel") or "x"), parse_iso(str(e["created_at"]))
        author = str(e["author"]).lower()
        if any(
            ch == channel and h == author and mid != e["probe_post_id"] and sent <= at < closes
            for ch, h, mid, sent, closes in windows
        ):
            n += 1
    return n


async def test_every_dm_is_credited_to_the_probe_the_ledger_says_it_answers(
    tmp_path: Path,
) -> None:
    d = global_accounts_study(tmp_path / "global")
    plan = make_plan(load_study(d))
    clock = SharedClock(min(p.slot_start_at for p in plan) - timedelta(hours=1))
    sim = serve_on(d, clock)
    try:
        summary = await run_campaign(d, api_base=sim.url, env={}, clock=clock, config=CONFIG)
    finally:
        sim.stop()
    assert summary.counts == {"closed": len(plan)}
    con = read_journal(d)
    try:
        last_read = last_observation(con)
        # The study exercises what it is about: DMs while other probes of the account are open.
        assert dms_with_another_probe_open(d, con) >= 10
        truth = ledger_answers(d, con, last_read)
        seen = journal_answers(con)
        wrong = {
            p: (sorted(seen.get(p, set()) - items), sorted(items - seen.get(p, set())))
            for p, items in truth.items()
            if seen.get(p, set()) != items
        }
        extra = {p: sorted(items) for p, items in seen.items() if p not in truth}
        assert not wrong and not extra, (list(wrong.items())[:3], list(extra.items())[:3])

        # The numbers a reader sees: each probe's first response, in the journal as in truth.
        replies = con.execute("SELECT channel, reply_id, created_at, kind FROM replies")
        created: dict[str, datetime] = {}
        kinds: dict[str, str] = {}
        for r in replies:
            key = f"{r['channel']}:{r['reply_id']}"
            created[key], kinds[key] = parse_iso(r["created_at"]), str(r["kind"])
        assert first_answers(seen, created, kinds) == first_answers(truth, created, kinds)

        # Nothing was guessed: every brand DM the runner left unmatched was counted.
        unmatched_dms = con.execute(
            "SELECT count(*) FROM replies WHERE probe_id IS NULL AND kind = 'direct_message'"
        ).fetchone()[0]
        events = con.execute("SELECT count(*) FROM events WHERE kind = ?", (AMBIGUOUS,))
        assert unmatched_dms == events.fetchone()[0] == read_status(d).ambiguous_dms
        # And a reply is never seen before it was written.
        early = con.execute("SELECT count(*) FROM replies WHERE seen_at < created_at")
        assert early.fetchone()[0] == 0
    finally:
        con.close()
