"""One runner process holding 10,000 open probes.

A synthetic study of 1,000 brands x 10 countries (10,000 accounts, one probe each) sends every
probe within a week and watches each for a week, so at the end of the sending period all
10,000 windows are open at once. The campaign runs in-process against the simulator on a
manual clock; we measure wall time, peak memory, the number of open probes at the peak, and
what one inbox poll costs (the adapter's reads plus matching and journaling) as the number of
open probes grows. Prints the numbers and writes them to benchmarks/RESULTS.md.

    .venv/bin/python benchmarks/run.py runner
"""

from __future__ import annotations

import asyncio
import resource
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import machine, write_section  # noqa: E402
from probes.channels.base import Cursor, Reply  # noqa: E402
from probes.channels.x.adapter import XChannel  # noqa: E402
from probes.runner import Runner, RunnerConfig  # noqa: E402
from probes.sim import XPlatform  # noqa: E402
from study.clock import ManualClock  # noqa: E402
from study.journal.campaign import Journal  # noqa: E402
from study.load import load_study  # noqa: E402
from study.paths import ledger_path  # noqa: E402
from study.plan import make_plan  # noqa: E402

COUNTRIES = [
    ("US", "America/New_York"), ("GB", "Europe/London"), ("CA", "America/Toronto"),
    ("AU", "Australia/Sydney"), ("IN", "Asia/Kolkata"), ("IE", "Europe/Dublin"),
    ("NZ", "Pacific/Auckland"), ("ZA", "Africa/Johannesburg"), ("SG", "Asia/Singapore"),
    ("PH", "Asia/Manila"),
]  # fmt: skip
BRANDS = 1000


def write_study(d: Path) -> None:
    d.mkdir(parents=True)
    countries = "\n".join(
        f'[countries.{c}]\nname = "{c}"\ntimezone = "{tz}"\nlanguage = "en"\n'
        for c, tz in COUNTRIES
    )
    (d / "study.toml").write_text(
        f"""[study]
name = "10,000 open probes"
seed = 1
window_hours = 168
start = 2026-03-02
end = 2026-03-08
probes_per_target = 1
min_spacing_hours = 0

[ethics]
max_probes_per_account = 1
max_probes_per_account_per_day = 1

[slots.day]
days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
start = "00:00"
end = "23:59"

[channels.x]
api_base = "https://api.x.com"
account = "replybenchprobe"
token_env = "REPLYBENCH_X_TOKEN"

{countries}""",
        encoding="utf-8",
    )
    rows = ["brand,brand_name,sector,country,channel,handle,scope"]
    for i in range(BRANDS):
        for c, _ in COUNTRIES:
            rows.append(f"b{i:04d},Brand {i},retail,{c},x,b{i:04d}_{c},local")
    (d / "targets.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (d / "scripts.csv").write_text(
        "script,category,language,text\n"
        'q,question,en,"{handle} Hello from {country}, how can I check an order?"\n',
        encoding="utf-8",
    )


class TimedChannel:
    """The X channel, with each inbox poll timed against the probes open at that moment."""

    def __init__(self, inner: XChannel, journal: Journal) -> None:
        self.inner = inner
        self.name = inner.name
        self.journal = journal
        self.polls: list[tuple[int, float]] = []
        self.rate_limits = inner.rate_limits

    async def send(self, probe):  # type: ignore[no-untyped-def]
        return await self.inner.send(probe)

    async def find_sent(self, probe, since):  # type: ignore[no-untyped-def]
        return await self.inner.find_sent(probe, since)

    async def inbox(self, since: Cursor | None) -> tuple[list[Reply], Cursor]:
        open_now = self.journal.counts().get("sent", 0)
        t = time.perf_counter()
        result = await self.inner.inbox(since)
        self.polls.append((open_now, time.perf_counter() - t))
        return result


async def campaign(d: Path) -> dict[str, float]:
    t0 = time.perf_counter()
    study = load_study(d)
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    plan = make_plan(study)
    t_plan = time.perf_counter() - t0
    clock = ManualClock(min(p.slot_start_at for p in plan) - timedelta(hours=1))
    platform = XPlatform.for_study(study, clock, ledger=ledger_path(d))
    journal = Journal.create_or_open(
        d, plan, study_name=study.name, window_hours=study.window_hours, now=clock.now()
    )
    peak_open = 0
    poll_costs: list[tuple[int, float]] = []
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(platform.handle),
        base_url="https://api.x.test",
        headers={"Authorization": "Bearer bench"},
    ) as client:
        channel = TimedChannel(XChannel(client, account="replybenchprobe", clock=clock), journal)
        runner = Runner(
            study, journal, {"x": channel}, clock,
            config=RunnerConfig(reconcile_after_real_s=0), seed=1,
        )  # fmt: skip
        original = runner.polls.read

        async def poll(name: str) -> None:
            nonlocal peak_open
            open_now = journal.counts().get("sent", 0)
            peak_open = max(peak_open, open_now)
            t = time.perf_counter()
            await original(name)
            poll_costs.append((open_now, time.perf_counter() - t))

        runner.polls.read = poll  # type: ignore[method-assign]
        t0 = time.perf_counter()
        summary = await runner.run()
        t_run = time.perf_counter() - t0
    platform.close()
    at_peak = [c for n, c in poll_costs if n >= 0.9 * peak_open]
    early = [c for n, c in poll_costs if n <= 0.1 * peak_open]
    return {
        "probes": float(len(plan)),
        "load_s": t_load,
        "plan_s": t_plan,
        "run_s": t_run,
        "polls": float(len(poll_costs)),
        "peak_open": float(peak_open),
        "poll_ms_at_peak": 1000 * sum(at_peak) / max(1, len(at_peak)),
        "poll_ms_early": 1000 * sum(early) / max(1, len(early)),
        "closed": float(summary.counts.get("closed", 0)),
        "answered": float(summary.answered),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "study"
        write_study(d)
        r = asyncio.run(campaign(d))
    lines = [
        "## 10,000 open probes in one runner (`benchmarks/bench_runner.py`)",
        "",
        f"1,000 brands x 10 countries, one probe each, all sent within a week and watched for a "
        f"week, so all windows are open at once; in-process against the simulator on a manual "
        f"clock (no network), on {machine()}.",
        "",
        "| probes | peak open | load (s) | plan (s) | campaign (s) | polls | poll at peak (ms) "
        "| poll early (ms) | closed | answered | peak RSS (MB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {r['probes']:,.0f} | {r['peak_open']:,.0f} | {r['load_s']:.2f} | {r['plan_s']:.2f} "
        f"| {r['run_s']:.1f} | {r['polls']:,.0f} | {r['poll_ms_at_peak']:.1f} "
        f"| {r['poll_ms_early']:.1f} | {r['closed']:,.0f} | {r['answered']:,.0f} "
        f"| {r['peak_rss_mb']:.0f} |",
        "",
        "A poll makes the same two reads (mentions, DM events) whatever the number of open "
        "probes, and matches each new item by a dictionary look-up; no request is made per "
        "probe. Its cost still grows with the campaign (the poll columns: under 10% and over "
        "90% of the peak open): more replies arrive per poll, and closing windows and "
        "scheduling the next poll query the open probes in the journal.",
    ]
    print("\n".join(lines))
    write_section("runner", "\n".join(lines))


if __name__ == "__main__":
    main()
