"""The words of an e-mail: its plain-text body, HTML turned into text, the quoted history cut.

A brand's answer arrives as text/plain, as multipart/alternative (plain preferred), or as
HTML only, in any charset and transfer encoding; below it most mail clients quote the
inquiry ("On ... wrote:", "-----Original Message-----", `>` lines). The journal keeps only
the brand's own words, as talon (mailgun/talon) extracts them from the same clients' replies.
"""

from __future__ import annotations

import codecs
import re
from email.message import Message
from html.parser import HTMLParser

# Where the quoted history starts, one line each (mailgun/talon's splitter patterns, cut down):
# Outlook/AOL/Yahoo/Zimbra/Gmail separators, Outlook's rule, and the attribution line of clients
# that quote the inquiry below the answer ("On Tue, ... wrote:" and its translations).
SPLITTERS = re.compile(
    r"""^\s*(?:
        -{2,}\s*(?:Original\ Message|Ursprüngliche\ Nachricht|Message\ d'origine|
            Mensaje\ original|Messaggio\ originale|Oorspronkelijk\ bericht|
            Ursprungligt\ meddelande|Forwarded\ message|Weitergeleitete\ Nachricht)\s*-{2,}
      | _{20,}
      | -*\s*(?:On|Am|Le|El|Il|Op|Den|W\ dniu)\s.{0,200}
            (?:wrote|schrieb|a\ écrit|escribió|ha\ scritto|schreef|skrev|napisał)\s*:
    )\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
# Outlook's quoted header block: "From: ..." followed within two lines by "Sent:"/"Date:".
HEADER_FROM = re.compile(r"^\s*\*?(?:From|Von|De|Da|Van|Från|Od)\s*:\*?\s", re.IGNORECASE)
HEADER_NEXT = re.compile(
    r"^\s*\*?(?:Sent|Date|Gesendet|Datum|Envoyé|Enviado|Inviato|Verzonden|Skickat|Wysłano)"
    r"\s*:",
    re.IGNORECASE,
)
QUOTED = re.compile(r"^\s*>")
DATEISH = re.compile(r"\b\d{1,2}:\d{2}\b|\b(?:19|20)\d{2}\b")

BLOCK_TAGS = {
    "address", "article", "blockquote", "br", "dd", "div", "dl", "dt", "footer", "h1", "h2",
    "h3", "h4", "h5", "h6", "header", "hr", "li", "ol", "p", "pre", "section", "table", "td",
    "th", "tr", "ul",
}  # fmt: skip
SKIPPED_TAGS = {"head", "script", "style", "title", "blockquote"}


def body_text(message: Message) -> str:
    """The message's own text: plain text preferred, else HTML as text; no attachments."""
    found = _text_of(message)
    return "" if found is None else found[0].strip("\n")


def reply_text(text: str) -> str:
    """`text` without the quoted history below (or interleaved `>` lines), or all of `text`
    when nothing would be left."""
    lines = [line.rstrip() for line in text.splitlines()]
    for i, line in enumerate(lines):
        starts = SPLITTERS.match(line) or (
            HEADER_FROM.match(line) and any(HEADER_NEXT.match(n) for n in lines[i + 1 : i + 3])
        )
        if starts and any(before.strip() for before in lines[:i]):
            lines = lines[:i]
            break
    result = "\n".join(_drop_quoted(lines)).strip("\n")
    return result if result.strip() else text.strip("\n")


def html_to_text(markup: str) -> str:
    """Readable text from HTML: block elements become line breaks, quoted blocks are
    dropped, entities are decoded."""
    parser = _TextParser()
    parser.feed(markup)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def decoded_payload(part: Message) -> str:
    """A leaf part's payload as text: transfer encoding undone, then its charset decoded
    (an unknown or missing charset reads as UTF-8, undecodable bytes as U+FFFD)."""
    raw = part.get_payload(decode=True)
    if not isinstance(raw, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        codecs.lookup(charset)
    except LookupError:
        charset = "utf-8"
    try:
        return raw.decode(charset, errors="replace")
    except (LookupError, ValueError):  # a codec that exists but fails on the way
        return raw.decode("utf-8", errors="replace")


# -- plumbing -------------------------------------------------------------------------------


def _text_of(part: Message) -> tuple[str, bool] | None:
    """(text, came from HTML) of a part, or None when it holds no readable text."""
    if part.get_content_maintype() == "message":
        return None  # a forwarded or bounced message is not the sender's own words
    if part.is_multipart():
        children = [c for c in _children(part) if not _is_attachment(c)]
        found = [t for t in (_text_of(c) for c in children) if t is not None]
        if not found:
            return None
        if part.get_content_subtype() == "alternative":
            plain = [t for t in found if not t[1] and t[0].strip()]
            return (plain or found)[0]
        texts = [t for t, _ in found if t.strip()]
        return "\n\n".join(texts), all(h for _, h in found)
    ctype = part.get_content_type()
    if ctype == "text/plain":
        return decoded_payload(part), False
    if ctype == "text/html":
        return html_to_text(decoded_payload(part)), True
    return None


def _children(part: Message) -> list[Message]:
    payload = part.get_payload()
    return [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []


def _is_attachment(part: Message) -> bool:
    return (part.get_content_disposition() or "") == "attachment"


def _drop_quoted(lines: list[str]) -> list[str]:
    """Drop `>` lines and the attribution line(s) ending in ':' just above each block."""
    kept: list[str] = []
    quoting = False
    for line in lines:
        if QUOTED.match(line):
            if not quoting:
                _drop_attribution(kept)
            quoting = True
        else:
            quoting = False
            kept.append(line)
    return kept


def _drop_attribution(kept: list[str]) -> None:
    """Remove "On ... wrote:" above a quoted block: the last non-blank line of `kept` if it
    ends with ':', with the line before it when the attribution wrapped (a date or time in
    it, as Android's "02.04.2012 14:20 ... <" / "bob@... wrote:")."""
    end = len(kept)
    while end and not kept[end - 1].strip():
        end -= 1
    if not end or not kept[end - 1].endswith(":"):
        return
    start = end - 1
    if start and kept[start - 1].strip() and DATEISH.search(kept[start - 1]):
        start -= 1
    del kept[start:]


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED_TAGS:
            self._skipping.append(tag)
        elif tag in BLOCK_TAGS and not self._skipping:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self._skipping and tag == self._skipping[-1]:
            self._skipping.pop()
        elif tag in BLOCK_TAGS and not self._skipping:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data.replace("\xa0", " "))
