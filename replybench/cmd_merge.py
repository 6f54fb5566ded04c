"""`replybench merge`: join the journals of a team's `run --persona` runs into the study's."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from replybench.common import StudyDir, handles_errors

commands = typer.Typer()


@commands.command(
    epilog="Example: replybench merge my-study anna/journal/journal.sqlite "
    "ben/journal/journal.sqlite"
)
@handles_errors
def merge(
    study_dir: StudyDir,
    journals: Annotated[
        list[Path],
        typer.Argument(
            help="The journals to merge (journal/journal.sqlite of each member's copy of the "
            "study folder).",
            show_default=False,
        ),
    ],
) -> None:
    """Merge the journals of `run --persona` runs into the study's journal: the same design
    only, conflicts refused, nothing lost; merging again changes nothing."""
    from study.clock import SystemClock
    from study.journal.merge import merge_journals
    from study.load import load_study
    from study.personas import personas_of
    from study.plan import make_plan

    study = load_study(study_dir)
    summary = merge_journals(
        study_dir,
        journals,
        make_plan(study),
        study_name=study.name,
        window_hours=study.window_hours,
        personas=personas_of(study),
        now=SystemClock().now(),
    )
    if not summary.changed:
        print(
            f"{study_dir}: nothing new in {summary.journals} journal(s); the journal is as it was"
        )
        return
    print(
        f"{study_dir}: merged {summary.journals} journal(s): {summary.probes} probe(s), "
        f"{summary.replies} repl{'y' if summary.replies == 1 else 'ies'} and "
        f"{summary.events} event(s) taken; `replybench status {study_dir}` shows each persona"
    )
