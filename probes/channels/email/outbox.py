"""Sending a probe by SMTP, with its copy in the Sent folder, and looking a send up.

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

import base64
import hashlib
import imaplib
import logging
import re
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from probes.channels.base import ChannelError, OutcomeUnknown, Rejected, Sent, Unresolvable
from probes.channels.email import servers as ms
from probes.channels.email.parse import message_date, msg_ids, probe_subject, read_headers
from probes.channels.email.servers import MailServers
from study.clock import Clock
from study.errors import StudyError
from study.model import PlannedProbe
from study.timeutil import iso, utc

log = logging.getLogger(__name__)

PENDING = "X-Replybench-Pending"  # on the Sent copy filed before the SMTP transaction
ADDRESS = re.compile(r"[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\"]+")


@dataclass(frozen=True)
class Copy:
    """A probe's copy in the Sent folder."""

    uid: int
    pending: bool  # filed before the SMTP transaction, which has not been confirmed since
    date: datetime


class Outbox:
    """The sending half of `MailChannel` (probes.channels.email.adapter): SMTP, the copies
    in the Sent folder, and the look-up of a send whose outcome is unknown."""

    servers: MailServers
    from_address: str
    domain: str
    clock: Clock
    folder: str  # the folder replies arrive in

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
            folder = ms.open_sent(imap)
            if folder is None:
                return False
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
                folder = ms.open_sent(imap, readonly=False)
                if folder is None:
                    return
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
                if ms.open_sent(imap, readonly=False) is not None:
                    ms.delete(imap, [c.uid for c in _copies(imap, sent.message_id) if c.pending])
        except (ChannelError, StudyError) as e:
            log.warning("could not delete the pending copy of %s: %s", sent.probe_id, e)

    def _find(self, probe: PlannedProbe, since: datetime) -> Sent | None:
        mid = self.message_id(probe)
        q = ms.quote(mid)
        pending = False
        with self.servers.imap() as imap:
            if ms.open_sent(imap) is not None:
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


def recipient(probe: PlannedProbe) -> str:
    address = probe.handle.strip()
    if not ADDRESS.fullmatch(address):
        raise Rejected(
            f"probe {probe.probe_id}: handle {probe.handle!r} is not an e-mail address; "
            "fix it in targets.csv"
        )
    return address


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
