"""Reading e-mail: who wrote, when, which message it answers, whether a machine sent it.

Pure functions over raw RFC 5322 bytes, so the real messages in tests/fixtures/email can be
fed to them directly. Message ids are kept without their angle brackets everywhere (sends,
replies, the runner's matcher).
"""

from __future__ import annotations

import re
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime

from probes.channels.email.text import body_text, decoded_payload, reply_text
from study.kinds import classify_private_text
from study.model import ReplyKind

MSG_ID = re.compile(r"<\s*([^<>\s]+@[^<>\s]+)\s*>")
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)  # a Date before this is a broken clock
FUTURE_SLACK = timedelta(days=1)  # ... and so is one a day after the server received it
SUBJECT_MAX = 78
# Reply, forward and auto-reply prefixes in the languages of the example study and of the
# common clients ("Re:", Outlook's "AW:"/"SV:"/"RE:", "Antw:", "Automatic reply:", ...), and
# ticket tags such as "[#12345]" that help desks put in front.
SUBJECT_PREFIX = re.compile(
    r"""^\s*(?:
        (?:re|aw|sv|vs|antw|antwort|odp|ynt|res|ref|r|rif|fwd?|wg|tr|rv|enc|doorst|vb|
           automatic\ reply|auto(?:matic)?[-\ ]?(?:reply|response)|out\ of\ office(?:\ reply)?|
           abwesenheitsnotiz|automatische\ antwort|réponse\ automatique|
           respuesta\ automática|risposta\ automatica)
        \s*(?:\[\d+\]|\(\d+\))?\s*[:：]
      | \[[^\]]{0,40}\]
    )\s*""",
    re.IGNORECASE | re.VERBOSE,
)
SENTENCE_END = re.compile(r"[.!?…。！？](?=\s|$)|\n")
AUTO_PRECEDENCE = {"auto_reply", "bulk", "junk"}


@dataclass(frozen=True)
class Mail:
    """What the inbox needs of one message."""

    message_id: str | None
    author: str  # the From address, lower case
    subject: str  # decoded, whitespace folded
    text: str  # the sender's own words (quoted history cut)
    created_at: datetime  # the Date header in UTC, or the server's INTERNALDATE
    date_from_header: bool  # False when Date was missing, unparseable or absurd
    in_reply_to: str | None  # In-Reply-To, else the last id in References
    thread_root: str | None  # the first id in References
    referenced: tuple[str, ...]  # every id it names: References, In-Reply-To, a bounce's
    kind: ReplyKind
    bounce: bool = False  # a delivery status report (a bounce), not a person's message
    bounce_of: str | None = None  # the Message-ID of the message that bounced, when quoted


def read_mail(raw: bytes, internaldate: datetime) -> Mail:
    """One message as the server stored it, with its INTERNALDATE (the arrival time)."""
    msg = message_from_bytes(raw, policy=compat32)
    created, from_header = message_date(msg.get("Date"), internaldate)
    in_reply_to = msg_ids(msg.get("In-Reply-To"))
    references = msg_ids(msg.get("References"))
    bounce, bounce_of = delivery_report(msg)
    text = reply_text(body_text(msg))  # the sender's own words, without our quoted probe
    kind = ReplyKind.OTHER if bounce else message_kind(msg, text)
    return Mail(
        message_id=first(msg_ids(msg.get("Message-ID"))),
        author=from_address(msg.get("From")),
        subject=header_text(msg.get("Subject")),
        text=text,
        created_at=created,
        date_from_header=from_header,
        in_reply_to=first(in_reply_to) or last(references),
        thread_root=first(references),
        referenced=tuple(dict.fromkeys([*references, *in_reply_to, *filter(None, [bounce_of])])),
        kind=kind,
        bounce=bounce,
        bounce_of=bounce_of,
    )


def read_headers(raw: bytes) -> Message:
    """Only the header of a message (as fetched with BODY.PEEK[HEADER.FIELDS (...)])."""
    return BytesHeaderParser(policy=compat32).parsebytes(raw)


# -- headers --------------------------------------------------------------------------------


def msg_ids(value: object) -> list[str]:
    """The message ids in an In-Reply-To/References/Message-ID value, brackets stripped.

    A value without `<...>` (an empty In-Reply-To, or "someone@yahoo.com" as one bulk mailer
    writes it) names no message."""
    return MSG_ID.findall(str(value)) if value is not None else []


