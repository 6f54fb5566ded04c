"""The e-mail channel: send a probe by SMTP, reconcile an unknown send, read the IMAP inbox.

Sending and the Sent folder are probes.channels.email.outbox's, reading the inbox is
probes.channels.email.inbox's, the connections probes.channels.email.servers'.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime
from email.utils import parseaddr

from probes.channels.base import (
    AuthError,
    Channel,
    ChannelError,
    Closer,
    Cursor,
    OutcomeUnknown,
    Reply,
    Sent,
    Transient,
    Wiring,
)
from probes.channels.email import servers as ms
from probes.channels.email.inbox import CHANNEL, Inbox
from probes.channels.email.outbox import ADDRESS, Outbox
from probes.channels.email.servers import MailServers
from study.clock import Clock
from study.errors import StudyError
from study.load_channels import is_loopback_host as is_loopback
from study.model import ChannelSettings, PlannedProbe

log = logging.getLogger(__name__)


class MailChannel(Outbox, Inbox):
    """The probe account's mailbox: SMTP for sending, IMAP for reading (`MailServers`)."""

    name = CHANNEL

    def __init__(
        self, servers: MailServers, *, from_address: str, clock: Clock, folder: str = "INBOX"
    ) -> None:
        address = parseaddr(from_address)[1]
        if not ADDRESS.fullmatch(address):
            raise ValueError(f"from_address {from_address!r} is not an e-mail address")
        self.servers = servers
        self.from_address = address
        self.domain = address.rsplit("@", 1)[1].lower()
        self.clock = clock
        self.folder = folder
        self._ours = re.compile(r"[a-z2-7]{26}@" + re.escape(self.domain), re.IGNORECASE)

    def __repr__(self) -> str:
        return f"MailChannel({self.from_address!r}, folder={self.folder!r}, {self.servers!r})"

    # -- the Channel protocol ----------------------------------------------------------------

    async def check(self) -> None:
        """Log in to both servers and open the folder (`preflight`)."""
        await asyncio.to_thread(self._check)

    async def send(self, probe: PlannedProbe) -> Sent:
        """Send the probe: file its pending copy, submit it, confirm the copy. Never retried
        here: the runner decides (see `_submit`). When the pending copy cannot be filed,
        SMTP is not called at all (`Transient`)."""
        raw, sent = self.compose(probe)
        try:
            filed = await asyncio.to_thread(self._file_pending, raw, sent)
        except (AuthError, Transient, OutcomeUnknown):
            raise
        except ChannelError as e:
            raise Transient(
                f"probe {probe.probe_id} was not sent: its copy could not be filed in the Sent "
                f"folder first ({e}); will try again"
            ) from None
        try:
            await asyncio.to_thread(self._submit, probe, raw)
        except ChannelError as e:
            if filed and not isinstance(e, OutcomeUnknown):  # certainly not sent
                await asyncio.to_thread(self._discard_pending, sent)
            raise
        if filed:
            await asyncio.to_thread(self._confirm, raw, sent)
        return sent

    async def find_sent(self, probe: PlannedProbe, since: datetime) -> Sent | None:
        """The probe, if the servers show that it was sent: its confirmed copy in the Sent
        folder, or a message in the inbox that carries or names its Message-ID (a copy, a
        reply, an automatic reply, a bounce). Raises `Unresolvable` when the only trace is
        the pending copy (the SMTP server may or may not have accepted it). None when there
        is no trace: not sent, since the copy is filed first; on a server with no Sent
        folder that proves nothing, and the runner sends it again under the same Message-ID
        (see the module docstring)."""
        return await asyncio.to_thread(self._find, probe, since)

    async def inbox(self, since: Cursor | None) -> tuple[list[Reply], Cursor]:
        """Messages that arrived in the folder since the cursor, oldest first."""
        return await asyncio.to_thread(self._scan, since)

    # -- the work, in a worker thread --------------------------------------------------------

    def _check(self) -> None:
        with self.servers.imap() as imap:
            ms.examine(imap, self.folder)
            if ms.sent_folder(imap) is None:
                log.warning(
                    "%s: the IMAP server shows no Sent folder: probes are not filed there, "
                    "replies that name no probe cannot be matched by subject, and a send "
                    "whose outcome is unknown is sent again",
                    self.from_address,
                )
        with self.servers.smtp():
            pass


# -- building ---------------------------------------------------------------------------------


def build(settings: ChannelSettings, wiring: Wiring) -> tuple[Channel, Closer]:
    """The channel for a study's `[channels.email]` table (docs/channels.md), and its close.

    `wiring.api_base` is for the HTTP channels and ignored here. Without `wiring.live`, both
    servers must be on loopback (test servers), so no real brand is written to by accident."""
    where = f"study.toml [channels.{settings.name}]"
    opts = dict(settings.options)

    def text(key: str, default: str | None = None) -> str:
        value = opts.get(key, default)
        if value is None or not value.strip():
            raise StudyError(f"{where}: {key} is missing; see docs/channels.md")
        return value.strip()

    def port(key: str) -> int:
        value = text(key)
        if not value.isdigit() or not 0 < int(value) < 65536:
            raise StudyError(f"{where}: {key} = {value!r} is not a port number (1-65535)")
        return int(value)

    def security(key: str, default: str) -> str:
        value = text(key, default).lower()
        if value not in ms.SECURITIES:
            raise StudyError(f"{where}: {key} = {value!r}; use one of {', '.join(ms.SECURITIES)}")
        return value

    hosts = {"smtp": text("smtp_host"), "imap": text("imap_host")}
    securities = {
        "smtp": security("smtp_security", "starttls"),
        "imap": security("imap_security", "tls"),
    }
    for kind, host in hosts.items():
        if not wiring.live and not is_loopback(host):
            raise StudyError(
                f"refusing to use the {kind.upper()} server {host} without --live: that would "
                "write to real brands. Use local test servers, or add --live when the study "
                "is ready"
            )
        if securities[kind] == "plain" and not is_loopback(host):
            raise StudyError(
                f"{where}: {kind}_security = 'plain' sends the password unencrypted and is "
                f"allowed only for a server on this machine, not {host}; use 'starttls' or 'tls'"
            )
    password = wiring.env.get(settings.token_env, "")
    if not password:
        raise StudyError(
            f"{where}: environment variable {settings.token_env} is not set; export the probe "
            "mailbox's password in it (credentials never go in the study folder)"
        )
    from_address = text("from_address", settings.account or None)
    if not ADDRESS.fullmatch(from_address):
        raise StudyError(f"{where}: from_address {from_address!r} is not an e-mail address")
    servers = MailServers(
        smtp_host=hosts["smtp"],
        smtp_port=port("smtp_port"),
        imap_host=hosts["imap"],
        imap_port=port("imap_port"),
        username=text("username"),
        password=password,
        smtp_security=securities["smtp"],
        imap_security=securities["imap"],
    )
    channel = MailChannel(
        servers, from_address=from_address, clock=wiring.clock, folder=text("imap_folder", "INBOX")
    )

    async def aclose() -> None:
        """Nothing to close: each exchange opens and closes its own connections."""

    return channel, aclose


async def preflight(channel: Channel) -> None:
    """Log in to the IMAP server (and open the folder) and to the SMTP server before
    anything is written. Raises `AuthError` for refused credentials, `Transient` when a
    server cannot be reached, `StudyError` when the folder does not exist."""
    if not isinstance(channel, MailChannel):
        raise TypeError(f"not an e-mail channel: {channel!r}")
    await channel.check()
