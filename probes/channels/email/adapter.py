"""The e-mail channel: send a probe by SMTP, reconcile an unknown send, read the IMAP inbox.

One inbox poll is one IMAP session: EXAMINE the probe folder, fetch the messages whose UID
is above the cursor's, done (RFC 3501 UIDs; a new UIDVALIDITY means the folder was rebuilt
and is read again from the start). Replies are matched by the ids they name (In-Reply-To,
References); a reply that names none of our messages (help desks that open a new thread) is
matched by its subject against the copies of our probes in the Sent folder, which the
server keeps across restarts of the runner, and only when that names one target: the one
that wrote, else one in the author's domain, else the only one sent that subject.

A probe's copy is filed in the Sent folder before the SMTP transaction, with a pending mark
(`PENDING`, a header only the copy carries), and filed again without the mark once the
server accepted the message. So a copy without the mark proves the send, a copy with only
the mark means the outcome cannot be learned (`Unresolvable`: the runner gives the probe up
rather than risk a double inquiry), and no copy at all means the probe was not sent.

Each probe's Message-ID is derived from the probe itself (not random), so every attempt of
one probe is the same message: a re-send after an unknown outcome carries the same id, a
receiving server may drop it as a duplicate, and a reply to either copy matches the probe.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import imaplib
import logging
import re
import smtplib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr

from probes.channels.base import (
    AuthError,
    Channel,
    ChannelError,
    Cursor,
    OutcomeUnknown,
    Rejected,
    Reply,
    Sent,
    Transient,
    Unresolvable,
)
from probes.channels.email import servers as ms
from probes.channels.email.parse import (
    Mail,
    bare_subject,
    header_text,
    message_date,
    msg_ids,
    probe_subject,
    read_headers,
    read_mail,
    subject_key,
)
from probes.channels.email.servers import MailServers
from study.clock import Clock
from study.errors import StudyError
from study.load_channels import is_loopback_host as is_loopback
from study.model import ChannelSettings, PlannedProbe
from study.timeutil import iso, utc

log = logging.getLogger(__name__)

CHANNEL = "email"
CLOCK_SKEW = timedelta(minutes=5)  # a reply may claim a Date a little before our own
PENDING = "X-Replybench-Pending"  # on the Sent copy filed before the SMTP transaction
ADDRESS = re.compile(r"[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\"]+")


@dataclass(frozen=True)
class Copy:
    """A probe's copy in the Sent folder."""

    uid: int
    pending: bool  # filed before the SMTP transaction, which has not been confirmed since
    date: datetime


@dataclass(frozen=True, order=True)
class Filed:
    """A probe in the Sent folder, as subject matching sees it."""

    sent_at: datetime
    to: str  # the target's address, lower case
    message_id: str


