"""Connections to the probe mailbox's servers, and the few IMAP commands the channel uses.

smtplib and imaplib block: the channel runs each whole exchange (connect, log in, commands,
log out) in a worker thread with `asyncio.to_thread`, and every socket has a timeout, so a
silent server raises instead of hanging. The password lives only in `MailServers` (never in
its repr) and is never put into a message: errors quote the server's answer, not ours, and
a server that quotes ours back (as is or in the base64 of AUTH PLAIN) has it scrubbed from
every error that leaves a connection's block (`study.redact.scrub`).
"""

from __future__ import annotations

import imaplib
import re
import smtplib
import ssl
import traceback
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from probes.channels.base import AuthError, ChannelError, Rejected, Transient
from study.errors import StudyError
from study.load_channels import is_loopback_host as is_loopback
from study.redact import scrub

SECURITIES = ("starttls", "tls", "plain")
SENT_NAMES = ("sent", "sent items", "sent messages", "sent mail", "inbox.sent", "inbox/sent")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
INTERNALDATE = re.compile(
    rb'INTERNALDATE "\s?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)"'
)
UID = re.compile(rb"\bUID (\d+)")
LIST_LINE = re.compile(rb'^\((?P<flags>[^)]*)\)\s+(?:"(?:[^"\\]|\\.)*"|NIL)\s+(?P<name>.*)$')
FETCH_CHUNK = 100


@dataclass(frozen=True)
class Fetched:
    """One message (or part of one) from a UID FETCH."""

    uid: int
    internaldate: datetime | None
    data: bytes


