"""The commands that run a campaign and look after it: `run`, `status`, `backup`, `sim`,
`demo`, `accounts` and `cleanup`."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from replybench.common import ApiBase, StudyDir, err, handles_errors, wide_console
from study.errors import StudyError, UsageError

commands = typer.Typer()


def bare_confirm(argv: list[str]) -> list[str]:
    """`argv` with a bare `--confirm` read as `--confirm=web`: the option's value is optional
    (Typer has no options with an optional value)."""
    out = list(argv)
    for i, arg in enumerate(out):
        if arg == "--confirm" and (i + 1 == len(out) or out[i + 1] not in ("web", "terminal")):
            out[i] = "--confirm=web"
    return out


@commands.command(
    epilog="Example: replybench run my-study --api-base http://127.0.0.1:8765 "
    "(with 'replybench sim my-study --port 8765' running)"
)
@handles_errors
def run(
    study_dir: StudyDir,
    api_base: ApiBase = None,
    live: Annotated[
        bool, typer.Option("--live", help="Allow a non-loopback API: post to real brands.")
    ] = False,
    persona: Annotated[
        list[str] | None,
        typer.Option(
            help="Run only this persona's probes and inbox (repeatable): each member of a team "
            "runs their own share from the same folder, then `replybench merge` joins the "
            "journals.",
            metavar="NAME",
            show_default=False,
        ),
    ] = None,
    confirm: Annotated[
        str | None,
        typer.Option(
            help="A person confirms each send: on a local web page (--confirm, i.e. "
            "--confirm=web) or at the terminal (--confirm=terminal); see docs/running.md.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the campaign: send due probes, watch the inbox, close windows; resumable."""
    from probes.campaign import run_campaign
    from probes.health import OutageExit
    from probes.progress import PlainLog, campaign_display

    # A prompt at the terminal and a live progress bar would write over each other.
    display = PlainLog(sys.stderr) if confirm == "terminal" else campaign_display()
    with display as progress:
        try:
            summary = asyncio.run(
                run_campaign(
                    study_dir,
                    api_base=api_base,
                    live=live,
                    on_progress=progress.update,
                    on_event=progress.event,
                    personas=persona,
                    confirm=confirm,
                )
            )
        except KeyboardInterrupt:
            err("stopped; the journal is intact: run the same command again to resume")
            raise typer.Exit(130) from None
        except OutageExit as e:  # its own exit code, so a service manager restarts the run
            err(f"Error: {e}")
            raise typer.Exit(e.exit_code) from None
    states = ", ".join(f"{k} {v}" for k, v in sorted(summary.counts.items()))
    print(f"campaign over: {states}; {summary.answered} probes answered")


@commands.command(epilog="Example: replybench backup my-study --out my-study-journal.sqlite")
@handles_errors
def backup(
    study_dir: StudyDir,
    out: Annotated[
        Path,
        typer.Option(
            help="The copy to write: a new file, or a new folder for a study imported with "
            "import-twcs (its journal and corpus files).",
            show_default=False,
        ),
    ],
) -> None:
    """Copy the journal consistently (SQLite's backup API), even while `replybench run` runs.
    Never copy journal.sqlite by hand: its latest transactions live in journal.sqlite-wal."""
    from replybench.stopping import stopped_like_ctrl_c
    from study.journal.backup import backup as copy_journal
    from study.paths import journal_path

    with stopped_like_ctrl_c():  # a `kill` still removes the backup's temporary
        b = copy_journal(study_dir, out)
    journal = journal_path(study_dir)
    if b.corpus:
        files = ", ".join(b.corpus)
        print(f"wrote {out}: the journal with {b.probes} probes, and its corpus files {files}")
        print(f"to restore it: move {journal.parent} away, then copy {out} to {journal.parent}")
        return
    print(f"wrote {out}: the journal with {b.probes} probes")
    print(
        f"to restore it: stop the runner, then copy it to {journal} (and delete "
        "journal.sqlite-wal and -shm beside it); the next run looks the due probes up on the "
        "platforms before sending anything"
    )


@commands.command(epilog="Example: replybench status data/examples/uxalliance --json")
@handles_errors
def status(
    study_dir: StudyDir,
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
) -> None:
    """Show a campaign's progress; safe to run while `replybench run` is running."""
    from study.clock import SystemClock
    from study.journal.status import health_lines, persona_lines, read_status

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
    for line in persona_lines(s):
        print(line)
    if len(s.inbox_reads) > 1:  # a channel behind the others is censored at its own read
        print("inbox reads: " + ", ".join(_behind(s.inbox_reads)))
    for line in health_lines(s):
        print(line)
    if warning := s.period_warning(SystemClock().now()):
        err(warning)
    for channel, failure in s.inbox_failures.items():
        err(
            f"warning: {channel} inbox reads failing {failure}; its probes are censored at "
            "its last good read"
        )
    limits = s.progress.get("rate_limits")
    for r in limits if isinstance(limits, list) else []:
        if isinstance(r, dict) and r.get("reset_clamped_from"):
            err(
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


@commands.command(epilog="Example: replybench sim data/examples/uxalliance --port 8765 --speed 600")
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
    lenient: Annotated[
        bool,
        typer.Option(help="Turn the platforms' rules off: rate limits, duplicate content."),
    ] = False,
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
    serve(study_dir, port, speed=speed, faults=faults, start=begin, lenient=lenient)


@commands.command(epilog="Example: replybench demo --out replybench-demo")
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
    from replybench.cmd_results import write_site

    result = run_analysis(out)
    wide_console().print(brand_table(result))
    index = write_site(out, out / "site", None)
    print(f"scorecards: {index.resolve()}")


@commands.command(
    epilog="Example: replybench accounts my-study --api-base http://127.0.0.1:8765 --json"
)
@handles_errors
def accounts(
    study_dir: StudyDir,
    api_base: ApiBase = None,
    live: Annotated[
        bool, typer.Option("--live", help="Look the accounts up on the real platforms.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
) -> None:
    """Look every target's account up on its channel: report missing, renamed or suspended
    accounts (exit 1 when one is missing or suspended)."""
    from probes.accounts import check_accounts, findings_json, findings_table, summary_line

    found = asyncio.run(
        check_accounts(study_dir, env=os.environ, api_base=api_base, live=live, on_warning=err)
    )
    if as_json:
        sys.stdout.write(findings_json(found))
    else:
        wide_console().print(findings_table(found))
        print(summary_line(found))
    bad = [f for f in found if f.blocking]
    if bad:
        names = ", ".join(f"{f.brand} {f.country} {f.channel} {f.handle!r}" for f in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise StudyError(
            f"{len(bad)} target account(s) missing, suspended or not looked up: {names}{more}; "
            "fix targets.csv (see the details above)"
        )


@commands.command(
    epilog="Example: replybench cleanup my-study --live   "
    "(or --api-base http://127.0.0.1:8765 for the simulator, without --live)"
)
@handles_errors
def cleanup(
    study_dir: StudyDir,
    api_base: ApiBase = None,
    live: Annotated[
        bool, typer.Option("--live", help="Delete the probe posts on the real platforms.")
    ] = False,
) -> None:
    """Delete the probe posts whose windows have closed (recorded in the journal; running it
    again deletes nothing twice; open windows are never touched)."""
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
        err(line)
    if s.failed:
        raise StudyError(
            f"{len(s.failed)} post(s) could not be deleted (see above); run the same command "
            "again later"
        )
