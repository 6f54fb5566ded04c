"""The `replybench` command: each command parses its options, makes one library call, and
turns a `StudyError` into `Error: ...` and exit code 1 (2 for a `UsageError`: bad usage)."""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from study.errors import StudyError, StudyProblems, UsageError
from study.model import Study

app = typer.Typer(
    name="replybench",
    help="Responsiveness benchmarking studies: plan, probe, analyse and publish who answers, "
    "how fast and how well.\n\nStart with: replybench demo",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

F = TypeVar("F", bound=Callable[..., Any])

StudyDir = Annotated[Path, typer.Argument(help="The study folder.", show_default=False)]
# The rank intervals' bootstrap (analysis.compare.REPLICATES and SEED, kept in step by a test).
Replicates = Annotated[
    int,
    typer.Option(
        help="Bootstrap replicates for the 95% rank intervals (at least 100; 10000 for a final "
        "publication).",
    ),
]
Seed = Annotated[
    int, typer.Option(help="Seed of the bootstrap: the same seed gives the same intervals.")
]


def _version(show: bool) -> None:
    if show:
        from importlib.metadata import version

        print(f"replybench {version('replybench')}")
        raise typer.Exit()


@app.callback()
def _main(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    # The app's help (Typer(help=...)) describes the command; this only adds --version.
    pass


def _wide_console() -> Any:
    """A rich console as wide as the terminal, or 160 columns when writing to a file or pipe
    (rich would fold the tables to 80)."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=160)


def _err(line: str) -> None:
    print(line, file=sys.stderr)


STUDY_FILES = ("study.toml", "targets.csv", "scripts.csv", "simulator.toml")


def _show_problems(problems: StudyProblems, study_dir: Path | None) -> None:
    for p in problems.problems:
        where = p.file
        if study_dir is not None and where in STUDY_FILES:
            where = str(study_dir / where)  # the study's own files are named within it
        _err(f"{where}:{p.line}: {p.message}" if p.line is not None else f"{where}: {p.message}")


def handles_errors(fn: F) -> F:
    """Turn a researcher's error into `Error: ...` and exit 1 (2 for bad usage, as for the
    usage errors the option parser finds); bugs stay tracebacks."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except StudyProblems as e:
            d = kwargs.get("study_dir")
            _show_problems(e, d if isinstance(d, Path) else None)
            n = len(e.problems)
            _err(f"Error: {n} problem{'s' if n != 1 else ''} found; fix them and run again")
            raise typer.Exit(1) from None
        except UsageError as e:
            _err(f"Error: {e}")
            raise typer.Exit(2) from None
        except StudyError as e:
            _err(f"Error: {e}")
            raise typer.Exit(1) from None
        except OSError as e:
            from study.journal.file import environment_error

            if not environment_error(e):
                raise
            where = f"{e.filename}: " if e.filename else ""
            _err(
                f"Error: {where}{e.strerror or e}; free some disk space or fix the permissions, "
                "then run the same command again"
            )
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


@app.command(epilog="Example: replybench init my-study")
@handles_errors
def init(study_dir: StudyDir) -> None:
    """Write a small, complete study folder to start from."""
    from study.scaffold import init_study

    written = init_study(study_dir)
    for path in written:
        print(f"wrote {path}")
    print(f"next: edit the files, then: replybench validate {study_dir}")


@app.command(epilog="Example: replybench validate data/examples/uxalliance")
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
    if study.separate_windows:
        from study.plan import make_plan
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


def _warn_past_period(study: Study) -> None:
    """Say so (a warning, not an error) when the study's sending period is already over."""
    from study.clock import SystemClock
    from study.plan_time import past_period_warning

    if warning := past_period_warning(study, SystemClock().now()):
        _err(warning)


@app.command(epilog="Example: replybench plan data/examples/uxalliance --json > plan.json")
@handles_errors
def plan(
    study_dir: StudyDir,
    as_json: Annotated[bool, typer.Option("--json", help="Print every probe as JSON.")] = False,
) -> None:
    """Show the schedule: deterministic from the study's seed (same folder, same bytes)."""
    from study.load import load_study
    from study.plan import make_plan, plan_json, plan_summary
    from study.plan_windows import overlap_note

    study = load_study(study_dir)
    planned = make_plan(study)
    _warn_past_period(study)
    if as_json:
        sys.stdout.write(plan_json(planned))
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


@app.command(
    epilog="Example: replybench run my-study --api-base http://127.0.0.1:8765 "
    "(with 'replybench sim my-study --port 8765' running)"
)
@handles_errors
def run(
    study_dir: StudyDir,
    api_base: Annotated[
        str | None, typer.Option(help="API base URL; overrides study.toml (e.g. the simulator).")
    ] = None,
    live: Annotated[
        bool, typer.Option("--live", help="Allow a non-loopback API: post to real brands.")
    ] = False,
) -> None:
    """Run the campaign: send due probes, watch the inbox, close windows; resumable."""
    from probes.campaign import run_campaign
    from probes.health import OutageExit
    from probes.progress import campaign_display

    with campaign_display() as progress:
        try:
            summary = asyncio.run(
                run_campaign(
                    study_dir,
                    api_base=api_base,
                    live=live,
                    on_progress=progress.update,
                    on_event=progress.event,
                )
            )
        except KeyboardInterrupt:
            _err("stopped; the journal is intact: run the same command again to resume")
            raise typer.Exit(130) from None
        except OutageExit as e:  # its own exit code, so a service manager restarts the run
            _err(f"Error: {e}")
            raise typer.Exit(e.exit_code) from None
    states = ", ".join(f"{k} {v}" for k, v in sorted(summary.counts.items()))
    print(f"campaign over: {states}; {summary.answered} probes answered")


@app.command(epilog="Example: replybench backup my-study --out my-study-journal.sqlite")
@handles_errors
def backup(
    study_dir: StudyDir,
    out: Annotated[Path, typer.Option(help="The copy to write (a new file).", show_default=False)],
) -> None:
    """Copy the journal consistently (SQLite's backup API), even while `replybench run` runs.
    Never copy journal.sqlite by hand: its latest transactions live in journal.sqlite-wal."""
    from study.journal.file import backup as copy_journal
    from study.paths import journal_path

    n = copy_journal(study_dir, out)
    print(f"wrote {out}: the journal with {n} probes")
    print(
        f"to restore it: stop the runner, then copy it to {journal_path(study_dir)} (and delete "
        "journal.sqlite-wal and -shm beside it); the next run looks the due probes up on the "
        "platforms before sending anything"
    )


@app.command(epilog="Example: replybench status data/examples/uxalliance --json")
@handles_errors
def status(
    study_dir: StudyDir,
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
) -> None:
    """Show a campaign's progress; safe to run while `replybench run` is running."""
    from study.clock import SystemClock
    from study.journal.status import health_lines, read_status

    s = read_status(study_dir)
    if as_json:
        sys.stdout.write(s.to_json())
        return
    running = f"running (pid {s.running_pid})" if s.running_pid else "not running"
    print(f"{s.study}: {running}")
    print("probes: " + ", ".join(f"{k} {v}" for k, v in s.states.items()) + f" (of {s.probes})")
    print(
        f"answered: {s.answered}; replies seen: {s.replies} ({s.unmatched_replies} unmatched, "
        f"{s.ambiguous_dms} of them DMs that fit several probes)"
    )
    print(
        f"send attempts: {s.attempts}; awaiting reconciliation: {s.unknown_outcomes}; "
        f"reconciled: {s.reconciled}"
    )
    print(f"next send: {s.next_send_at or '-'}; last inbox read: {s.last_observation or '-'}")
    if len(s.inbox_reads) > 1:  # a channel behind the others is censored at its own read
        print("inbox reads: " + ", ".join(_behind(s.inbox_reads)))
    for line in health_lines(s):
        print(line)
    if warning := s.period_warning(SystemClock().now()):
        _err(warning)
    for channel, failure in s.inbox_failures.items():
        _err(
            f"warning: {channel} inbox reads failing {failure}; its probes are censored at "
            "its last good read"
        )
    limits = s.progress.get("rate_limits")
    for r in limits if isinstance(limits, list) else []:
        if isinstance(r, dict) and r.get("reset_clamped_from"):
            _err(
                f"warning: {r.get('endpoint')}: the platform said its rate limit resets at "
                f"{r['reset_clamped_from']!r}; waiting at most until {r.get('reset_at')}"
            )


def _behind(reads: dict[str, str]) -> list[str]:
    """Each channel's last inbox read, and how far behind the latest one it is (1 h or more)."""
    from study.timeutil import parse_iso

    latest = max(parse_iso(at) for at in reads.values())
    out = []
    for channel, at in reads.items():
        lag = (latest - parse_iso(at)).total_seconds() / 3600
        out.append(f"{channel} {at}" + (f" ({lag:.1f} h behind)" if lag >= 1 else ""))
    return out


@app.command(
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


@app.command(epilog="Example: replybench sim data/examples/uxalliance --port 8765 --speed 600")
@handles_errors
def sim(
    study_dir: StudyDir,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 picks a free one).")] = 8765,
    speed: Annotated[float, typer.Option(help="Virtual seconds per real second.")] = 1.0,
    faults: Annotated[float, typer.Option(help="Share of requests that fail (0..1).")] = 0.0,
    start: Annotated[
        str | None,
        typer.Option(help="Virtual start time, ISO 8601 (default: just before the first probe)."),
    ] = None,
) -> None:
    """Serve the built-in simulator for a study: X API v2, Mastodon and Bluesky faces, with
    brand bots that answer as simulator.toml says (docs/simulator.md)."""
    from probes.sim.server import serve
    from study.timeutil import parse_instant

    if speed <= 0:
        raise UsageError(f"--speed must be > 0, not {speed}")
    if not 0 <= faults <= 1:
        raise UsageError(f"--faults is a share between 0 and 1, not {faults}")
    try:
        begin = parse_instant(start, "") if start else None
    except ValueError as e:
        raise UsageError(f"--start {start!r}: {e}") from None
    serve(study_dir, port, speed=speed, faults=faults, start=begin)


@app.command(epilog="Example: replybench demo --out replybench-demo")
@handles_errors
def demo(
    out: Annotated[Path, typer.Option(help="Folder for the demo study.")] = Path("replybench-demo"),
    seconds: Annotated[float, typer.Option(help="Real seconds the campaign should take.")] = 60.0,
    faults: Annotated[float, typer.Option(help="Share of simulator requests that fail.")] = 0.0,
) -> None:
    """Run the example study end to end on the built-in simulator, in about a minute."""
    from probes.audit import print_audit
    from probes.demo import run_demo
    from probes.progress import campaign_display

    with campaign_display() as progress:
        report = run_demo(
            out,
            seconds=seconds,
            faults=faults,
            on_progress=progress.update,
            on_event=progress.event,
        )
    print_audit(report)
    if not report.ok:
        raise StudyError("the journal does not match the simulator's ledger (see above)")
    from analysis import analyze as run_analysis
    from analysis.table import brand_table

    result = run_analysis(out)
    _wide_console().print(brand_table(result))
    index = _write_site(out, out / "site", None)
    print(f"scorecards: {index.resolve()}")


@app.command(epilog="Example: replybench analyze replybench-demo --json metrics.json")
@handles_errors
def analyze(
    study_dir: StudyDir,
    as_of: Annotated[
        str | None,
        typer.Option(help="Analyse as of this ISO 8601 time (default: the last observation)."),
    ] = None,
    json_file: Annotated[
        Path | None, typer.Option("--json", help="Also write the full results as JSON here.")
    ] = None,
    replicates: Replicates = 1000,
    seed: Seed = 2026,
) -> None:
    """Response rates and times with censoring, intervals, ranks and tiers; brands ranked."""
    import json

    from analysis import analyze as run_analysis
    from analysis import parse_as_of
    from analysis.table import brand_table, open_note
    from study.atomic import write_atomic

    at = parse_as_of(as_of) if as_of else None
    result = run_analysis(study_dir, at, replicates=_replicates(replicates), seed=seed)
    _wide_console().print(brand_table(result))
    if result["study"]["open"]:
        print(open_note(result))
    if json_file is not None:
        text = json.dumps(result, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        write_atomic(json_file, text.encode("utf-8"))
        print(f"wrote {json_file}")


@app.command(epilog="Example: replybench report replybench-demo --out site")
@handles_errors
def report(
    study_dir: StudyDir,
    out: Annotated[Path, typer.Option(help="The folder to write the site into.")] = Path("site"),
    as_of: Annotated[
        str | None,
        typer.Option(help="Analyse as of this ISO 8601 time (default: the last observation)."),
    ] = None,
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
    n = _replicates(replicates)
    index = _write_site(study_dir, out, as_of, replicates=n, seed=seed, force=force)
    print(f"wrote {index}")


@app.command(epilog="Example: replybench serve site --port 8000")
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


def _replicates(n: int) -> int:
    if n < 100:
        raise UsageError(
            f"--replicates must be at least 100, not {n}: fewer give unstable 95% intervals"
        )
    return n


def _write_site(
    study_dir: Path,
    out: Path,
    as_of: str | None,
    *,
    replicates: int = 1000,
    seed: int = 2026,
    force: bool = False,
) -> Path:
    from analysis import parse_as_of
    from analysis.publish import publish_data
    from reports.render import write_site
    from reports.site_folder import staged_site

    at = parse_as_of(as_of) if as_of else None
    with staged_site(out, force=force, keep=[study_dir]) as stage:
        paths = publish_data(study_dir, stage / "data", at, replicates=replicates, seed=seed)
        write_site(paths, stage, study_dir)
    return out / "index.html"


@app.command(
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
        _err(s.warning)


@app.command(
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

    s = run_import(csv_file, into, window_hours)
    print(
        f"created {s.journal}: {s.tweets} tweets, {s.brands} brands, {s.inquiries} inquiries, "
        f"{s.responses} responses; as of {s.last_observation:%Y-%m-%d %H:%M} UTC"
    )


@app.command(
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


@app.command(
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


@app.command(
    epilog="Example: replybench power --rates 0.6 0.8   or   "
    "replybench power --medians 2 6 --window-hours 72"
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
    alpha: Annotated[float, typer.Option(help="Significance level (two-sided).")] = 0.05,
    power_: Annotated[float, typer.Option("--power", help="Power wanted.")] = 0.8,
) -> None:
    """How many probes per brand are needed to tell two brands apart."""
    from analysis.power import power_report

    if rates is None and medians is None:
        raise UsageError("give --rates P1 P2, or --medians H1 H2 with --window-hours W")
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
        )
    )


@app.command(epilog="Example: replybench worksheet my-study --out calls.csv")
@handles_errors
def worksheet(
    study_dir: StudyDir,
    out: Annotated[Path, typer.Option(help="The CSV to write (a new file).", show_default=False)],
    due_by: Annotated[
        str | None,
        typer.Option(help="Only probes scheduled by this ISO 8601 time (default: all not sent)."),
    ] = None,
) -> None:
    """List the probes of manual channels (phone, web form, app) to send by hand, as a CSV
    with the text to send and columns to fill in."""
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
    n = write_sheet(study_dir, out, now=when)
    print(f"wrote {out}: {n} probe{'s' if n != 1 else ''} to send by hand")
    if note := instructions(study_dir):
        print(f"instructions: {note}")
    print(
        "fill in sent_at (and replied_at, reply_kind, reply_text, note) as ISO 8601 times with "
        f"offset, then: replybench import-worksheet {study_dir} {out}"
    )


@app.command("import-worksheet", epilog="Example: replybench import-worksheet my-study calls.csv")
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
        _err(line)
    print(
        f"recorded {s.recorded} probe{'s' if s.recorded != 1 else ''} sent by hand and "
        f"{s.replies} repl{'y' if s.replies == 1 else 'ies'}; {s.closed} window(s) closed; "
        f"{s.unchanged} row(s) recorded before, {s.blank} not done yet"
    )


@app.command(epilog="Example: replybench accounts my-study --api-base http://127.0.0.1:8765 --json")
@handles_errors
def accounts(
    study_dir: StudyDir,
    api_base: Annotated[
        str | None, typer.Option(help="API base URL; overrides study.toml (e.g. the simulator).")
    ] = None,
    live: Annotated[
        bool, typer.Option("--live", help="Look the accounts up on the real platforms.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
) -> None:
    """Look every target's account up on its channel: report missing, renamed or suspended
    accounts (exit 1 when one is missing or suspended)."""
    import os

    from probes.accounts import check_accounts, findings_json, findings_table, summary_line

    found = asyncio.run(check_accounts(study_dir, env=os.environ, api_base=api_base, live=live))
    if as_json:
        sys.stdout.write(findings_json(found))
    else:
        _wide_console().print(findings_table(found))
        print(summary_line(found))
    bad = [f for f in found if f.blocking]
    if bad:
        names = ", ".join(f"{f.brand} {f.country} {f.channel} {f.handle!r}" for f in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise StudyError(
            f"{len(bad)} target account(s) missing, suspended or not looked up: {names}{more}; "
            "fix targets.csv (see the details above)"
        )


@app.command(
    epilog="Example: replybench cleanup my-study --live   "
    "(or --api-base http://127.0.0.1:8765 for the simulator, without --live)"
)
@handles_errors
def cleanup(
    study_dir: StudyDir,
    api_base: Annotated[
        str | None, typer.Option(help="API base URL; overrides study.toml (e.g. the simulator).")
    ] = None,
    live: Annotated[
        bool, typer.Option("--live", help="Delete the probe posts on the real platforms.")
    ] = False,
) -> None:
    """Delete the probe posts whose windows have closed (recorded in the journal; running it
    again deletes nothing twice; open windows are never touched)."""
    import os

    from rich.console import Console
    from rich.progress import Progress

    from probes.cleanup import cleanup as run_cleanup

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("deleting probe posts", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        s = asyncio.run(
            run_cleanup(study_dir, env=os.environ, api_base=api_base, live=live, on_progress=update)
        )
    print(
        f"deleted {s.deleted} probe post(s), {s.gone} already gone, {s.earlier} deleted "
        f"before; kept {s.open} (window still open); {s.nothing_to_delete} with nothing to "
        "delete (e-mail, manual)"
    )
    for line in s.failed:
        _err(line)
    if s.failed:
        raise StudyError(
            f"{len(s.failed)} post(s) could not be deleted (see above); run the same command "
            "again later"
        )


from replybench import cli_waves  # noqa: E402, F401  (registers new-wave and compare on app)


def main() -> None:
    app()
