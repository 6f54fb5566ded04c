"""The commands for waves: `replybench new-wave` and `replybench compare` (registered on
replybench.cli's app when it is imported)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from replybench.cli import Replicates, Seed, _replicates, _wide_console, app, handles_errors
from study.errors import UsageError


@app.command(
    "new-wave", epilog="Example: replybench new-wave my-study --out my-study-2 --start 2026-04-06"
)
@handles_errors
def new_wave(
    study_dir: Annotated[Path, typer.Argument(help="The study folder of the last wave.")],
    out: Annotated[Path, typer.Option(help="The new wave's folder.", show_default=False)],
    start: Annotated[
        str | None,
        typer.Option(
            help="First sending day, YYYY-MM-DD (default: the first day on the old start's "
            "weekday after the old wave's last window closes)."
        ),
    ] = None,
) -> None:
    """Start the next wave: the same design in a new folder, its sending period moved on,
    `wave` one more and `previous` pointing back (docs/study-folder.md, Waves)."""
    from study.waves import new_wave as make

    try:
        begin = date.fromisoformat(start) if start else None
    except ValueError:
        raise UsageError(f"--start {start!r} is not a date; write it like 2026-04-06") from None
    w = make(study_dir, out, begin)
    print(f"wrote {w.folder}: wave {w.wave}, sending {w.start} to {w.end}, previous {w.previous}")
    print(f"next: replybench validate {w.folder}, then run it as any study")


@app.command(epilog="Example: replybench compare my-study my-study-2 --json changes.json")
@handles_errors
def compare(
    old: Annotated[Path, typer.Argument(help="The earlier study (or wave).", show_default=False)],
    new: Annotated[Path, typer.Argument(help="The later study (or wave).", show_default=False)],
    json_file: Annotated[
        Path | None, typer.Option("--json", help="Also write the changes as JSON here.")
    ] = None,
    replicates: Replicates = 1000,
    seed: Seed = 2026,
) -> None:
    """What changed from OLD to NEW for the brands both asked: response rate, median and
    mean time to response, and rank, each change with its 95% interval."""
    import json

    from analysis.waves import compare_waves
    from analysis.waves_table import changes_table, only_lines
    from study.atomic import write_atomic

    result = compare_waves(old, new, replicates=_replicates(replicates), seed=seed)
    _wide_console().print(changes_table(result))
    for line in only_lines(result):
        print(line)
    if json_file is not None:
        text = json.dumps(result, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        write_atomic(json_file, text.encode("utf-8"))
        print(f"wrote {json_file}")
