"""Where a person confirms each send: the local web page (the default) or the terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO

from probes.confirm.queue import ConfirmationQueue
from probes.confirm.terminal import TerminalPrompt
from probes.confirm.web import ConfirmPage
from study.clock import Clock
from study.errors import UsageError

WAYS = ("web", "terminal")


def check_way(way: str) -> str:
    if way not in WAYS:
        raise UsageError(f"--confirm={way}: confirm on the web page (--confirm) or at the "
                         "terminal (--confirm=terminal)")  # fmt: skip
    return way


@contextmanager
def person_in_the_loop(
    queue: ConfirmationQueue,
    clock: Clock,
    way: str,
    *,
    say: Callable[[str], object],
    port: int = 0,
    read: IO[str] | None = None,
) -> Iterator[None]:
    """A person confirms the queue's inquiries on the page (`web`) or the terminal while the
    block runs; `say` tells them where."""
    if check_way(way) == "terminal":
        TerminalPrompt(queue, clock, read or sys.stdin, say).start()
        say("a person confirms each send here, at the terminal, as it falls due\n")
        yield
        return
    page = ConfirmPage(queue, clock).start(port)
    say(f"confirm each send at {page.url} (port {page.port}; keep the address to yourself)\n")
    try:
        yield
    finally:
        queue.running = False
        page.stop()
