"""The runner's progress: a rich progress bar on a terminal, one plain line per event
otherwise (a log file, a pipe, a service manager's journal)."""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import IO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from probes.snapshot import Snapshot
from study.timeutil import iso


def describe(s: Snapshot) -> str:
    sent = s.counts.get("sent", 0) + s.counts.get("closed", 0)
    nxt = f"{s.next_send:%m-%d %H:%M}" if s.next_send else "-"
    limits = ""
    low = [r for r in s.rate_limits if r.remaining is not None and r.limit]
    if low:
        r = min(low, key=lambda r: (r.remaining or 0) / (r.limit or 1))
        limits = f" | rate {r.remaining}/{r.limit} {r.endpoint}"
    return (
        f"{s.now:%Y-%m-%d %H:%M} UTC | sent {sent} | answered {s.answered} | open {s.open} "
        f"| next send {nxt}{limits}"
    )


class CampaignProgress:
    """Context manager whose `update` the runner calls after each step."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.progress = Progress(
            TextColumn("[bold]probes done"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            console=self.console,
            transient=False,
        )
        self.task: TaskID | None = None

    def __enter__(self) -> CampaignProgress:
        return self  # the bar appears with the first snapshot: an early error prints alone

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.task is not None:
            self.progress.stop()

    def event(self, at: datetime, text: str) -> None:
        """Events show on the bar as counts; the plain log (below) writes them out."""

    def update(self, s: Snapshot) -> None:
        if self.task is None:
            self.progress.start()
            self.task = self.progress.add_task(describe(s), total=s.total)
        self.progress.update(self.task, completed=s.done, total=s.total, description=describe(s))


class PlainLog:
    """One line per event (sent, replies, closed, missed, caught up, retried, unreachable...),
    each stamped with the campaign clock's ISO 8601 UTC time: for output that is not a
    terminal, where a live bar would be one cut-off line."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def __enter__(self) -> PlainLog:
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stream.flush()

    def event(self, at: datetime, text: str) -> None:
        self.stream.write(f"{iso(at)} {text}\n")
        self.stream.flush()

    def update(self, s: Snapshot) -> None:
        """Counts are in the events themselves and in `replybench status`."""


def campaign_display(console: Console | None = None) -> CampaignProgress | PlainLog:
    """The live bar on a terminal, the plain event log anywhere else (on standard error)."""
    console = console or Console(stderr=True)
    return CampaignProgress(console) if console.is_terminal else PlainLog(console.file)
