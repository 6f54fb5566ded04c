"""How long the published site takes for 1,000 brands x 20 countries.

A synthetic study folder is written straight to disk: study.toml (20 countries, the example
study's slots), targets.csv (1,000 brands x 20 countries on X: 85% local accounts, 10%
asked through the brand's global account, 5% with no account), the example study's
scripts.csv, and a journal with 3 probes per probed target (about 57,000 probes over three
weeks), each brand with its own response propensity and speed, replies of
every kind (public reply, DM, "please DM us" redirect, auto-acknowledgement) and a 72-hour
window. The benchmark times `analysis.publish.publish_data` (the data files, including
`analysis.analyze` with its 1,000 bootstrap replicates) and `reports.render.render_site`
(every page and chart; once with a worker process per CPU, as by default, and once in a
single process), prints the numbers and writes the `report` section of
benchmarks/RESULTS.md. The target: the site renders in at most 60 s on 2 cores.

    .venv/bin/python benchmarks/bench_report.py [BRANDS]
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.publish import publish_data  # noqa: E402
from benchmarks.common import machine, write_section  # noqa: E402
from reports.render import render_site  # noqa: E402
from study.journal.schema import SCHEMA_VERSION, create_schema  # noqa: E402
from study.paths import journal_path  # noqa: E402
from study.timeutil import iso  # noqa: E402

BRANDS = 1000
WINDOW = 72.0
ROUNDS = 3
EXAMPLE = Path(__file__).resolve().parent.parent / "data" / "examples" / "uxalliance"
COUNTRIES = [
    ("US", "United States", "America/New_York", "en"),
    ("GB", "United Kingdom", "Europe/London", "en"),
    ("CA", "Canada", "America/Toronto", "en"),
    ("AU", "Australia", "Australia/Sydney", "en"),
    ("IN", "India", "Asia/Kolkata", "en"),
    ("IE", "Ireland", "Europe/Dublin", "en"),
    ("DE", "Germany", "Europe/Berlin", "de"),
    ("AT", "Austria", "Europe/Vienna", "de"),
    ("FR", "France", "Europe/Paris", "fr"),
    ("BE", "Belgium", "Europe/Brussels", "fr"),
    ("ES", "Spain", "Europe/Madrid", "es"),
    ("MX", "Mexico", "America/Mexico_City", "es"),
    ("AR", "Argentina", "America/Argentina/Buenos_Aires", "es"),
    ("IT", "Italy", "Europe/Rome", "it"),
    ("NL", "Netherlands", "Europe/Amsterdam", "nl"),
    ("SE", "Sweden", "Europe/Stockholm", "sv"),
    ("PL", "Poland", "Europe/Warsaw", "pl"),
    ("BR", "Brazil", "America/Sao_Paulo", "pt"),
    ("JP", "Japan", "Asia/Tokyo", "ja"),
    ("KR", "South Korea", "Asia/Seoul", "ko"),
]
SLOTS = ("business", "evening", "weekend")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REPLIES = {
    "public_reply": "Hi! Sorry to hear that. Your order is on its way; it should arrive soon.",
    "direct_message": "Hello, thanks for writing. I checked your order: it ships tomorrow.",
    "redirect": "Hi there! Please send us a DM with your order number and we'll check.",
    "auto_ack": "Thanks for your message. This is an automatic reply: we'll get back soon.",
}

STUDY_TOML = """\
[study]
name = "Synthetic benchmark: {brands} brands x {countries} countries"
seed = 1
window_hours = {window}
start = 2026-03-02
end = 2026-03-22
probes_per_target = {rounds}
min_spacing_hours = 1

[ethics]
max_probes_per_account = 100
max_probes_per_account_per_day = 40

[slots.business]
days = ["mon", "tue", "wed", "thu", "fri"]
start = "09:00"
end = "17:00"

[slots.evening]
days = ["mon", "tue", "wed", "thu", "fri"]
start = "18:00"
end = "22:00"

[slots.weekend]
days = ["sat", "sun"]
start = "10:00"
end = "18:00"

