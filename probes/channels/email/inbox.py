"""Reading the probe mailbox's IMAP folder: everything new since the cursor, as replies.

One inbox poll is one IMAP session: EXAMINE the probe folder, fetch the messages whose UID
is above the cursor's, done (RFC 3501 UIDs; a new UIDVALIDITY means the folder was rebuilt
and is read again from the start). Replies are matched by the ids they name (In-Reply-To,
References); a reply that names none of our messages (help desks that open a new thread) is
matched by its subject against the copies of our probes in the Sent folder, which the
server keeps across restarts of the runner, and only when that names one target: the one
that wrote, else one in the author's domain, else the only one sent that subject.
"""

from __future__ import annotations

import imaplib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr

from probes.channels.base import Cursor, Reply
from probes.channels.email import servers as ms
from probes.channels.email.parse import (
    Mail,
    bare_subject,
    header_text,
    message_date,
    msg_ids,
    read_headers,
    read_mail,
    subject_key,
)
from probes.channels.email.servers import MailServers
from study.clock import Clock

CHANNEL = "email"
CLOCK_SKEW = timedelta(minutes=5)  # a reply may claim a Date a little before our own


@dataclass(frozen=True, order=True)
class Filed:
    """A probe in the Sent folder, as subject matching sees it."""

    sent_at: datetime
    to: str  # the target's address, lower case
    message_id: str


class Inbox:
    """The reading half of `MailChannel` (probes.channels.email.adapter)."""

    servers: MailServers
    from_address: str
    clock: Clock
    folder: str
    _ours: re.Pattern[str]  # the Message-IDs of our probes

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
