"""The runner's progress as a rich progress bar, and the same note in the journal for
`replybench status` in another process."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from probes.runner import Snapshot


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

    def update(self, s: Snapshot) -> None:
        if self.task is None:
            self.progress.start()
            self.task = self.progress.add_task(describe(s), total=s.total)
        self.progress.update(self.task, completed=s.done, total=s.total, description=describe(s))