@dataclass(frozen=True)
class MailServers:
    """Where and how the probe account's mail is sent (SMTP) and read (IMAP)."""

    smtp_host: str
    smtp_port: int
    imap_host: str
    imap_port: int
    username: str
    password: str = field(repr=False)
    smtp_security: str = "starttls"
    imap_security: str = "tls"
    timeout: float = 60.0
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        for host, security in ((self.smtp_host, self.smtp_security),
                               (self.imap_host, self.imap_security)):  # fmt: skip
            if security not in SECURITIES:
                raise ValueError(f"security {security!r} is not one of {', '.join(SECURITIES)}")
            if security == "plain" and not is_loopback(host):
                raise ValueError(f"plain (unencrypted) mail is refused for {host}: not loopback")

    def tls(self) -> ssl.SSLContext:
        return self.ssl_context or ssl.create_default_context()

    @contextmanager
    def scrubbed(self) -> Iterator[None]:
        """Errors leave the block with the password scrubbed from their message (and without
        the exceptions they were raised from, should those hold it)."""
        try:
            yield
        except (ChannelError, StudyError) as e:
            e.args = (scrub(str(e), [self.password]), *e.args[1:])
            chain = "".join(traceback.format_exception(e))
            if scrub(chain, [self.password]) != chain:
                e.__cause__, e.__suppress_context__ = None, True
            raise

    @contextmanager
    def smtp(self) -> Iterator[smtplib.SMTP]:
        """A connection that said EHLO, started TLS as configured and logged in when the
        server offers AUTH. Network failures inside the block become `Transient`; no error
        quotes the password (`scrubbed`)."""
        with self.scrubbed(), self._smtp() as conn:
            yield conn

    @contextmanager
    def _smtp(self) -> Iterator[smtplib.SMTP]:
        where = f"the SMTP server {self.smtp_host}:{self.smtp_port}"
        try:
            if self.smtp_security == "tls":
                conn: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.smtp_host, self.smtp_port, timeout=self.timeout, context=self.tls()
                )
            else:
                conn = smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=self.timeout)
        except ssl.SSLCertVerificationError as e:
            raise AuthError(f"{where}: its TLS certificate is not trusted ({e})") from None
        except (OSError, smtplib.SMTPException) as e:
            raise Transient(f"cannot reach {where}: {_reason(e)}") from None
        try:
            self._smtp_hello(conn, where)
            yield conn
        except ssl.SSLCertVerificationError as e:
            raise AuthError(f"{where}: its TLS certificate is not trusted ({e})") from None
        except (OSError, smtplib.SMTPServerDisconnected) as e:
            raise Transient(f"{where} dropped the connection: {_reason(e)}") from None
        finally:
            with suppress(OSError, smtplib.SMTPException):
                conn.quit()
            conn.close()

    def _smtp_hello(self, conn: smtplib.SMTP, where: str) -> None:
        code, text = conn.ehlo()
        if code != 250:
            raise Transient(f"{where} refused EHLO: {code} {_text(text)}")
        if self.smtp_security == "starttls":
            if not conn.has_extn("starttls"):
                raise AuthError(
                    f"{where} does not offer STARTTLS, and the password must not travel "
                    "unencrypted; use smtp_security = 'tls' if it expects TLS from the start"
                )
            conn.starttls(context=self.tls())
            conn.ehlo()
        if not conn.has_extn("auth"):
            return  # a relay that authorises by address
        try:
            conn.login(self.username, self.password)
        except smtplib.SMTPAuthenticationError as e:
            raise AuthError(
                f"{where} refused the login of {self.username!r}: {e.smtp_code} "
                f"{_text(e.smtp_error)}"
            ) from None
        except UnicodeEncodeError:
            raise AuthError(
                f"{where}: the password holds characters its login cannot carry (ASCII only)"
            ) from None
        except smtplib.SMTPNotSupportedError:
            raise AuthError(f"{where} offers no login method this client knows") from None
        except smtplib.SMTPException as e:
            if isinstance(e, smtplib.SMTPServerDisconnected):
                raise
            raise AuthError(f"{where} refused the login of {self.username!r}: {e}") from None

    @contextmanager
    def imap(self) -> Iterator[imaplib.IMAP4]:
        """A logged-in connection (TLS as configured). Network failures inside the block
        become `Transient`; a BAD answer to a command is a bug and stays a `ChannelError`; no
        error quotes the password (`scrubbed`)."""
        with self.scrubbed(), self._imap() as conn:
            yield conn

    @contextmanager
    def _imap(self) -> Iterator[imaplib.IMAP4]:
        where = f"the IMAP server {self.imap_host}:{self.imap_port}"
        try:
            if self.imap_security == "tls":
                conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                    self.imap_host, self.imap_port, ssl_context=self.tls(), timeout=self.timeout
                )
            else:
                conn = imaplib.IMAP4(self.imap_host, self.imap_port, timeout=self.timeout)
        except ssl.SSLCertVerificationError as e:
            raise AuthError(f"{where}: its TLS certificate is not trusted ({e})") from None
        except (OSError, imaplib.IMAP4.error) as e:
            raise Transient(f"cannot reach {where}: {_reason(e)}") from None
        try:
            self._imap_login(conn, where)
            yield conn
        except ssl.SSLCertVerificationError as e:
            raise AuthError(f"{where}: its TLS certificate is not trusted ({e})") from None
        except (OSError, imaplib.IMAP4.abort) as e:
            raise Transient(f"{where} dropped the connection: {_reason(e)}") from None
        except imaplib.IMAP4.error as e:
            raise ChannelError(f"{where} refused a command: {_reason(e)}") from None
        finally:
            with suppress(OSError, imaplib.IMAP4.error):
                conn.logout()
            with suppress(OSError):
                conn.shutdown()

    def _imap_login(self, conn: imaplib.IMAP4, where: str) -> None:
        if self.imap_security == "starttls":
            if "STARTTLS" not in conn.capabilities:
                raise AuthError(
                    f"{where} does not offer STARTTLS, and the password must not travel "
                    "unencrypted; use imap_security = 'tls' if it expects TLS from the start"
                )
            conn.starttls(ssl_context=self.tls())
        secret = f"\0{self.username}\0{self.password}".encode()
        try:
            if "AUTH=PLAIN" in conn.capabilities:  # SASL PLAIN carries UTF-8 passwords
                conn.authenticate("PLAIN", lambda _challenge: secret)
            else:
                conn.login(self.username, self.password)
        except imaplib.IMAP4.abort as e:
            raise Transient(f"{where} dropped the connection at login: {_reason(e)}") from None
        except imaplib.IMAP4.error as e:
            raise AuthError(
                f"{where} refused the login of {self.username!r}: {_reason(e)}"
            ) from None
        except UnicodeEncodeError:
            raise AuthError(
                f"{where}: the password holds characters its login cannot carry (ASCII only)"
            ) from None