[channels.x]
api_base = "https://api.x.com"
account = "replybenchprobe"
token_env = "REPLYBENCH_X_TOKEN"
"""


def make_study(folder: Path, brands: int = BRANDS, seed: int = 7) -> int:
    """Write a synthetic study folder with a finished journal; the number of probes."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    toml = STUDY_TOML.format(
        brands=f"{brands:,}", countries=len(COUNTRIES), window=WINDOW, rounds=ROUNDS
    )
    for code, name, zone, language in COUNTRIES:
        toml += f'\n[countries.{code}]\nname = "{name}"\ntimezone = "{zone}"\n'
        toml += f'language = "{language}"\n'
    (folder / "study.toml").write_text(toml, encoding="utf-8")
    shutil.copy(EXAMPLE / "scripts.csv", folder / "scripts.csv")
    scripts = ["delivery", "warranty", "account", "complaint"]
    targets = ["brand,brand_name,sector,country,channel,handle,scope"]
    probes: list[tuple[object, ...]] = []
    replies: list[tuple[object, ...]] = []
    for b in range(brands):
        brand = f"b{b:04d}"
        propensity = 0.2 + 0.75 * rng.random()
        speed = 0.5 + 30 * rng.random() ** 2
        for code, _, _, _ in COUNTRIES:
            u = rng.random()
            scope = "none" if u < 0.05 else "global" if u < 0.15 else "local"
            handle = {"none": "", "global": f"B{b:04d}", "local": f"B{b:04d}_{code}"}[scope]
            targets.append(f"{brand},Brand {b:04d} Ltd,retail,{code},x,{handle},{scope}")
            if scope == "none":
                continue
            for r in range(ROUNDS):
                probe_id = f"{brand}-{code}-x-r{r + 1}"
                slot = SLOTS[(b + r) % 3]
                sent = T0 + timedelta(days=7 * r, hours=rng.random() * 100)
                text = f"@{handle} Hi, where is my order? I placed it a week ago."
                probes.append(
                    (probe_id, brand, code, "x", handle, scope, scripts[r % 4], slot, r + 1,
                     text, iso(sent), iso(sent), iso(sent + timedelta(hours=8)), "closed",
                     iso(sent), f"m{len(probes)}", iso(sent + timedelta(hours=WINDOW)))
                )  # fmt: skip
                if rng.random() < 0.08:
                    at = sent + timedelta(seconds=30)
                    replies.append(_reply(len(replies), probe_id, handle, "auto_ack", at))
                if rng.random() < propensity * (0.6 if scope == "global" else 1.0):
                    hours = round(rng.expovariate(1 / speed) * 3600) / 3600
                    if hours < WINDOW:
                        kind = rng.choice(["public_reply", "public_reply", "direct_message",
                                           "redirect"])  # fmt: skip
                        at = sent + timedelta(hours=hours)
                        replies.append(_reply(len(replies), probe_id, handle, kind, at))
    (folder / "targets.csv").write_text("\n".join(targets) + "\n", encoding="utf-8")
    _write_journal(folder, probes, replies)
    return len(probes)


def _reply(n: int, probe_id: str, handle: str, kind: str, at: datetime) -> tuple[object, ...]:
    return ("x", f"r{n}", probe_id, handle, f"id-{handle}", REPLIES[kind], iso(at), kind, iso(at))


def _write_journal(
    folder: Path, probes: list[tuple[object, ...]], replies: list[tuple[object, ...]]
) -> None:
    path = journal_path(folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    try:
        create_schema(con)
        end = T0 + timedelta(days=25)
        meta = {
            "schema_version": SCHEMA_VERSION,
            "study_name": "Synthetic benchmark study",
            "window_hours": repr(WINDOW),
            "source": "campaign",
            "last_observation": iso(end),
        }
        con.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", list(meta.items()))
        con.executemany(
            "INSERT INTO probes (probe_id, brand, country, channel, handle, scope, script, slot,"
            " round, text, scheduled_at, slot_start_at, slot_end_at, state, sent_at, message_id,"
            " closes_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            probes,
        )
        con.executemany(
            "INSERT INTO replies (channel, reply_id, probe_id, author, author_id, text,"
            " created_at, kind, seen_at) VALUES (?,?,?,?,?,?,?,?,?)",
            replies,
        )
        con.commit()
    finally:
        con.close()


def run(brands: int) -> str:
    with tempfile.TemporaryDirectory(prefix="rb-bench-report-") as tmp:
        study = Path(tmp) / "study"
        start = time.perf_counter()
        probes = make_study(study, brands)
        made = time.perf_counter() - start
        print(f"wrote a study of {probes:,} probes in {made:.1f} s", flush=True)
        site = Path(tmp) / "site"
        start = time.perf_counter()
        paths = publish_data(study, site / "data")
        published = time.perf_counter() - start
        print(f"  publish_data: {published:.1f} s", flush=True)
        start = time.perf_counter()
        render_site(paths, site, study)
        rendered = time.perf_counter() - start
        print(f"  render_site: {rendered:.1f} s", flush=True)
        start = time.perf_counter()
        render_site(paths, Path(tmp) / "serial", study, workers=1)
        serial = time.perf_counter() - start
        print(f"  render_site, one process: {serial:.1f} s", flush=True)
        files = [p for p in site.rglob("*") if p.is_file()]
        pages = sum(1 for p in files if p.suffix == ".html")
        charts = sum(1 for p in files if p.suffix == ".svg")
        size = sum(p.stat().st_size for p in files) / 1e6
        data = sum(p.stat().st_size for p in (site / "data").iterdir()) / 1e6
    verdict = "within" if rendered <= 60 else "OVER"
    lines = [
        "## Published site (`benchmarks/bench_report.py`)",
        "",
        f"Synthetic study: {brands:,} brands x {len(COUNTRIES)} countries on X (85% local "
        f"accounts, 10% global, 5% none), {ROUNDS} probes per probed target, 72-hour window; "
        f"on {machine()}.",
        "",
        "| probes | publish_data (s) | render_site (s) | render_site, 1 process (s) | pages "
        "| charts (SVG) | site (MB) | of which data/ (MB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {probes:,} | {published:.1f} | {rendered:.1f} | {serial:.1f} | {pages:,} | "
        f"{charts:,} | {size:.0f} | {data:.0f} |",
        "",
        f"render_site is {verdict} the 60 s target. publish_data includes `analyze` (pairwise "
        "log-rank tests of every pair of brands and 1,000 bootstrap replicates of the ranks).",
    ]
    return "\n".join(lines)


def main() -> None:
    brands = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else BRANDS
    section = run(brands)
    print(section)
    write_section("report", section)


if __name__ == "__main__":
    main()
