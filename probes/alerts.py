"""Alerts: telling a person that the runner stopped, is cut off from a channel, or finished.

A study names, in `[alerts] url_env`, the environment variable that holds one or more apprise
URLs (https://github.com/caronc/apprise/wiki): a webhook (`json://host/path`, `slack://...`),
an e-mail address (`mailtos://user:password@host?to=someone@example.org`), and so on,
separated by spaces or commas. The URLs hold secrets: they are shown only as scheme and host.

An alert never stops or blocks the campaign: delivery runs in a worker thread with apprise's
own socket timeouts (4 s to connect, 4 s to read, per URL) under an overall timeout, and a
failure is logged, never raised.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from urllib.parse import urlsplit

import apprise

from study.errors import StudyError
from study.model import Study

log = logging.getLogger(__name__)

DELIVERY_TIMEOUT_S = 20.0  # the most the runner waits for one alert (it never waits at exit)

# What each alert is about: its apprise type (the colour or icon a service shows).
KINDS = {
    "unreachable": apprise.NotifyType.FAILURE,
    "reachable": apprise.NotifyType.SUCCESS,
    "stopped": apprise.NotifyType.FAILURE,
    "finished": apprise.NotifyType.SUCCESS,
}


def shown(url: str) -> str:
    """An alert URL as it may be printed: scheme and host only (paths and users hold tokens)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}/…" if parts.scheme else "(an URL)"


class Alerter:
    """Sends alerts to the apprise URLs of a study. `notify` never raises and never blocks."""

    def __init__(self, urls: str, *, source: str, timeout_s: float = DELIVERY_TIMEOUT_S) -> None:
        # apprise logs the URLs it cannot parse, secrets and all: keep its log to itself.
        quiet = logging.getLogger("apprise")
        quiet.propagate = False
        if not quiet.handlers:
            quiet.addHandler(logging.NullHandler())
        self._apprise = apprise.Apprise()
        if not urls.strip() or not self._apprise.add(urls):
            raise StudyError(
                f"{source}: not a list of apprise URLs (value not shown); write e.g. "
                "json://host/path or mailtos://user:password@host?to=name@example.org "
                "(see docs/study-folder.md, 'Alerts')"
            )
        self.where = ", ".join(shown(str(s)) for s in self._apprise)  # str() is private
        self.timeout_s = timeout_s
        self.delivered: list[str] = []  # titles of the alerts delivered, for the journal/tests
        self._pending: set[asyncio.Task[bool]] = set()
        self._last: asyncio.Task[bool] | None = None

    def notify(self, kind: str, title: str, body: str) -> None:
        """Send in the background (inside a running event loop); errors are logged."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop: the caller is not async; nothing to wait for
            log.warning("alert %r not sent: no event loop", title)
            return
        # One after another, in the order they were raised: "x reachable again" must not
        # reach a person before "x unreachable".
        task = loop.create_task(self._after(self._last, kind, title, body))
        self._last = task
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _after(
        self, previous: asyncio.Task[bool] | None, kind: str, title: str, body: str
    ) -> bool:
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)
        return await self.send(kind, title, body)

    async def send(self, kind: str, title: str, body: str) -> bool:
        """Deliver one alert and say whether every URL took it; never raises."""
        try:
            ok = await asyncio.wait_for(
                asyncio.to_thread(
                    self._apprise.notify, body=body, title=title, notify_type=KINDS[kind]
                ),
                self.timeout_s,
            )
        except TimeoutError:
            log.warning("alert %r: no answer from %s in %.0f s", title, self.where, self.timeout_s)
            return False
        except Exception as e:  # an alert must never take the runner down
            log.warning("alert %r to %s failed: %s", title, self.where, type(e).__name__)
            return False
        if not ok:
            log.warning("alert %r was not delivered to %s", title, self.where)
            return False
        self.delivered.append(title)
        return True

    async def drain(self) -> None:
        """Wait for the alerts still on their way (each bounded by its timeout)."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)


def alerter_for(study: Study, env: Mapping[str, str]) -> Alerter | None:
    """The study's alerter, or None when study.toml has no [alerts]. Checked before a run
    starts: a missing variable or an unreadable URL stops it with a one-line error."""
    if study.alerts is None:
        return None
    name = study.alerts.url_env
    urls = env.get(name, "")
    if not urls.strip():
        raise StudyError(
            f"study.toml [alerts] url_env: the environment variable {name} is not set; set it "
            "to the apprise URL(s) to alert (e.g. json://host/path), or remove [alerts]"
        )
    return Alerter(urls, source=f"environment variable {name}")