class MailChannel:
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

    # -- composing ---------------------------------------------------------------------------

    def message_id(self, probe: PlannedProbe) -> str:
        """The probe's Message-ID, without brackets: the same for every attempt of a probe,
        unique to it, and telling nothing about the study to the brand that reads it."""
        seed = "\n".join(
            [probe.probe_id, iso(probe.scheduled_at), self.from_address.lower(), probe.text]
        )
        digest = hashlib.sha256(seed.encode("utf-8")).digest()[:16]
        return base64.b32encode(digest).decode("ascii").rstrip("=").lower() + "@" + self.domain

    def compose(self, probe: PlannedProbe) -> tuple[bytes, Sent]:
        """The probe as an RFC 5322 message, and the `Sent` it becomes once accepted."""
        to = recipient(probe)
        body = probe.text.strip()  # study.plan_text already dropped a leading {handle}
        when = utc(self.clock.now()).replace(microsecond=0)
        mid = self.message_id(probe)
        msg = EmailMessage(policy=SMTP)
        msg["Date"] = format_datetime(when)
        msg["From"] = self.from_address
        msg["To"] = to
        msg["Subject"] = probe_subject(body)
        msg["Message-ID"] = f"<{mid}>"
        msg.set_content(body + "\n")
        return msg.as_bytes(), Sent(probe.probe_id, mid, when)

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

    def _submit(self, probe: PlannedProbe, raw: bytes) -> None:
        """One SMTP transaction. Refusals before the message's end are definite (4xx
        `Transient`, 5xx `Rejected`); a connection lost while waiting for the answer to the
        message's final dot is `OutcomeUnknown` (the server may have accepted it, RFC 1047)."""
        to = recipient(probe)
        what = f"probe {probe.probe_id} to {to}"
        with self.servers.smtp() as smtp:
            ms.expect(smtp.mail(self.from_address), (250,), f"MAIL FROM for {what}")
            ms.expect(smtp.rcpt(to), (250, 251), f"RCPT TO for {what}")
            ms.expect(smtp.docmd("DATA"), (354,), f"DATA for {what}")
            # If this raises, the final dot did not leave: a definite failure (Transient).
            smtp.send(ms.dot_stuffed(raw))
            try:
                reply = smtp.getreply()
            except (OSError, smtplib.SMTPServerDisconnected) as e:
                raise OutcomeUnknown(
                    f"the SMTP server received {what} but the connection was lost before it "
                    f"answered ({e}); look it up before sending again"
                ) from None
            ms.expect(reply, (250,), f"the message of {what}")

    def _file_pending(self, raw: bytes, sent: Sent) -> bool:
        """File the probe's copy, marked pending, before it is submitted (an earlier
        attempt's pending copy is reused). Whether the server has a Sent folder. Raises
        `OutcomeUnknown` when a confirmed copy is already there: it was sent before."""
        with self.servers.imap() as imap:
            folder = ms.sent_folder(imap)
            if folder is None:
                return False
            ms.examine(imap, folder)
            copies = _copies(imap, sent.message_id)
            if any(not c.pending for c in copies):
                raise OutcomeUnknown(
                    f"probe {sent.probe_id} is already filed in {folder!r} as sent; look it up "
                    "rather than send it again"
                )
            if not copies:
                ms.append(imap, folder, pending_copy(raw), sent.sent_at)
        return True

    def _confirm(self, raw: bytes, sent: Sent) -> None:
        """File the accepted probe's copy without the mark (unless the server filed one: Gmail
        files submitted mail itself), then delete the pending copy. Best effort: the probe is
        sent either way, and the runner records it as sent before it ever looks it up."""
        try:
            with self.servers.imap() as imap:
                folder = ms.sent_folder(imap)
                if folder is None:
                    return
                ms.examine(imap, folder, readonly=False)
                copies = _copies(imap, sent.message_id)
                if all(c.pending for c in copies):
                    ms.append(imap, folder, raw, sent.sent_at)
                ms.delete(imap, [c.uid for c in copies if c.pending])
        except (ChannelError, StudyError) as e:
            log.warning("sent %s, but could not confirm its copy in Sent: %s", sent.probe_id, e)

    def _discard_pending(self, sent: Sent) -> None:
        """Delete the pending copy of a probe the SMTP server certainly refused. Best effort:
        a copy left behind is reused by the next attempt."""
        try:
            with self.servers.imap() as imap:
                folder = ms.sent_folder(imap)
                if folder is None:
                    return
                ms.examine(imap, folder, readonly=False)
                ms.delete(imap, [c.uid for c in _copies(imap, sent.message_id) if c.pending])
        except (ChannelError, StudyError) as e:
            log.warning("could not delete the pending copy of %s: %s", sent.probe_id, e)

    def _find(self, probe: PlannedProbe, since: datetime) -> Sent | None:
        mid = self.message_id(probe)
        q = ms.quote(mid)
        pending = False
        with self.servers.imap() as imap:
            folder = ms.sent_folder(imap)
            if folder is not None:
                ms.examine(imap, folder)
                copies = _copies(imap, mid)
                confirmed = [c for c in copies if not c.pending]
                if confirmed:
                    return Sent(probe.probe_id, mid, confirmed[0].date)
                pending = bool(copies)
            ms.examine(imap, self.folder)
            found = ms.search(
                imap, "SINCE", ms.imap_date(utc(since) - timedelta(days=1)),
                "OR", "OR", "OR", "HEADER", "Message-ID", q, "HEADER", "In-Reply-To", q,
                "HEADER", "References", q, "BODY", q,
            )  # fmt: skip
            if not found and pending:
                raise Unresolvable(
                    f"probe {probe.probe_id}: the SMTP transaction was cut off and the server "
                    "may or may not have accepted the message; the outcome of this send cannot "
                    "be learned; not sending again avoids a double inquiry"
                )
            if not found:
                return None
            for item in ms.fetch(imap, found, "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID DATE)]"):
                header = read_headers(item.data)
                if mid in msg_ids(header.get("Message-ID")) and item.internaldate is not None:
                    return Sent(
                        probe.probe_id, mid, message_date(header.get("Date"), item.internaldate)[0]
                    )
        # Only answers prove the send: it happened after both the lookup's start and the
        # schedule, so this lower bound can only lengthen the measured response time.
        return Sent(probe.probe_id, mid, max(utc(since), probe.scheduled_at))

    def _scan(self, since: Cursor | None) -> tuple[list[Reply], Cursor]:
        with self.servers.imap() as imap:
            validity, uidnext = ms.examine(imap, self.folder)
            last = 0
            if (
                since
                and since.get("uidvalidity") == validity
                and since.get("folder") == self.folder
            ):
                last = int(since.get("last_uid", "0"))
            cursor: Cursor = {"folder": self.folder, "uidvalidity": validity, "last_uid": str(last)}
            if uidnext is not None and uidnext <= last + 1:
                return [], cursor
            uids = [u for u in ms.search(imap, "UID", f"{last + 1}:*") if u > last]
            mails: list[tuple[int, Mail]] = []
            for item in ms.fetch(imap, uids, "BODY.PEEK[]"):
                mail = read_mail(item.data, item.internaldate or self.clock.now())
                if mail.author != self.from_address.lower():  # our own copies are not replies
                    mails.append((item.uid, mail))
            if uids:
                cursor["last_uid"] = str(max(uids))
            resolved = self._by_subject(imap, [(u, m) for u, m in mails if not self._names_ours(m)])
        replies = [self._reply(validity, uid, m, resolved.get(uid)) for uid, m in mails]
        return sorted(replies, key=lambda r: r.created_at), cursor

    def _by_subject(self, imap: imaplib.IMAP4, mails: list[tuple[int, Mail]]) -> dict[int, str]:
        """For replies that name no probe, by UID: the Message-ID of the probe each answers,
        found by subject among the probes filed in the Sent folder before the reply (see
        `answered`). Brands of one country and round are sent the same text, so a subject
        alone never decides between targets."""
        subjects = {subject_key(m.subject): bare_subject(m.subject) for _, m in mails}
        subjects.pop("", None)
        folder = ms.sent_folder(imap) if subjects else None
        if folder is None:
            return {}
        ms.examine(imap, folder)
        sent: dict[str, list[Filed]] = {}
        fields = "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID SUBJECT TO DATE)]"
        for key, subject in subjects.items():
            word = max(subject.split(), key=len)  # one word: immune to header folding
            uids = ms.search(imap, "UNDELETED", "HEADER", "SUBJECT", literal=word)
            for item in ms.fetch(imap, uids, fields):
                header = read_headers(item.data)
                ids = [i for i in msg_ids(header.get("Message-ID")) if self._ours.fullmatch(i)]
                if ids and subject_key(header_text(header.get("Subject"))) == key:
                    when, _ = message_date(
                        header.get("Date"), item.internaldate or self.clock.now()
                    )
                    to = parseaddr(header_text(header.get("To")))[1].lower()
                    sent.setdefault(key, []).append(Filed(when, to, ids[0]))
        found: dict[int, str] = {}
        for uid, mail in mails:
            before = [s for s in sent.get(subject_key(mail.subject), [])
                      if s.sent_at <= mail.created_at + CLOCK_SKEW]  # fmt: skip
            answer = answered(before, mail.author)
            if answer is not None:
                found[uid] = answer
        return found

    def _names_ours(self, mail: Mail) -> bool:
        return any(self._ours.fullmatch(i) for i in mail.referenced)

    def _reply(self, validity: str, uid: int, mail: Mail, by_subject: str | None) -> Reply:
        ours = [i for i in mail.referenced if self._ours.fullmatch(i)]
        in_reply_to: str | None = None
        conversation: str | None
        if ours:
            in_reply_to = mail.in_reply_to if mail.in_reply_to in ours else ours[-1]
            conversation = mail.thread_root if mail.thread_root in ours else ours[0]
        else:  # names no probe: matched by subject, else by its author (the matcher)
            conversation = by_subject or mail.thread_root
        return Reply(
            reply_id=mail.message_id or f"{validity}:{uid}",
            channel=CHANNEL,
            author=mail.author,
            author_id=mail.author,
            text=mail.text,
            created_at=mail.created_at,
            kind=mail.kind,
            in_reply_to=in_reply_to,
            conversation_id=conversation,
        )