def first(ids: list[str]) -> str | None:
    return ids[0] if ids else None


def last(ids: list[str]) -> str | None:
    return ids[-1] if ids else None


def header_text(value: object) -> str:
    """A header's text with RFC 2047 encoded words decoded and folding whitespace folded."""
    if value is None:
        return ""
    text = str(value)
    with suppress(LookupError, UnicodeError, ValueError):  # unknown charset, broken word
        text = str(make_header(decode_header(text)))
    return " ".join(text.split())


def from_address(value: object) -> str:
    """The address of the From header, lower case ("" when there is none)."""
    if value is None:
        return ""
    for _, address in getaddresses([header_text(value)]):
        if "@" in address:
            return address.strip().lower()
    return ""


def message_date(value: object, internaldate: datetime) -> tuple[datetime, bool]:
    """(when, whether it came from Date): the Date header in UTC, or INTERNALDATE when Date
    is missing, unparseable, before 1990 or more than a day after the server received it."""
    if value is not None:
        try:
            when = parsedate_to_datetime(" ".join(str(value).split()))
        except (TypeError, ValueError, IndexError):
            when = None
        if when is not None:
            if when.tzinfo is None:  # "-0000": UTC, source time zone unknown (RFC 5322 3.3)
                when = when.replace(tzinfo=UTC)
            when = when.astimezone(UTC)
            if EARLIEST <= when <= internaldate + FUTURE_SLACK:
                return when, True
    return internaldate.astimezone(UTC), False


def message_kind(msg: Message, text: str) -> ReplyKind:
    """AUTO_ACK for automatic replies (RFC 3834 Auto-Submitted, the X-Autoreply family,
    Precedence), else what the words say: an e-mail answer is a private message."""
    auto = str(msg.get("Auto-Submitted", "")).split(";")[0].strip().lower()
    precedence = str(msg.get("Precedence", "")).strip().lower()
    if (
        (auto and auto != "no")
        or msg.get("X-Autoreply") is not None
        or msg.get("X-Autorespond") is not None
        or precedence in AUTO_PRECEDENCE
    ):
        return ReplyKind.AUTO_ACK
    return classify_private_text(text)


def delivery_report(msg: Message) -> tuple[bool, str | None]:
    """(whether the message is a delivery status report (RFC 3464), the Message-ID of the
    message it reports on, when it quotes that message's header)."""
    if msg.get_content_type() != "multipart/report":
        return False, None
    if str(msg.get_param("report-type", "")).lower() != "delivery-status":
        return False, None
    for part in msg.walk():
        ctype, inner = part.get_content_type(), part.get_payload()
        original: object = None
        if ctype in ("text/rfc822-headers", "message/rfc822-headers"):
            original = read_headers(decoded_payload(part).encode("utf-8", "replace"))
        elif ctype == "message/rfc822" and isinstance(inner, list) and inner:
            original = inner[0]
        if not isinstance(original, Message):
            continue
        found = first(msg_ids(original.get("Message-ID")))
        if found is not None:
            return True, found
    return True, None


# -- subjects -------------------------------------------------------------------------------


def probe_subject(text: str) -> str:
    """The subject of a probe: its first sentence, at most 78 characters, cut at a word."""
    flat = text.strip()
    end = SENTENCE_END.search(flat)
    sentence = " ".join((flat[: end.end()] if end else flat).split())
    if len(sentence) <= SUBJECT_MAX:
        return sentence
    head = sentence[: SUBJECT_MAX + 1]
    cut = head.rsplit(" ", 1)[0] if " " in head else ""
    return (cut or sentence[:SUBJECT_MAX]).rstrip(" ,;:-")


def bare_subject(subject: str) -> str:
    """A subject as replies keep it: reply/forward prefixes and ticket tags stripped,
    whitespace folded ("RE: AW: [#42] Do you ship?" -> "Do you ship?")."""
    text = " ".join(subject.split())
    while True:
        stripped = SUBJECT_PREFIX.sub("", text, count=1)
        if stripped == text:
            return text
        text = stripped


def subject_key(subject: str) -> str:
    """`bare_subject`, case folded: what a reply's and a probe's subjects are compared by."""
    return bare_subject(subject).casefold()
