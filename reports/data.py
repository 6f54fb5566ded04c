"""The published data files as the site's pages read them, and safe file names.

`analysis.publish.publish_data` writes the files (see its docstring for their contents);
this module only reads them: `load(data_dir)` gives a `SiteData` with the JSON parsed and
the Kaplan-Meier curves grouped by brand. Nothing here computes a statistic.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from study.countries import COUNTRIES
from study.errors import StudyError

DATA_FILES: tuple[tuple[str, str], ...] = (
    ("outcomes.csv", "one row per probe sent: its first response or censoring"),
    ("metrics.json", "every group's statistics and the comparisons between brands"),
    ("breakdowns.json", "each brand by slot, scope and channel; kinds of response"),
    ("curves.csv", "Kaplan-Meier curves of the field and of each brand"),
    ("exchanges.json", "the example exchanges shown on the company pages"),
    ("quality.json", "quality ratings per brand and the raters' agreement"),
    ("design.json", "the study design: slots, scripts, window, caps, targets"),
    ("manifest.json", "what produced these files: versions, inputs, seed, checksums"),
)
DESIGN_FILES: tuple[tuple[str, str], ...] = (
    ("targets.csv", "the study's targets as the researchers wrote them"),
    ("scripts.csv", "the inquiries in every language, as the researchers wrote them"),
)
REQUIRED = tuple(name for name, _ in DATA_FILES)
# Written only for a study whose study.toml names its previous wave (analysis.waves).
WAVES_FILE = ("waves.json", "the changes since the previous wave, with 95% intervals")
_UNSAFE = re.compile(r"[^a-z0-9_-]+")
_RESERVED = {"con", "prn", "aux", "nul", "index", "methodology"}


@dataclass(frozen=True)
class Steps:
    """One Kaplan-Meier curve: the survival just after each time (the first at 0 hours)."""

    times: tuple[float, ...]
    survival: tuple[float, ...]

    def answered_by(self, hours: float) -> float:
        """1 - S(hours): the step function read at `hours` (flat after the last step)."""
        s = 1.0
        for t, v in zip(self.times, self.survival, strict=True):
            if t > hours:
                break
            s = v
        return 1.0 - s


@dataclass(frozen=True)
class SiteData:
    """Everything the pages show, as published."""

    metrics: dict[str, Any]
    breakdowns: dict[str, Any]
    field_curve: Steps | None
    curves: dict[str, Steps]
    exchanges: list[dict[str, Any]]
    quality: dict[str, Any]
    design: dict[str, Any]
    manifest: dict[str, Any]
    waves: dict[str, Any] | None = None  # the changes since the previous wave, if any


def load(data_dir: Path) -> SiteData:
    """Read the data files in `data_dir`; StudyError names the first one missing."""
    for name in REQUIRED:
        if not (data_dir / name).is_file():
            raise StudyError(
                f"{data_dir / name}: missing; write the site's data first "
                "(analysis.publish.publish_data, or replybench report)"
            )

    def read(name: str) -> Any:
        return json.loads((data_dir / name).read_text(encoding="utf-8"))

    field, curves = _curves(data_dir / "curves.csv")
    return SiteData(
        metrics=read("metrics.json"),
        breakdowns=read("breakdowns.json"),
        field_curve=field,
        curves=curves,
        exchanges=read("exchanges.json"),
        quality=read("quality.json"),
        design=read("design.json"),
        manifest=read("manifest.json"),
        waves=read(WAVES_FILE[0]) if (data_dir / WAVES_FILE[0]).is_file() else None,
    )


def _curves(path: Path) -> tuple[Steps | None, dict[str, Steps]]:
    points: dict[tuple[str, str], tuple[list[float], list[float]]] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            times, survival = points.setdefault((row["grouping"], row["brand"]), ([], []))
            times.append(float(row["time_hours"]))
            survival.append(float(row["survival"]))
    steps = {key: Steps(tuple(t), tuple(s)) for key, (t, s) in points.items()}
    field = next((v for (g, _), v in steps.items() if g == "overall"), None)
    return field, {b: v for (g, b), v in steps.items() if g == "brand"}


def slugs(ids: Iterable[str]) -> dict[str, str]:
    """A file-name stem for each id: lower-case letters, digits, '-' and '_' only.

    An id that is such a name but for its case ('kaito', 'DE') keeps it in lower case;
    any other, or one whose lower case another id took first, gets its cleaned form plus 8
    hex digits of its SHA-1, so no two ids share a stem (on case-blind file systems too)
    and no stem leaves its folder ('../../etc/passwd' becomes 'etc-passwd-' + hash).
    """
    out: dict[str, str] = {}
    used: set[str] = set()
    for key in sorted(set(ids), key=lambda k: (not _plain(k), k != k.lower(), k)):
        stem = _UNSAFE.sub("-", key.lower()).strip("-_")[:60].strip("-_")
        if not _plain(key) or stem in used:
            digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:8]
            stem = f"{stem}-{digest}" if stem else f"x-{digest}"
        used.add(stem)
        out[key] = stem
    return out


def _plain(key: str) -> bool:
    key = key.lower()
    return (
        bool(key)
        and len(key) <= 60
        and _UNSAFE.search(key) is None
        and key[0] not in "-_"
        and key not in _RESERVED
    )


def country_name(design: dict[str, Any], code: str) -> str:
    """The country's name from the design, else from ISO 3166, else the code itself."""
    if code == "ZZ":  # ISO 3166's user-assigned code for "unknown" (TWCS imports use it)
        return "Unknown country"
    for c in design.get("countries") or ():
        if c["code"] == code:
            return str(c["name"])
    return COUNTRIES.get(code, code)
