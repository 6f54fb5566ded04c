"""The commands that design a study: `init`, `validate`, `plan`, `power` and `new-wave`."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from replybench.common import StudyDir, err, handles_errors
from study.errors import StudyProblems, UsageError
from study.model import Study

commands = typer.Typer()


@commands.command(epilog="Example: replybench init my-study")
@handles_errors
def init(study_dir: StudyDir) -> None:
    """Write a small, complete study folder to start from."""
    from study.scaffold import init_study

    written = init_study(study_dir)
    for path in written:
        print(f"wrote {path}")
    print(f"next: edit the files, then: replybench validate {study_dir}")


@commands.command(epilog="Example: replybench validate data/examples/uxalliance")
@handles_errors
def validate(study_dir: StudyDir) -> None:
    """Check a study folder (simulator.toml included) and list every problem at once, as
    FILE:LINE: what; the fix."""
    from probes.sim.profiles import study_problems
    from study.load import find_problems
    from study.plan import plan_problems

    study, problems = find_problems(study_dir)
    if study is not None:
        problems = problems + plan_problems(study)
    problems = problems + study_problems(study_dir, study)
    if problems:
        raise StudyProblems(problems)
    assert study is not None
    from study.budget import limit_problems
    from study.plan import make_plan

    if over := limit_problems(study, make_plan(study)):  # the platforms' posting limits
        raise StudyProblems(over)
    if study.separate_windows:
        from study.plan_windows import overlap_note

        note = overlap_note(study, make_plan(study))
        if note:
            print(note)
    n = len(study.probed_targets)
    print(
        f"{study_dir}: ok: {len(study.targets)} targets ({n} probed), "
        f"{len(study.scripts)} scripts, {len(study.countries)} countries"
    )
    _warn_past_period(study)
    from study.approval import approval_warning

    if warning := approval_warning(study):
        err(warning)


def _warn_past_period(study: Study) -> None:
    """Say so (a warning, not an error) when the study's sending period is already over."""
    from study.clock import SystemClock
    from study.plan_time import past_period_warning

    if warning := past_period_warning(study, SystemClock().now()):
        err(warning)


@commands.command(epilog="Example: replybench plan data/examples/uxalliance --json > plan.json")
@handles_errors
def plan(
    study_dir: StudyDir,
    as_json: Annotated[bool, typer.Option("--json", help="Print every probe as JSON.")] = False,
) -> None:
    """Show the schedule: deterministic from the study's seed (same folder, same bytes)."""
    from study.budget import budget_json, budget_lines
    from study.load import load_study
    from study.plan import make_plan, plan_json, plan_summary
    from study.plan_windows import overlap_note

    study = load_study(study_dir)
    planned = make_plan(study)
    _warn_past_period(study)
    if as_json:  # the probes, and each probe account against the platforms' rules
        rows = {"accounts": budget_json(study, planned), "probes": json.loads(plan_json(planned))}
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
        return
    note = overlap_note(study, planned)
    summary = plan_summary(planned)
    print(
        f"{len(planned)} probes, {planned[0].scheduled_at:%Y-%m-%d %H:%M} to "
        f"{planned[-1].scheduled_at:%Y-%m-%d %H:%M} UTC"
        if planned
        else "0 probes"
    )
    for heading, counts in summary.items():
        row = "  ".join(f"{k} {v}" for k, v in counts.items())
        print(f"by {heading}: {row}")
    if note:
        print(note)
    print("\n".join(budget_lines(study, planned)))


@commands.command(
    epilog="Example: replybench power --rates 0.6 0.8   or   "
    "replybench power --medians 2 6 --window-hours 72   or   "
    "replybench power --persona-rate 0.6 --difference 0.05"
)
@handles_errors
def power(
    rates: Annotated[
        tuple[float, float] | None,
        typer.Option(help="Two response rates to tell apart, e.g. 0.6 0.8."),
    ] = None,
    medians: Annotated[
        tuple[float, float] | None,
        typer.Option(help="Two median response times in hours, e.g. 2 6."),
    ] = None,
    window_hours: Annotated[
        float | None, typer.Option(help="Observation window (with --medians).")
    ] = None,
    answer_rate: Annotated[
        float | None, typer.Option(help="Share answered at all (with --medians).")
    ] = None,
    persona_rate: Annotated[
        float | None,
        typer.Option(help="Response rate to expect, to tell personas apart (with --difference)."),
    ] = None,
    difference: Annotated[
        float, typer.Option(help="Difference between personas to detect (0.05 = 5 points).")
    ] = 0.05,
    alpha: Annotated[float, typer.Option(help="Significance level (two-sided).")] = 0.05,
    power_: Annotated[float, typer.Option("--power", help="Power wanted.")] = 0.8,
) -> None:
    """How many probes per brand are needed to tell two brands apart, or inquiries per
    persona to tell personas apart."""
    from analysis.power import power_report

    if rates is None and medians is None and persona_rate is None:
        raise UsageError(
            "give --rates P1 P2, --medians H1 H2 with --window-hours W, or --persona-rate P"
        )
    if medians is not None and window_hours is None:
        raise UsageError("--medians needs --window-hours, e.g. --window-hours 72")
    if not 0 < alpha < 1 or not 0 < power_ < 1:
        raise UsageError("--alpha and --power are shares between 0 and 1, e.g. 0.05 and 0.8")
    print(
        power_report(
            p1=rates[0] if rates else None,
            p2=rates[1] if rates else None,
            median1_h=medians[0] if medians else None,
            median2_h=medians[1] if medians else None,
            window_h=window_hours,
            alpha=alpha,
            power=power_,
            answer_rate=answer_rate,
            base_rate=persona_rate,
            difference=difference,
        )
    )


@commands.command(
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