# -- SMTP and IMAP commands ----------------------------------------------------------------


def dot_stuffed(raw: bytes) -> bytes:
    """The message as SMTP's DATA carries it (RFC 5321 4.5.2), with the ending dot line."""
    data = re.sub(rb"(?m)^\.", b"..", raw.replace(b"\r\n", b"\n")).replace(b"\n", b"\r\n")
    return data + (b"" if data.endswith(b"\r\n") else b"\r\n") + b".\r\n"


def expect(reply: tuple[int, bytes], ok: tuple[int, ...], what: str) -> None:
    code, text = reply
    if code in ok:
        return
    said = f"{code} {text.decode('utf-8', 'replace')}".strip()
    if code in (530, 535):
        raise AuthError(f"the SMTP server refused {what}: {said}")
    if 400 <= code < 500:
        raise Transient(f"the SMTP server deferred {what}: {said}; will try again")
    raise Rejected(f"the SMTP server refused {what}: {said}")


def quote(text: str) -> str:
    """An IMAP quoted string (mailbox names may hold spaces)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def examine(conn: imaplib.IMAP4, folder: str, *, readonly: bool = True) -> tuple[str, int | None]:
    """Open `folder` read-only (EXAMINE: flags and \\Recent stay as they are), or for
    writing (SELECT) when not `readonly`; its (UIDVALIDITY, UIDNEXT)."""
    typ, data = conn.select(quote(folder), readonly=readonly)
    if typ != "OK":
        raise StudyError(
            f"the IMAP folder {folder!r} cannot be opened ({_text(data)}); set imap_folder in "
            "study.toml [channels.email] to a folder of the probe account, e.g. 'INBOX'"
        )
    _, validity = conn.response("UIDVALIDITY")
    _, following = conn.response("UIDNEXT")
    uidnext = _int(following[0]) if following and following[0] else None
    return _text(validity[0] if validity else b""), uidnext


def search(conn: imaplib.IMAP4, *criteria: str, literal: str | None = None) -> list[int]:
    """UIDs matching a UID SEARCH; `literal` (sent as an IMAP literal, UTF-8) ends it."""
    if literal is not None:
        conn.literal = literal.encode("utf-8")  # type: ignore[assignment]  # bytes, as imaplib sends it
        criteria = ("CHARSET", "UTF-8", *criteria)
    typ, data = conn.uid("SEARCH", *criteria)
    if typ != "OK":
        raise ChannelError(f"IMAP SEARCH failed: {_text(data)}")
    return sorted(int(n) for chunk in data if chunk for n in _text(chunk).split())


def fetch(conn: imaplib.IMAP4, uids: list[int], item: str) -> list[Fetched]:
    """`item` (e.g. "BODY.PEEK[]") with UID and INTERNALDATE of each message, by UID."""
    found: dict[int, Fetched] = {}
    for i in range(0, len(uids), FETCH_CHUNK):
        chunk = ",".join(str(u) for u in uids[i : i + FETCH_CHUNK])
        typ, data = conn.uid("FETCH", chunk, f"(UID INTERNALDATE {item})")
        if typ != "OK":
            raise ChannelError(f"IMAP FETCH failed: {_text(data)}")
        for n, entry in enumerate(data):
            if not isinstance(entry, tuple):
                continue  # a closing ")" or an unsolicited FLAGS update
            # The server may put UID and INTERNALDATE before or after the literal.
            after = data[n + 1] if n + 1 < len(data) else b""
            meta = entry[0] + b" " + (after if isinstance(after, bytes) else b"")
            uid = UID.search(meta)
            if uid is not None:
                found[int(uid.group(1))] = Fetched(
                    int(uid.group(1)), internaldate(meta), bytes(entry[1])
                )
    return [found[u] for u in sorted(found)]


def internaldate(meta: bytes) -> datetime | None:
    m = INTERNALDATE.search(meta)
    if m is None or m.group(2).decode().title() not in MONTHS:
        return None
    day, mon, year, hh, mm, ss, sign, oh, om = (g.decode() for g in m.groups())
    offset = timedelta(hours=int(oh), minutes=int(om)) * (1 if sign == "+" else -1)
    return datetime(
        int(year), MONTHS.index(mon.title()) + 1, int(day), int(hh), int(mm), int(ss),
        tzinfo=timezone(offset),
    )  # fmt: skip


def imap_date(when: datetime) -> str:
    """An IMAP date (SEARCH SINCE), English month names whatever the locale."""
    return f"{when.day}-{MONTHS[when.month - 1]}-{when.year}"


def sent_folder(conn: imaplib.IMAP4) -> str | None:
    """The folder mail clients file sent mail in: the one LIST marks \\Sent (RFC 6154), else
    one with a usual name, else None."""
    typ, data = conn.list()
    if typ != "OK":
        return None
    named: list[str] = []
    for entry in data:
        line = entry[0] if isinstance(entry, tuple) else entry
        m = LIST_LINE.match(line) if isinstance(line, bytes) else None
        if m is None:
            continue
        name = _mailbox_name(m.group("name"), entry)
        if b"\\sent" in m.group("flags").lower().split():
            return name
        if name.lower() in SENT_NAMES:
            named.append(name)
    return named[0] if named else None


def open_sent(conn: imaplib.IMAP4, *, readonly: bool = True) -> str | None:
    """Open the Sent folder (`sent_folder`); its name, or None when the server has none."""
    folder = sent_folder(conn)
    if folder is not None:
        examine(conn, folder, readonly=readonly)
    return folder


def append(conn: imaplib.IMAP4, folder: str, raw: bytes, when: datetime) -> None:
    typ, data = conn.append(quote(folder), "(\\Seen)", imaplib.Time2Internaldate(when), raw)
    if typ != "OK":
        raise ChannelError(f"IMAP APPEND to {folder!r} failed: {_text(data)}")


def delete(conn: imaplib.IMAP4, uids: list[int]) -> None:
    """Delete messages of the folder opened for writing: flag them \\Deleted (searches with
    UNDELETED no longer see them) and expunge just them when the server has UIDPLUS (RFC
    4315); never a plain EXPUNGE, which would remove whatever else someone flagged."""
    if not uids:
        return
    which = ",".join(str(u) for u in uids)
    typ, data = conn.uid("STORE", which, "+FLAGS.SILENT", "(\\Deleted)")
    if typ != "OK":
        raise ChannelError(f"IMAP STORE \\Deleted failed: {_text(data)}")
    typ, data = conn.capability()
    if typ == "OK" and b"UIDPLUS" in b" ".join(d for d in data if isinstance(d, bytes)).upper():
        conn.uid("EXPUNGE", which)


def _mailbox_name(raw: bytes, entry: object) -> str:
    if isinstance(entry, tuple):  # the name came as a literal
        return _text(entry[1])
    text = _text(raw).strip()
    if text.startswith('"') and text.endswith('"'):
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


def _int(value: object) -> int | None:
    try:
        return int(_text(value))
    except ValueError:
        return None


def _text(value: object) -> str:
    if isinstance(value, list):
        return " ".join(_text(v) for v in value)
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def _reason(e: BaseException) -> str:
    """An exception's message (imaplib wraps the server's answer in bytes)."""
    return " ".join(_text(a) for a in e.args) or type(e).__name__
