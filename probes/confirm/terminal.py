"""The terminal prompt (`replybench run --confirm=terminal`): the fallback to the web page.

It shows the waiting inquiry whose slot ends first and reads one answer per line: `y` sends
it, `s` skips it, an empty line shows it (and how many wait) again. Lines are read on their
own thread, so the runner goes on reading inboxes meanwhile. Third-party text (a brand's
name, a handle) is shown with control characters replaced, so it cannot move the cursor or
recolour the terminal.
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Callable
from typing import IO

from probes.confirm.queue import ConfirmationQueue, Decision, Inquiry, duration
from study.clock import Clock


def printable(text: str) -> str:
    """`text` on one line, with control and format characters (escape sequences, direction
    controls) shown as U+FFFD."""
    return "".join(
        "\ufffd" if unicodedata.category(c) in ("Cc", "Cf") else c for c in " ".join(text.split())
    )


def describe(inquiry: Inquiry, clock: Clock) -> str:
    """An inquiry as the prompt shows it: what, to whom, from which account, when."""
    now = clock.now()
    planned = inquiry.local_time(inquiry.scheduled_at)
    return "\n".join(
        [
            f"due: {printable(inquiry.probe_id)}",
            f"  to     @{printable(inquiry.handle)} ({printable(inquiry.brand_name)}, "
            f"{printable(inquiry.country_name)}) on {inquiry.channel}",
            f"  from   @{printable(inquiry.account)}",
            f"  local  {inquiry.local_time(now)} (planned for {planned}); "
            f"its slot ends in {duration(inquiry.left(now))}",
            f"  text   {printable(inquiry.text)}",
        ]
    )


PROMPT = "send it? [y]es / [s]kip / [Enter] show again: "


class TerminalPrompt:
    """Asks a person at the terminal about each waiting inquiry, one at a time."""

    def __init__(
        self, queue: ConfirmationQueue, clock: Clock, read: IO[str], write: Callable[[str], object]
    ) -> None:
        self.queue = queue
        self.clock = clock
        self.read = read
        self.write = write
        self._shown: str | None = None  # the probe the next answer is about
        self._lock = threading.Lock()
        queue.listen(self._offered)

    def start(self) -> threading.Thread:
        """Read answers on a daemon thread (it ends with the input, or with the program)."""
        thread = threading.Thread(target=self.answer_all, name="confirm-terminal", daemon=True)
        thread.start()
        return thread

    def _offered(self, inquiry: Inquiry) -> None:
        with self._lock:
            if self._shown is None:
                self._show()

    def _show(self) -> None:
        """Show the inquiry whose slot ends first (caller holds the lock)."""
        waiting = self.queue.waiting()
        if not waiting:
            self._shown = None
            self.write("nothing waits for a decision\n")
            return
        first = waiting[0]
        self._shown = first.probe_id
        more = f" ({len(waiting) - 1} more waiting)" if len(waiting) > 1 else ""
        self.write(f"\n{describe(first, self.clock)}{more}\n{PROMPT}")

    def answer(self, line: str) -> None:
        """One line the person typed."""
        word = line.strip().lower()
        with self._lock:
            decision = {"y": Decision.CONFIRM, "yes": Decision.CONFIRM, "s": Decision.SKIP,
                        "skip": Decision.SKIP}.get(word)  # fmt: skip
            if decision is not None and self._shown is not None:
                why = self.queue.decide(self._shown, decision, self.clock.now())
                done = "confirmed" if decision is Decision.CONFIRM else "skipped"
                self.write(f"{why}\n" if why else f"{done} {self._shown}\n")
            elif word:
                self.write("answer y (send it), s (skip it) or press Enter\n")
            self._show()

    def answer_all(self) -> None:
        for line in self.read:
            self.answer(line)
