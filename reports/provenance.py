"""The method page's account of what produced the figures (data/manifest.json)."""

from __future__ import annotations

from typing import Any

from reports.context import Cell, Table
from reports.fmt import when


def manifest_table(manifest: dict[str, Any]) -> Table:
    """The manifest as a table: software versions, inputs, bootstrap, each file's SHA-256."""

    def shown(value: Any) -> str:
        return "not installed" if value is None else str(value)

    libraries = manifest.get("libraries") or {}
    bootstrap = manifest.get("bootstrap") or {}
    study = manifest.get("study") or {}
    rows: list[tuple[str, str, str]] = [
        ("replybench", shown(manifest.get("replybench")), ""),
        ("Python", shown(manifest.get("python")), ""),
        *((name, shown(v), "library") for name, v in sorted(libraries.items())),
        ("Study folder fingerprint", str(study.get("sha256", "")), "SHA-256 of its design"),
        ("As of", when(str(manifest.get("as_of"))), "the moment of analysis"),
        (
            "Bootstrap",
            f"{bootstrap.get('replicates', 0):,} replicates, seed {bootstrap.get('seed')}",
            "",
        ),
        *(
            (f"data/{name}", str(f["sha256"]), f"SHA-256 of {f['bytes']:,} bytes")
            for name, f in sorted((manifest.get("files") or {}).items())
        ),
    ]
    return Table(
        "What produced these figures (data/manifest.json)",
        (Cell("Input or software"), Cell("Version or checksum")),
        tuple((Cell(k, header=True), Cell(v, sub)) for k, v, sub in rows),
        "Rerunning replybench report on the same journal and study files with these "
        "versions gives the same files, byte for byte.",
    )
