"""The commands that turn a journal into results: `analyze`, `compare`, `report`, `serve` and
`export`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from replybench.common import (
    Replicates,
    Seed,
    StudyDir,
    checked_replicates,
    handles_errors,
    steps,
    wide_console,
    write_json,
)

commands = typer.Typer()

AsOf = Annotated[
    str | None,
    typer.Option(help="Analyse as of this ISO 8601 time (default: the last observation)."),
]


@commands.command(epilog="Example: replybench analyze replybench-demo --json metrics.json")
@handles_errors
def analyze(
    study_dir: StudyDir,
    as_of: AsOf = None,
    json_file: Annotated[
        Path | None, typer.Option("--json", help="Also write the full results as JSON here.")
    ] = None,
    replicates: Replicates = 1000,
    seed: Seed = 2026,
) -> None:
    """Response rates and times with censoring, intervals, ranks and tiers; brands ranked."""
    from analysis import analyze as run_analysis
    from analysis import parse_as_of
    from analysis.table import brand_table, open_note, persona_lines

    at = parse_as_of(as_of) if as_of else None
    n = checked_replicates(replicates)
    with steps() as step:
        result = run_analysis(study_dir, at, replicates=n, seed=seed, step=step)
    wide_console().print(brand_table(result))
    if result["study"]["open"]:
        print(open_note(result))
    for line in persona_lines(result):
        print(line)
    if json_file is not None:
        write_json(json_file, result)


@commands.command(epilog="Example: replybench compare my-study my-study-2 --json changes.json")
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
    from analysis.waves import compare_waves
    from analysis.waves_table import changes_table, only_lines

    result = compare_waves(old, new, replicates=checked_replicates(replicates), seed=seed)
    wide_console().print(changes_table(result))
    for line in only_lines(result):
        print(line)
    if json_file is not None:
        write_json(json_file, result)


@commands.command(epilog="Example: replybench report replybench-demo --out site")
@handles_errors
def report(
    study_dir: StudyDir,
    out: Annotated[Path, typer.Option(help="The folder to write the site into.")] = Path("site"),
    as_of: AsOf = None,
    replicates: Replicates = 1000,
    seed: Seed = 2026,
    force: Annotated[
        bool,
        typer.Option(help="Replace --out even if it holds files replybench did not write."),
    ] = False,
) -> None:
    """Write the published scorecards: a static site with a page per company and country,
    the method, and the data (works from file:// and any web server). The site is built
    beside --out and replaces it only when complete."""
    n = checked_replicates(replicates)
    index = write_site(study_dir, out, as_of, replicates=n, seed=seed, force=force)
    print(f"wrote {index}")


def write_site(
    study_dir: Path,
    out: Path,
    as_of: str | None,
    *,
    replicates: int = 1000,
    seed: int = 2026,
    force: bool = False,
) -> Path:
    """Analyse the study and publish its scorecards into `out` (built beside it, swapped in
    whole); return the site's index page. `report` and `demo` both end here."""
    from analysis import parse_as_of
    from analysis.publish import publish_data
    from reports.render import write_site as render_site
    from reports.site_folder import staged_site

    at = parse_as_of(as_of) if as_of else None
    with staged_site(out, force=force, keep=[study_dir]) as stage:
        paths = publish_data(study_dir, stage / "data", at, replicates=replicates, seed=seed)
        render_site(paths, stage, study_dir)
    return out / "index.html"


@commands.command(epilog="Example: replybench serve site --port 8000")
@handles_errors
def serve(
    site: Annotated[Path, typer.Argument(help="A site written by replybench report.")],
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8000,
) -> None:
    """Preview a published site at http://127.0.0.1:PORT/ (Ctrl-C stops)."""
    from reports.render import serve_site

    try:
        serve_site(site, port, ready=lambda url: print(f"serving {site} at {url} (Ctrl-C stops)"))
    except KeyboardInterrupt:
        print("stopped")


@commands.command(
    epilog="Example: replybench export replybench-demo probes --format csv --out probes.csv"
)
@handles_errors
def export(
    study_dir: StudyDir,
    table: Annotated[
        str, typer.Argument(help="probes, replies, outcomes or metrics.", show_default=False)
    ],
    fmt: Annotated[str, typer.Option("--format", help="csv, json or parquet.")] = "csv",
    out: Annotated[Path | None, typer.Option(help="Write here instead of standard output.")] = None,
) -> None:
    """Export the journal's probes or replies, or the analysis' outcomes or metrics (ISO 8601
    UTC times)."""
    from analysis.export import export_table

    data = export_table(study_dir, table, fmt, out)
    if data is not None:
        sys.stdout.buffer.write(data)