# -- building ---------------------------------------------------------------------------------


def build(
    settings: ChannelSettings,
    *,
    env: Mapping[str, str],
    clock: Clock,
    api_base: str | None,
    live: bool,
) -> tuple[Channel, Callable[[], Awaitable[None]]]:
    """The channel for a study's `[channels.email]` table (docs/channels.md), and its close.

    `api_base` is for the HTTP channels and ignored here. Without `live`, both servers must
    be on loopback (test servers), so no real brand is written to by accident."""
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
        if not live and not is_loopback(host):
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
    password = env.get(settings.token_env, "")
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
        servers, from_address=from_address, clock=clock, folder=text("imap_folder", "INBOX")
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


# -- helpers ------------------------------------------------------------------------------------


def recipient(probe: PlannedProbe) -> str:
    address = probe.handle.strip()
    if not ADDRESS.fullmatch(address):
        raise Rejected(
            f"probe {probe.probe_id}: handle {probe.handle!r} is not an e-mail address; "
            "fix it in targets.csv"
        )
    return address


def answered(candidates: list[Filed], author: str) -> str | None:
    """The Message-ID of the probe a reply that names none answers, among the probes with its
    subject sent before it: those to its author, else to its author's domain, else to a
    domain above or below it (help desks write from subdomains), else all of them. The
    latest of the first such group, when they all went to one target; None (unmatched)
    when they went to several, which may be different brands: better no match than a
    guess."""
    domain = author.rpartition("@")[2].lower()

    def related(to: str) -> bool:
        theirs = to.rpartition("@")[2]
        return theirs.endswith("." + domain) or domain.endswith("." + theirs)

    for group in (
        [c for c in candidates if c.to == author],
        [c for c in candidates if c.to.rpartition("@")[2] == domain],
        [c for c in candidates if related(c.to)],
        candidates,
    ):
        if group:
            return max(group).message_id if len({c.to for c in group}) == 1 else None
    return None


def pending_copy(raw: bytes) -> bytes:
    """The message with the pending mark: the copy filed in Sent before the SMTP transaction."""
    return f"{PENDING}: the SMTP server has not confirmed this message yet\r\n".encode() + raw


def _copies(imap: imaplib.IMAP4, message_id: str) -> list[Copy]:
    """The probe's copies in the folder opened, pending or confirmed, oldest first."""
    uids = ms.search(imap, "UNDELETED", "HEADER", "Message-ID", ms.quote(message_id))
    copies = []
    for item in ms.fetch(imap, uids, f"BODY.PEEK[HEADER.FIELDS (DATE {PENDING.upper()})]"):
        if item.internaldate is None:
            raise ChannelError(f"IMAP FETCH of UID {item.uid} gave no INTERNALDATE")
        header = read_headers(item.data)
        when = message_date(header.get("Date"), item.internaldate)[0]
        copies.append(Copy(item.uid, header.get(PENDING) is not None, when))
    return copies
