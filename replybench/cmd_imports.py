"""The commands that bring outside work into a study: results collected by hand (`import`),
a passive corpus (`import-twcs`), probes sent by hand (`worksheet`, `import-worksheet`) and
raters' judgements (`rating-sheet`, `import-ratings`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from replybench.common import StudyDir, err, handles_errors, steps
from study.errors import StudyError, UsageError

commands = typer.Typer()


@commands.command(
    "import",
    epilog="Example: replybench import hand-study results.csv --window-hours 72",
)
@handles_errors
def import_(
    study_dir: StudyDir,
    csv_file: Annotated[Path, typer.Argument(help="CSV of hand-collected results.")],
    window_hours: Annotated[
        float, typer.Option(help="Observation window in hours.", show_default=False)
    ],
    observed_until: Annotated[
        str | None,
        typer.Option(
            help="When the researchers stopped watching for answers (ISO 8601); default: "
            "the latest time in the file."
        ),
    ] = None,
) -> None:
    """Create or extend a study from hand-collected results.

    Columns brand, country, channel, sent_at, replied_at (empty = no reply); optional handle,
    scope, script, slot, reply_kind, reply_text, inquiry_text. Times ISO 8601 with offset.
    Channel: x, mastodon, bluesky, email or manual. Nothing is imported unless every row is
    good. The format, with examples: docs/import.md.
    """
    from analysis.imports import import_csv
    from study.timeutil import parse_instant

    until = None
    if observed_until is not None:
        try:
            until = parse_instant(observed_until, "")
        except ValueError as e:
            raise UsageError(f"--observed-until {observed_until!r}: {e}") from None
    s = import_csv(study_dir, csv_file, window_hours, observed_until=until)
    verb = "created" if s.created else "extended"
    print(
        f"{verb} {s.journal}: {s.probes} probes ({s.closed} closed, {s.open} open), "
        f"{s.replies} replies; as of {s.last_observation:%Y-%m-%d %H:%M} UTC"
    )
    if s.warning:
        err(s.warning)


@commands.command(
    "import-twcs",
    epilog="Example: replybench import-twcs twcs.csv --into twcs-study --window-hours 72",
)
@handles_errors
def import_twcs(
    csv_file: Annotated[Path, typer.Argument(help="A 'Customer Support on Twitter' CSV.")],
    into: Annotated[Path, typer.Option(help="The study folder to create.", show_default=False)],
    window_hours: Annotated[float, typer.Option(help="Observation window in hours.")] = 72.0,
) -> None:
    """Read a passive corpus of brand support tweets as probes and responses."""
    from analysis.twcs import import_twcs as run_import

    with steps() as step:
        s = run_import(csv_file, into, window_hours, step=step)
    print(
        f"created {s.journal}: {s.tweets} tweets, {s.brands} brands, {s.inquiries} inquiries, "
        f"{s.responses} responses; as of {s.last_observation:%Y-%m-%d %H:%M} UTC"
    )


@commands.command(epilog="Example: replybench worksheet my-study --out calls.csv")
@handles_errors
def worksheet(
    study_dir: StudyDir,
    out: Annotated[Path, typer.Option(help="The CSV to write (a new file).", show_default=False)],
    due_by: Annotated[
        str | None,
        typer.Option(help="Only probes scheduled by this ISO 8601 time (default: all not sent)."),
    ] = None,
    persona: Annotated[
        list[str] | None,
        typer.Option(
            help="Only the probes this manual persona sends (repeatable): each person their "
            "own sheet.",
            metavar="NAME",
            show_default=False,
        ),
    ] = None,
) -> None:
    """List the probes of manual channels (phone, web form, app) to send by hand, as a CSV
    with the text to send, who sends it (persona) and columns to fill in."""
    from probes.channels.manual.worksheet import instructions
    from probes.channels.manual.worksheet import worksheet as write_sheet
    from study.timeutil import in_range, parse_iso, range_text

    try:
        when = parse_iso(due_by) if due_by else None
    except ValueError:
        raise UsageError(
            f"--due-by {due_by!r} is not an ISO 8601 time with a UTC offset; write it like "
            "2026-03-02T18:00:00+01:00"
        ) from None
    if when is not None and not in_range(when):
        raise StudyError(f"--due-by {due_by!r} is out of range: {range_text()}; check the year")
    n = write_sheet(study_dir, out, now=when, personas=persona)
    print(f"wrote {out}: {n} probe{'s' if n != 1 else ''} to send by hand")
    if note := instructions(study_dir):
        print(f"instructions: {note}")
    print(
        "fill in sent_at (and replied_at, reply_kind, reply_text, note) as ISO 8601 times with "
        f"offset, then: replybench import-worksheet {study_dir} {out}"
    )


@commands.command(
    "import-worksheet", epilog="Example: replybench import-worksheet my-study calls.csv"
)
@handles_errors
def import_worksheet(
    study_dir: StudyDir,
    csv_file: Annotated[Path, typer.Argument(help="A filled-in worksheet.", show_default=False)],
) -> None:
    """Record a filled-in worksheet: probes sent by hand and their replies (checked whole:
    nothing is recorded if a row is bad; blank rows are not done yet; importing it again
    changes nothing)."""
    from probes.channels.manual.worksheet import import_worksheet as record

    s = record(study_dir, csv_file)
    for line in s.warnings:
        err(line)
    print(
        f"recorded {s.recorded} probe{'s' if s.recorded != 1 else ''} sent by hand and "
        f"{s.replies} repl{'y' if s.replies == 1 else 'ies'}; {s.closed} window(s) closed; "
        f"{s.unchanged} row(s) recorded before, {s.blank} not done yet"
    )


@commands.command(
    "rating-sheet",
    epilog="Example: replybench rating-sheet replybench-demo --rater ana --out ana.csv",
)
@handles_errors
def rating_sheet(
    study_dir: StudyDir,
    rater: Annotated[str, typer.Option(help="The rater's name.", show_default=False)],
    out: Annotated[Path, typer.Option(help="The CSV to write.", show_default=False)],
) -> None:
    """Write a blind rating sheet (no brand, no handle; shuffled per rater)."""
    from analysis.ratings import SCALE_HELP
    from analysis.ratings import rating_sheet as write_sheet

    n = write_sheet(study_dir, rater, out)
    print(f"wrote {out}: {n} answers to rate")
    print(SCALE_HELP)


@commands.command(
    "import-ratings",
    epilog="Example: replybench import-ratings replybench-demo ana.csv",
)
@handles_errors
def import_ratings(
    study_dir: StudyDir,
    csv_file: Annotated[Path, typer.Argument(help="A filled-in rating sheet.")],
) -> None:
    """Record a filled-in rating sheet (checked whole: nothing is recorded if a row is bad)."""
    from analysis.ratings import import_ratings as record

    n = record(study_dir, csv_file)
    print(f"recorded {n} ratings from {csv_file}")
