"""Real mail servers for the e-mail channel's tests: Dovecot (IMAP) and aiosmtpd (SMTP).

Dovecot runs from a self-contained configuration in a temporary folder (`dovecot -c
dovecot.conf -F`, no system configuration, loopback only, a passwd-file with one user, a
Maildir). aiosmtpd runs in-process; its handler files every message addressed to the probe
account into that Maildir (atomically: `tmp/` then `new/`, with the file time the server's
"now", which Dovecot reports as INTERNALDATE) and keeps every other message in an outbox
where the test's brand responder reads the probes. Every server is stopped by its fixture's
finalizer, every port is a free one, and every wait has a deadline.
"""

from __future__ import annotations

import base64
import os
import pwd
import shutil
import smtplib
import socket
import socketserver
import ssl
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email import message_from_bytes
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.system import DOVECOT, require

USER = "probe"
PASSWORD = "correct-horse-Battery-9"  # the tests assert it never leaks into errors or logs
ADDRESS = "probe@replybench.test"
REJECT = "reject@brands.test"  # RCPT TO answered 550
BUSY = "busy@brands.test"  # RCPT TO answered 451
DROP = "drop@brands.test"  # the connection is cut after the message was received
STARTUP_S = 15.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_greeting(port: int, deadline: float, alive: Callable[[], bool]) -> None:
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError("the server exited during start-up")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(64).startswith(b"* OK"):
                    return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"no IMAP greeting on port {port} within {STARTUP_S} s")


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made with the openssl command."""
    require("openssl")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


@dataclass
class Dovecot:
    """A running Dovecot with one user, `USER`, whose Maildir the tests write into."""

    root: Path
    port: int  # IMAP (STARTTLS offered when tls)
    tls_port: int | None  # IMAPS, when started with a certificate
    maildir: Path
    uid: int
    gid: int
    process: subprocess.Popen[bytes] | None = None

    def deliver(self, raw: bytes, received: datetime) -> Path:
        """File a message as an MDA does: write it in tmp/, then rename it into new/."""
        stamp = int(received.timestamp())
        name = f"{stamp}.{uuid.uuid4().hex}.replybench"
        tmp = self.maildir / "tmp" / name
        tmp.write_bytes(raw.replace(b"\r\n", b"\n"))
        os.chown(tmp, self.uid, self.gid)
        os.utime(tmp, (stamp, stamp))  # Dovecot's INTERNALDATE of a Maildir message
        final = self.maildir / "new" / name
        tmp.rename(final)
        return final

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


@contextmanager
def dovecot(*, tls: bool = False) -> Iterator[Dovecot]:
    """Start Dovecot on free loopback ports from a configuration in a new temporary folder
    (short, world-traversable: the mail user and Dovecot's socket paths need that)."""
    require("dovecot")
    root = Path(tempfile.mkdtemp(prefix="rb-dovecot-"))
    try:
        root.chmod(0o755)
        server = _configure(root, tls=tls)
        out = (root / "stdout.log").open("wb")
        server.process = subprocess.Popen(
            [str(DOVECOT), "-c", str(root / "dovecot.conf"), "-F"],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        out.close()
        try:
            deadline = time.monotonic() + STARTUP_S
            alive = lambda: server.process is not None and server.process.poll() is None  # noqa: E731
            wait_for_greeting(server.port, deadline, alive)
        except (RuntimeError, TimeoutError) as e:
            server.stop()
            out_text = (root / "stdout.log").read_text(errors="replace")
            raise RuntimeError(f"Dovecot did not start: {e}\n{out_text}\n{server.log()}") from e
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _configure(root: Path, *, tls: bool) -> Dovecot:
    if os.geteuid() == 0:  # Dovecot drops root: mail as nobody, its own service users
        uid = gid = 65534
        internal, login = "dovecot", "dovenull"
    else:  # everything as the user running the tests
        uid, gid = os.getuid(), os.getgid()
        internal = login = pwd.getpwuid(uid).pw_name
    home = root / "home" / USER
    maildir = home / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    for path in [root / "home", home, maildir, *(maildir / s for s in ("cur", "new", "tmp"))]:
        if os.geteuid() == 0:
            os.chown(path, uid, gid)
    (root / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    port = free_port()
    tls_port = free_port() if tls else None
    ssl_lines = "ssl = no"
    if tls:
        cert, key = self_signed(root)
        ssl_lines = f"ssl = yes\nssl_cert = <{cert}\nssl_key = <{key}"
    (root / "dovecot.conf").write_text(
        f"""# A throw-away Dovecot for replybench's tests; nothing from /etc/dovecot.
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl_lines}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0  # a wrong password fails at once (anvil still delays a second one)
default_internal_user = {internal}
default_login_user = {login}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port or 0}
  }}
}}
service anvil {{
  chroot =
}}
"""
    )
    return Dovecot(root, port, tls_port, maildir, uid, gid)


# -- SMTP -------------------------------------------------------------------------------------


@dataclass
class Received:
    """A message the SMTP server accepted for someone other than the probe account."""

    to: str
    raw: bytes
    received: datetime

    @property
    def message_id(self) -> str:
        return parseaddr(str(message_from_bytes(self.raw).get("Message-ID", "")))[1]


@dataclass
class MailHub:
    """aiosmtpd's handler: the probe account's mail goes into Dovecot, the rest to `outbox`."""

    dovecot: Dovecot
    now: Callable[[], datetime]
    outbox: list[Received] = field(default_factory=list)
    delivered: dict[str, datetime] = field(default_factory=dict)  # Message-ID -> INTERNALDATE
    # Message-ID -> when the delivery had finished (on a scaled clock, later than its
    # INTERNALDATE by however long a busy machine took to deliver)
    visible: dict[str, datetime] = field(default_factory=dict)
    logins: list[tuple[str, bool]] = field(default_factory=list)
    echo: bool = False  # a refused login is answered quoting the credentials, as is and base64
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0
    tls_port: int | None = None

    async def handle_RCPT(  # noqa: N802  (aiosmtpd's hook names)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.lower() == REJECT:
            return "550 5.1.1 <reject@brands.test>: no such user"
        if address.lower() == BUSY:
            return "451 4.3.0 mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = bytes(envelope.original_content or b"")
        when = self.now().replace(microsecond=0)
        with self.lock:
            for to in envelope.rcpt_tos:
                if to.lower() == ADDRESS:
                    self.dovecot.deliver(raw, when)
                    mid = str(message_from_bytes(raw).get("Message-ID", "")).strip()
                    self.delivered[mid.strip("<>")] = when
                    self.visible[mid.strip("<>")] = self.now()
                else:
                    self.outbox.append(Received(to.lower(), raw, when))
        if any(to.lower() == DROP for to in envelope.rcpt_tos) and server.transport is not None:
            server.transport.abort()  # accepted, but the client never hears the 250
        return "250 2.0.0 queued"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            USER.encode(),
            PASSWORD.encode(),
        )
        login = data.login.decode() if isinstance(data, LoginPassword) else "?"
        self.logins.append((login, ok))
        if self.echo and not ok and isinstance(data, LoginPassword):
            blob = base64.b64encode(b"\0" + data.login + b"\0" + data.password).decode()
            said = f"535 5.7.8 {mechanism} {blob} = {login}/{data.password.decode()} refused"
            return AuthResult(success=False, handled=False, message=said)
        return AuthResult(success=ok, handled=False)

    def probes(self) -> list[Received]:
        with self.lock:
            return list(self.outbox)

    def send_to_probe_account(self, raw: bytes) -> None:
        """What a brand's mail server does: hand a message to the probe account's MX."""
        with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as smtp:
            smtp.sendmail(parseaddr(_header(raw, "From"))[1], [ADDRESS], raw)


def _header(raw: bytes, name: str) -> str:
    return str(message_from_bytes(raw).get(name, ""))


@contextmanager
def smtp_server(
    dovecot: Dovecot, now: Callable[[], datetime], *, tls: ssl.SSLContext | None = None
) -> Iterator[MailHub]:
    """aiosmtpd on a free loopback port; AUTH offered (and checked, never required) even
    without TLS, as only loopback test servers may. With `tls`, STARTTLS is offered too and
    a second server speaks implicit TLS on `tls_port`."""
    hub = MailHub(dovecot, now)
    kwargs: dict[str, Any] = {
        "authenticator": hub.authenticate,
        "auth_require_tls": False,
        "ready_timeout": STARTUP_S,
    }
    controllers = [
        Controller(hub, hostname="127.0.0.1", port=free_port(), tls_context=tls, **kwargs)
    ]
    if tls is not None:
        controllers.append(
            Controller(hub, hostname="127.0.0.1", port=free_port(), ssl_context=tls, **kwargs)
        )
    started: list[Controller] = []
    try:
        for c in controllers:
            c.start()
            started.append(c)
        hub.port = controllers[0].port
        hub.tls_port = controllers[1].port if tls is not None else None
        yield hub
    finally:
        for c in started:
            c.stop()


def now_utc() -> datetime:
    return datetime.now(UTC)


# -- the brands ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """How one brand's address treats a probe: `answer` by hand, `auto` (an RFC 3834
    auto-reply), `subject` (a help desk's new thread from another address: only the subject
    ties it to the probe), `bad_date` (an answer whose Date header is garbage), `silent`."""

    kind: str
    after_s: float = 0.0
    author: str | None = None


@dataclass
class Responder:
    """Brands that answer the probes found in the SMTP server's outbox, on the test's clock."""

    hub: MailHub
    rules: dict[str, Rule]
    taken: int = 0
    pending: list[tuple[datetime, bytes]] = field(default_factory=list)
    answered: dict[str, bytes] = field(default_factory=dict)  # brand address -> the reply

    def step(self, now: datetime) -> None:
        probes = self.hub.probes()
        for probe in probes[self.taken :]:
            rule = self.rules.get(probe.to, Rule("silent"))
            if rule.kind != "silent":
                due = probe.received.timestamp() + rule.after_s
                when = datetime.fromtimestamp(due, UTC)
                self.pending.append((when, brand_reply(probe, rule, when)))
        self.taken = len(probes)
        due_now = sorted((p for p in self.pending if p[0] <= now), key=lambda p: p[0])
        for item in due_now:
            self.pending.remove(item)
            self.hub.send_to_probe_account(item[1])
            self.answered[parseaddr(_header(item[1], "X-Answer-To"))[1]] = item[1]


def brand_reply(probe: Received, rule: Rule, when: datetime) -> bytes:
    """The raw reply a brand's mail client or help desk would send to `probe`."""
    original = message_from_bytes(probe.raw)
    subject = " ".join(str(original.get("Subject", "")).split())
    author = rule.author or probe.to
    # Brands write in their own time zone: +01:00 here, UTC in the journal.
    date = when.astimezone(timezone(timedelta(hours=1))).strftime("%a, %d %b %Y %H:%M:%S %z")
    head = [
        f"From: Customer Care <{author}>",
        f"To: {ADDRESS}",
        f"Message-ID: <{uuid.uuid4().hex}@{author.split('@')[1]}>",
        f"X-Answer-To: {probe.to}",  # for the test's bookkeeping only
        "MIME-Version: 1.0",
    ]
    body = "Hello,\n\nyes, we ship there within 3 days.\n\nKind regards\nCustomer Care\n"
    quoted = f"\nOn {original.get('Date')}, {ADDRESS} wrote:\n> {subject}\n"
    ctype = "Content-Type: text/plain; charset=utf-8"
    if rule.kind == "subject":
        head += [f"Subject: AW: [Ticket#4711] {subject}", f"Date: {date}"]
    else:
        mid = str(original.get("Message-ID", "")).strip()
        head += [f"Subject: Re: {subject}", f"In-Reply-To: {mid}", f"References: {mid}"]
        head.append("Date: Someday soon, 25:61" if rule.kind == "bad_date" else f"Date: {date}")
    if rule.kind == "auto":
        head.append("Auto-Submitted: auto-replied")
        body, quoted = "Your ticket number is 4711.\n", ""
    if rule.kind == "bad_date":  # an HTML-only answer in Latin-1, quoted-printable
        ctype = "Content-Type: text/html; charset=iso-8859-1"
        head.append("Content-Transfer-Encoding: quoted-printable")
        body = "<html><body><p>Hello,</p><p>yes, we ship there. Gr=FC=DFe</p></body></html>\n"
        quoted = ""
    text = "\r\n".join([*head, ctype, "", *(body + quoted).splitlines()]) + "\r\n"
    return text.encode("latin-1" if rule.kind == "bad_date" else "utf-8")


# -- an IMAP server that quotes the credentials back ---------------------------------------


class _EchoingImap(socketserver.StreamRequestHandler):
    """Refuses every login, quoting what the client sent: LOGIN's arguments as written, and
    AUTHENTICATE PLAIN's base64 answer both as sent and decoded (as careless servers do)."""

    server: _EchoingImapServer

    def say(self, *lines: str) -> None:
        self.wfile.write("".join(f"{line}\r\n" for line in lines).encode())

    def handle(self) -> None:
        self.say("* OK echoing IMAP ready")
        while line := self.rfile.readline():
            tag, _, rest = line.decode().rstrip("\r\n").partition(" ")
            command, _, args = rest.partition(" ")
            match command.upper():
                case "CAPABILITY":
                    self.say(f"* CAPABILITY IMAP4rev1 {self.server.auth}", f"{tag} OK done")
                case "AUTHENTICATE":
                    self.say("+ ")
                    blob = self.rfile.readline().decode().strip()
                    plain = base64.b64decode(blob).replace(b"\0", b" ").decode()
                    self.say(f"{tag} NO [AUTHENTICATIONFAILED] {blob} ({plain}) refused")
                case "LOGIN":
                    self.say(f"{tag} NO [AUTHENTICATIONFAILED] LOGIN {args} refused")
                case "LOGOUT":
                    self.say("* BYE", f"{tag} OK bye")
                    return
                case _:
                    self.say(f"{tag} BAD {command} is not known here")


class _EchoingImapServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    auth = ""


@contextmanager
def echoing_imap(*, plain: bool) -> Iterator[int]:
    """An IMAP server on a free loopback port (its port) that refuses every login quoting
    the credentials; it offers AUTH=PLAIN when `plain`, else only LOGIN."""
    with _EchoingImapServer(("127.0.0.1", 0), _EchoingImap) as server:
        server.auth = "AUTH=PLAIN" if plain else ""
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield int(server.server_address[1])
        finally:
            server.shutdown()
            thread.join(timeout=10)
