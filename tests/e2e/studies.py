"""Small study folders for end-to-end runs, built from the `init` scaffold."""

from __future__ import annotations

import re
from pathlib import Path

from study.scaffold import init_study

BRANDS = ["acorn", "birch", "cedar", "dune", "ember", "fjord", "grove", "heath"]


def short_study(path: Path, *, window_hours: float = 6, brands: int = 8) -> Path:
    """One round on one weekday, business hours only, short windows: a campaign of a few
    virtual hours, so a crash drill at moderate speed spans many kills."""
    init_study(path)
    toml = (path / "study.toml").read_text(encoding="utf-8")
    toml = re.sub(r"window_hours = \d+", f"window_hours = {window_hours}", toml)
    toml = re.sub(r"start = 2026-03-02", "start = 2026-03-03", toml)
    toml = re.sub(r"end = 2026-03-22", "end = 2026-03-03", toml)
    toml = re.sub(r"probes_per_target = \d+", "probes_per_target = 1", toml)
    toml = re.sub(r"min_spacing_hours = \d+", "min_spacing_hours = 0", toml)
    toml = re.sub(r"\[slots\.evening\].*?(?=\[channels)", "", toml, flags=re.S)
    (path / "study.toml").write_text(toml, encoding="utf-8")
    rows = ["brand,brand_name,sector,country,channel,handle,scope"]
    for b in BRANDS[:brands]:
        name = b.capitalize()
        rows.append(f"{b},{name} Co,retail,US,x,{name}_US,local")
        rows.append(f"{b},{name} Co,retail,DE,x,{name}_DE,local")
    (path / "targets.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (path / "simulator.toml").write_text(
        """# Quick, talkative bots for end-to-end tests.
[defaults]
answer_rate = 0.7
median_minutes = 40
sigma = 0.8
days = "all"
opens = "00:00"
closes = "24:00"
auto_ack_share = 0.2
redirect_share = 0.2
dm_share = 0.2
""",
        encoding="utf-8",
    )
    return path
