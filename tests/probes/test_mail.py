"""The e-mail channel: real messages from real clients, then real servers end to end.

The parser reads the messages in tests/fixtures/email (imap_tools' and talon's). The
channel talks to Dovecot and aiosmtpd started by tests/probes/mailservers.py; brands there
answer by hand, automatically, by subject only, with a broken Date, or not at all.
"""

from __future__ import annotations

import asyncio
import base64
import imaplib
import logging
import re
import ssl
import traceback
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from email import message_from_bytes
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from probes.channels.base import (
    AuthError,
    OutcomeUnknown,
    Rejected,
    Transient,
    Unresolvable,
    Wiring,
)
from probes.channels.email.adapter import MailChannel, build, preflight
from probes.channels.email.inbox import Filed, answered
from probes.channels.email.outbox import PENDING
from probes.channels.email.parse import probe_subject, read_mail, subject_key
from probes.channels.email.servers import MailServers
from probes.channels.registry import build_channels
from probes.runner import Runner, RunnerConfig
from study.clock import ManualClock
from study.errors import StudyError
from study.journal.campaign import Journal
from study.model import (
    ChannelSettings,
    Country,
    Ethics,
    PlannedProbe,
    ReplyKind,
    Scope,
    Script,
    Slot,
    Study,
    Target,
)
from study.timeutil import parse_iso
from tests.probes.mailservers import (
    ADDRESS,
    BUSY,
    DROP,
    PASSWORD,
    REJECT,
    USER,
    Dovecot,
    MailHub,
    Responder,
    Rule,
    brand_reply,
    dovecot,
    echoing_imap,
    free_port,
    smtp_server,
)

pytestmark = pytest.mark.anyio

EMAIL = Path(__file__).resolve().parent.parent / "fixtures" / "email"
START = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
ARRIVED = datetime(2026, 3, 3, 12, 30, 5, tzinfo=UTC)  # an INTERNALDATE for parser tests


def fixture(path: str) -> bytes:
    return (EMAIL / path).read_bytes()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# -- parsing real messages ------------------------------------------------------------------


def test_rfc_5322_replies_name_the_message_they_answer_and_their_thread() -> None:
    m = read_mail(fixture("imap_tools/rfc2822/example07.eml"), ARRIVED)
    assert m.message_id == "abcd.1234@local.machine.tld"
    assert m.author == "jdoe@machine.example"
    assert m.in_reply_to == "3456@example.net"
    assert m.thread_root == "1234@local.machine.example"  # the first id in References
    assert m.created_at == datetime(1997, 11, 21, 17, 0, tzinfo=UTC)  # 11:00 -0600
    assert m.date_from_header and m.kind is ReplyKind.DIRECT_MESSAGE
    assert m.text == "This is a reply to your reply."


def test_references_alone_give_the_last_id_as_the_message_answered() -> None:
    raw = fixture("imap_tools/plain_emails/raw_email_reply.eml")
    m = read_mail(raw, ARRIVED)
    assert m.in_reply_to == "348F04F142D69C21-291E56D292BC@xxxx.net"
    assert m.thread_root == "473FF3B8.9020707@xxx.org"
    without = re.sub(rb"In-Reply-To: [^\r\n]*\r\n", b"", raw)
    assert without != raw
    assert read_mail(without, ARRIVED).in_reply_to == "348F04F142D69C21-291E56D292BC@xxxx.net"
    # Sydney time (+1100) in the header, UTC inside.
    assert m.created_at == datetime(2007, 11, 18, 8, 56, 7, tzinfo=UTC)


def test_an_empty_in_reply_to_names_nothing() -> None:
    m = read_mail(fixture("imap_tools/error_emails/empty_in_reply_to.eml"), ARRIVED)
    assert m.in_reply_to is None and m.thread_root is None and m.referenced == ()
    assert m.message_id == "F194F88AF3E341A6B2B135CC17912811@articondell"
    assert m.author == "ak@g.com"


def test_a_bad_date_header_falls_back_to_the_servers_internaldate() -> None:
    m = read_mail(fixture("imap_tools/error_emails/bad_date_header.eml"), ARRIVED)
    assert m.created_at == ARRIVED and not m.date_from_header
    assert m.in_reply_to is None  # "In-Reply-To: someone@yahoo.com" is no message id
    assert m.kind is ReplyKind.AUTO_ACK  # Precedence: junk
    assert m.author == "infoz@reactive-outpost.com"


@pytest.mark.parametrize(
    "header",
    [b"Date: Fri, 21 Nov 1980 10:01:10 -0600", b"Date: Fri, 21 Nov 2031 10:01:10 -0600", b""],
)
def test_a_date_before_1990_after_arrival_or_missing_is_not_believed(header: bytes) -> None:
    raw = fixture("imap_tools/rfc2822/example06.eml")
    changed = raw.replace(b"Date: Fri, 21 Nov 1997 10:01:10 -0600", header)
    assert changed != raw
    arrived = datetime(1997, 11, 22, tzinfo=UTC)
    assert read_mail(changed, arrived).created_at == arrived
    assert read_mail(raw, arrived).created_at == datetime(1997, 11, 21, 16, 1, 10, tzinfo=UTC)


def test_mime_bodies_are_decoded_and_forwarded_messages_left_out() -> None:
    qp = read_mail(fixture("imap_tools/mime_emails/raw_email2.eml"), ARRIVED)
    assert qp.text == "We should not include these files or vcards as attachments."
    assert qp.subject == "Fwd: Signed email causes file attachments"
    jis = read_mail(fixture("imap_tools/rfc2822/example14.eml"), ARRIVED)
    assert jis.subject == "Re: TEST テストテスト"  # ISO-2022-JP encoded words
    assert jis.created_at == datetime(2011, 8, 19, 1, 47, 17, tzinfo=UTC)
    forwarded = read_mail(fixture("imap_tools/forwarded_message.eml"), ARRIVED)
    assert forwarded.subject == "статус"
    assert forwarded.text == ""  # its own part is empty; the order inside is not its words


TALON = sorted((EMAIL / "talon" / "standard_replies").glob("*.eml"))


@pytest.mark.parametrize("path", TALON, ids=[p.stem for p in TALON])
def test_the_reply_text_of_each_mail_client_without_the_quoted_inquiry(path: Path) -> None:
    m = read_mail(path.read_bytes(), ARRIVED)
    expected = path.with_name(f"{path.stem}_reply_text")
    want = expected.read_text() if expected.exists() else "Hello"
    assert m.text == "\n".join(line.rstrip() for line in want.strip().splitlines())
    assert "Hi" not in m.text.split()
    assert m.kind is ReplyKind.DIRECT_MESSAGE


def test_mail_clients_dates_and_a_missing_date() -> None:
    sd = "talon/standard_replies"
    android = read_mail(fixture(f"{sd}/android.eml"), ARRIVED)  # base64 UTF-8, +0400
    assert android.created_at == datetime(2012, 4, 2, 14, 22, 10, tzinfo=UTC)
    assert android.author == "bob@example.com"
    outlook = read_mail(fixture(f"{sd}/outlook.eml"), ARRIVED)  # no Date header at all
    assert outlook.created_at == ARRIVED and not outlook.date_from_header


def test_the_words_above_a_yahoo_quote_block() -> None:
    m = read_mail(fixture("talon/reply-quotations-share-block.eml"), ARRIVED)
    assert m.text.startswith("Hi Katharine.")
    assert m.text.endswith("Joe XXX")
    assert "Booking Inquiry" not in m.text


def test_machine_signals_make_an_automatic_reply_and_a_bounce_no_answer() -> None:
    raw = fixture("imap_tools/rfc2822/example06.eml")
    for header, kind in [
        (b"Auto-Submitted: auto-replied", ReplyKind.AUTO_ACK),
        (b"Auto-Submitted: auto-generated; owner-email=x@example.net", ReplyKind.AUTO_ACK),
        (b"Auto-Submitted: no", ReplyKind.DIRECT_MESSAGE),
        (b"X-Autoreply: yes", ReplyKind.AUTO_ACK),
        (b"X-Autorespond: 1", ReplyKind.AUTO_ACK),
        (b"Precedence: bulk", ReplyKind.AUTO_ACK),
        (b"Precedence: list", ReplyKind.DIRECT_MESSAGE),
    ]:
        assert read_mail(header + b"\n" + raw, ARRIVED).kind is kind, header
    bounce = (
        b"From: MAILER-DAEMON@mx.example.net\nTo: jdoe@machine.example\nSubject: Undelivered\n"
        b"Date: Fri, 21 Nov 1997 10:05:00 -0600\nMIME-Version: 1.0\nContent-Type: "
        b'multipart/report; report-type=delivery-status; boundary="b"\n\n--b\n'
        b"Content-Type: text/plain\n\nNo such user.\n--b\nContent-Type: message/delivery-status"
        b"\n\nReporting-MTA: dns; mx.example.net\n\nFinal-Recipient: rfc822; mary@example.net\n"
        b"Action: failed\nStatus: 5.1.1\n\n--b\nContent-Type: text/rfc822-headers\n\n"
        b"Message-ID: <1234@local.machine.example>\nSubject: Saying Hello\n\n--b--\n"
    )
    m = read_mail(bounce, ARRIVED)
    assert m.bounce and m.kind is ReplyKind.OTHER
    assert m.bounce_of == "1234@local.machine.example"
    assert "1234@local.machine.example" in m.referenced


def test_a_probe_subject_is_its_first_sentence_cut_at_a_word() -> None:
    assert probe_subject("Do you ship to Austria? We need a sofa.") == "Do you ship to Austria?"
    long = "Wir möchten gerne wissen, ob Sie auch nach Österreich liefern und wie lange das dauert"
    subject = probe_subject(long + ". Danke!")
    assert len(subject) <= 78 and long.startswith(subject) and long[len(subject)] == " "
    assert probe_subject("Hello\nsecond line") == "Hello"
    assert subject_key("RE: AW:  [Ticket#42]  Do you  ship?") == "do you ship?"
    assert subject_key("Automatic reply: Do you ship?") == "do you ship?"


# -- real servers ---------------------------------------------------------------------------


class BrandClock(ManualClock):
    """Manual time whose sleeps let the brands answer whatever has come due."""

    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self.responder: Responder | None = None

    async def sleep(self, seconds: float) -> None:
        self.advance(max(0.0, seconds))
        if self.responder is not None:
            await asyncio.to_thread(self.responder.step, self.now())
        await asyncio.sleep(0)


@pytest.fixture
def clock() -> BrandClock:
    return BrandClock(START)


@pytest.fixture
def imap_server() -> Iterator[Dovecot]:
    with dovecot() as server:
        yield server


@pytest.fixture
def smtp(imap_server: Dovecot, clock: BrandClock) -> Iterator[MailHub]:
    with smtp_server(imap_server, clock.now) as hub:
        yield hub


def servers(imap: Dovecot, hub: MailHub, *, password: str = PASSWORD) -> MailServers:
    return MailServers(
        "127.0.0.1", hub.port, "127.0.0.1", imap.port, USER, password,
        smtp_security="plain", imap_security="plain", timeout=10,
    )  # fmt: skip


@pytest.fixture
def channel(imap_server: Dovecot, smtp: MailHub, clock: BrandClock) -> MailChannel:
    return MailChannel(servers(imap_server, smtp), from_address=ADDRESS, clock=clock)


def probe(n: int, to: str, text: str | None = None) -> PlannedProbe:
    text = text or f"Do you deliver sofas to Vienna, order {n}? We would like to order soon."
    at = START + timedelta(minutes=5 * n)
    end = START + timedelta(hours=8)
    return PlannedProbe(
        f"p{n}", to.partition("@")[2].split(".")[0], "AT", "email", to, Scope.LOCAL, "s1", "day",
        1, text, at, START - timedelta(hours=1), end,
    )  # fmt: skip


async def test_a_probe_goes_out_as_an_rfc_5322_message_and_is_filed_in_sent(
    channel: MailChannel, smtp: MailHub
) -> None:
    p = probe(1, "care@acorn.test", "Do you deliver to Vienna? The sofa is 2 m long.\n.\nThanks")
    sent = await channel.send(p)
    [out] = smtp.probes()
    msg = message_from_bytes(out.raw)
    assert out.to == "care@acorn.test"
    assert (msg["From"], msg["To"]) == (ADDRESS, "care@acorn.test")
    assert msg["Subject"] == "Do you deliver to Vienna?"
    assert msg["Message-ID"] == f"<{sent.message_id}>"
    assert sent.message_id.endswith("@replybench.test")
    assert parsedate_to_datetime(msg["Date"]) == sent.sent_at == START
    body = msg.get_payload(decode=True)
    assert isinstance(body, bytes)
    assert body.decode().replace("\r\n", "\n") == p.text + "\n"  # the lone dot survived
    # The same probe always gets the same Message-ID; another probe another one.
    assert channel.message_id(p) == sent.message_id != channel.message_id(probe(2, out.to))
    found = await channel.find_sent(p, START - timedelta(minutes=5))
    assert found == sent  # its copy in the Sent folder


async def test_refusals_map_to_rejected_transient_and_outcome_unknown(
    channel: MailChannel, smtp: MailHub, clock: BrandClock
) -> None:
    with pytest.raises(Rejected, match="550"):
        await channel.send(probe(1, REJECT))
    with pytest.raises(Transient, match="451"):
        await channel.send(probe(2, BUSY))
    with pytest.raises(Rejected, match="not an e-mail address"):
        await channel.send(probe(3, "care at acorn"))
    dropped = probe(4, DROP)
    with pytest.raises(OutcomeUnknown, match="look it up"):
        await channel.send(dropped)
    assert [r.to for r in smtp.probes()] == [DROP]  # only the dropped one got through
    since = START - timedelta(minutes=5)
    # Only the pending copy, filed before the transaction, and nothing came back: the
    # outcome cannot be learned, and sending again might reach the brand twice.
    with pytest.raises(Unresolvable, match="avoids a double inquiry"):
        await channel.find_sent(dropped, since)
    # The refused ones were certainly not sent: their pending copies are gone.
    for n, to in [(1, REJECT), (2, BUSY)]:
        assert await channel.find_sent(probe(n, to), since) is None
    # The brand answers it: proof that it was sent.
    clock.advance(3600)
    smtp.send_to_probe_account(brand_reply(smtp.probes()[0], Rule("answer"), clock.now()))
    found = await channel.find_sent(dropped, since)
    assert found is not None and found.message_id == channel.message_id(dropped)
    assert found.sent_at == dropped.scheduled_at  # a lower bound: the send's own time is lost


def sent_copies(imap: Dovecot, smtp: MailHub) -> list[bytes]:
    """Every message in the probe account's Sent folder (deleted ones left out)."""
    conn = imaplib.IMAP4("127.0.0.1", imap.port, timeout=10)
    try:
        conn.login(USER, PASSWORD)
        conn.select("Sent", readonly=True)
        _, data = conn.uid("SEARCH", "UNDELETED")
        uids = data[0].decode().split() if data and data[0] else []
        found = []
        for uid in uids:
            _, got = conn.uid("FETCH", uid, "(BODY.PEEK[])")
            found += [bytes(part[1]) for part in got if isinstance(part, tuple)]
        return found
    finally:
        conn.logout()


async def test_the_sent_copy_is_filed_pending_before_smtp_and_confirmed_after(
    channel: MailChannel, smtp: MailHub, imap_server: Dovecot, clock: BrandClock
) -> None:
    p = probe(1, "care@acorn.test")
    sent = await channel.send(p)
    [copy] = sent_copies(imap_server, smtp)
    assert PENDING.encode() not in copy and sent.message_id.encode() in copy
    [out] = smtp.probes()
    assert PENDING.encode() not in out.raw  # the mark never reaches the brand
    # A second send of a probe filed as sent does not reach SMTP: the runner looks it up.
    with pytest.raises(OutcomeUnknown, match="already filed"):
        await channel.send(p)
    assert len(smtp.probes()) == 1
    # An unknown outcome leaves exactly the pending copy.
    dropped = probe(2, DROP)
    with pytest.raises(OutcomeUnknown):
        await channel.send(dropped)
    pending = [c for c in sent_copies(imap_server, smtp) if PENDING.encode() in c]
    assert len(pending) == 1 and channel.message_id(dropped).encode() in pending[0]
    # Without its pending copy filed, SMTP is never called.
    no_imap = MailChannel(
        MailServers("127.0.0.1", smtp.port, "127.0.0.1", free_port(), USER, PASSWORD,
                    smtp_security="plain", imap_security="plain", timeout=5),
        from_address=ADDRESS, clock=clock,
    )  # fmt: skip
    with pytest.raises(Transient):
        await no_imap.send(probe(3, "care@birch.test"))
    assert [r.to for r in smtp.probes()] == ["care@acorn.test", DROP]


def test_a_subject_alone_never_chooses_between_targets() -> None:
    at = START
    dune = [
        Filed(at, "care-us@dune.test", "d1"),
        Filed(at + timedelta(hours=1), "care-us@dune.test", "d2"),
    ]
    cedar = Filed(at + timedelta(minutes=30), "care-us@cedar.test", "c1")
    # The help desk writes from a subdomain of the target's: its brand, the latest probe.
    assert answered([*dune, cedar], "agent@helpdesk.dune.test") == "d2"
    # The target itself, or its domain, wins over everything else.
    assert answered([*dune, cedar], "care-us@cedar.test") == "c1"
    assert answered([*dune, cedar], "boss@cedar.test") == "c1"
    # A stranger's domain: only when one target was sent that subject.
    assert answered(dune, "agent@zendesk.test") == "d2"
    assert answered([*dune, cedar], "agent@zendesk.test") is None
    # Two targets in the author's domain: may be two brands (or two of one): no guess.
    other = Filed(at, "sales@dune.test", "s1")
    assert answered([*dune, other], "agent@dune.test") is None
    assert answered([], "agent@dune.test") is None


async def test_the_inbox_is_read_once_per_message_and_resumes_from_its_cursor(
    channel: MailChannel, smtp: MailHub, imap_server: Dovecot, clock: BrandClock
) -> None:
    p = probe(1, "care@acorn.test")
    sent = await channel.send(p)
    clock.advance(600)
    smtp.send_to_probe_account(brand_reply(smtp.probes()[0], Rule("answer"), clock.now()))
    [reply], cursor = await channel.inbox(None)
    assert reply.in_reply_to == reply.conversation_id == sent.message_id
    assert reply.author == "care@acorn.test" and reply.channel == "email"
    assert reply.created_at == START + timedelta(minutes=10)
    assert (
        reply.text == "Hello,\n\nyes, we ship there within 3 days.\n\nKind regards\nCustomer Care"
    )
    assert await channel.inbox(cursor) == ([], cursor)
    clock.advance(600)
    smtp.send_to_probe_account(brand_reply(smtp.probes()[0], Rule("auto"), clock.now()))
    [auto], after = await channel.inbox(cursor)
    assert auto.kind is ReplyKind.AUTO_ACK and auto.reply_id != reply.reply_id
    assert int(after["last_uid"]) > int(cursor["last_uid"])
    assert (await channel.inbox(after))[0] == []
    # A new UIDVALIDITY (the folder was rebuilt): everything is read again.
    rebuilt = {**after, "uidvalidity": "1"}
    again, fresh = await channel.inbox(rebuilt)
    assert [r.reply_id for r in again] == [reply.reply_id, auto.reply_id]
    assert fresh == after


async def test_preflight_checks_both_logins_and_the_folder(
    imap_server: Dovecot, smtp: MailHub, clock: BrandClock, channel: MailChannel
) -> None:
    await preflight(channel)
    assert smtp.logins == [(USER, True)]
    missing = MailChannel(
        servers(imap_server, smtp), from_address=ADDRESS, clock=clock, folder="Support"
    )
    with pytest.raises(StudyError, match="'Support' cannot be opened"):
        await preflight(missing)


async def test_the_password_never_shows_in_errors_or_logs(
    imap_server: Dovecot, smtp: MailHub, clock: BrandClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = MailChannel(
        servers(imap_server, smtp, password="not-" + PASSWORD), from_address=ADDRESS, clock=clock
    )
    right = MailChannel(servers(imap_server, smtp), from_address=ADDRESS, clock=clock)
    closed = free_port()
    nowhere = MailChannel(
        MailServers("127.0.0.1", closed, "127.0.0.1", closed, USER, PASSWORD,
                    smtp_security="plain", imap_security="plain", timeout=5),
        from_address=ADDRESS, clock=clock,
    )  # fmt: skip
    acorn = probe(1, "care@acorn.test")
    errors: list[BaseException] = []
    for call, kind in [
        (preflight(wrong), AuthError),  # IMAP refuses
        (wrong.send(acorn), AuthError),  # IMAP refuses (the Sent copy): SMTP is not tried
        (asyncio.to_thread(wrong._submit, acorn, wrong.compose(acorn)[0]), AuthError),  # SMTP
        (nowhere.send(probe(2, "care@acorn.test")), Transient),
        (nowhere.inbox(None), Transient),
        (right.send(probe(3, DROP)), OutcomeUnknown),
        (right.send(probe(4, REJECT)), Rejected),
    ]:
        with pytest.raises(kind) as caught:
            await call
        errors.append(caught.value)
    assert "refused the login of 'probe'" in str(errors[0])
    for e in errors:
        assert PASSWORD not in "".join(traceback.format_exception(e))
    assert smtp.logins[0] == (USER, False)
    assert caplog.records and all(PASSWORD not in r.getMessage() for r in caplog.records)
    assert PASSWORD not in repr(wrong) + repr(wrong.servers)


@pytest.mark.parametrize("plain", [True, False], ids=["AUTHENTICATE PLAIN", "LOGIN"])
async def test_a_server_that_quotes_the_password_back_has_it_scrubbed(
    imap_server: Dovecot, smtp: MailHub, clock: BrandClock, plain: bool
) -> None:
    wrong = "not-" + PASSWORD
    blob = base64.b64encode(f"\0{USER}\0{wrong}".encode()).decode()
    smtp.echo = True
    with echoing_imap(plain=plain) as echo_port:
        s = MailServers("127.0.0.1", smtp.port, "127.0.0.1", echo_port, USER, wrong,
                        smtp_security="plain", imap_security="plain", timeout=10)  # fmt: skip
        channel = MailChannel(s, from_address=ADDRESS, clock=clock)
        acorn = probe(1, "care@acorn.test")
        with pytest.raises(AuthError) as imap_refused:
            await preflight(channel)
        with pytest.raises(AuthError) as smtp_refused:
            await asyncio.to_thread(channel._submit, acorn, channel.compose(acorn)[0])
    assert smtp.logins and not smtp.logins[-1][1]
    for e in (smtp_refused.value, imap_refused.value):
        assert "refused the login of 'probe'" in str(e) and "[redacted]" in str(e)
        shown = "".join(traceback.format_exception(e))
        for form in (wrong, wrong.upper(), blob, blob.rstrip("=")):
            assert form not in shown


async def test_tls_and_starttls_against_a_trusted_certificate(clock: BrandClock) -> None:
    with dovecot(tls=True) as imap:
        server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_tls.load_cert_chain(imap.root / "cert.pem", imap.root / "key.pem")
        trusted = ssl.create_default_context(cafile=str(imap.root / "cert.pem"))
        with smtp_server(imap, clock.now, tls=server_tls) as hub:
            assert hub.tls_port is not None and imap.tls_port is not None
            ways = [("starttls", hub.port, imap.port), ("tls", hub.tls_port, imap.tls_port)]
            for n, (security, smtp_port, imap_port) in enumerate(ways):
                s = MailServers("127.0.0.1", smtp_port, "127.0.0.1", imap_port, USER, PASSWORD,
                                smtp_security=security, imap_security=security, timeout=10,
                                ssl_context=trusted)  # fmt: skip
                ch = MailChannel(s, from_address=ADDRESS, clock=clock)
                await preflight(ch)
                sent = await ch.send(probe(n, "care@acorn.test"))
                assert await ch.find_sent(probe(n, "care@acorn.test"), START) == sent
            untrusted = MailServers("127.0.0.1", hub.port, "127.0.0.1", imap.port, USER,
                                    PASSWORD, timeout=10, imap_security="starttls")  # fmt: skip
            with pytest.raises(AuthError, match="not trusted"):
                await preflight(MailChannel(untrusted, from_address=ADDRESS, clock=clock))
        assert len(hub.probes()) == 2


# -- a whole campaign -----------------------------------------------------------------------

BRANDS = {
    "acorn": Rule("answer", after_s=2 * 3600),
    "birch": Rule("auto", after_s=60),
    "cedar": Rule("silent"),
    "dune": Rule("subject", after_s=3 * 3600, author="agent@helpdesk.dune.test"),
    "ember": Rule("bad_date", after_s=90 * 60),
}


def email_study(folder: Path, options: dict[str, str]) -> tuple[Study, list[PlannedProbe]]:
    targets = tuple(
        Target(b, b.title(), "retail", "AT", "email", f"care@{b}.test", Scope.LOCAL, i + 2)
        for i, b in enumerate(BRANDS)
    )
    # dune's help desk answers a German subject (an encoded word, searched for as UTF-8).
    german = "Liefern Sie Ihre Sofas auch nach Österreich, Bestellung 3? Wir bestellen bald."
    texts = {"dune": german}
    plan = [probe(i, t.handle, texts.get(t.brand)) for i, t in enumerate(targets)]
    study = Study(
        name="mail-e2e", seed=7, window_hours=6, start=date(2026, 3, 3), end=date(2026, 3, 3),
        probes_per_target=1, min_spacing_hours=0, ethics=Ethics(5, 5),
        slots=(Slot("day", frozenset(range(7)), time(8), time(18)),),
        channels=(ChannelSettings("email", "", ADDRESS, "RB_MAIL_PASSWORD",
                                  tuple(sorted(options.items()))),),
        countries=(Country("AT", "Austria", "Europe/Vienna", "de"),),
        targets=targets, scripts=(Script("s1", "delivery", (("de", "..."),)),), path=folder,
    )  # fmt: skip
    return study, plan


@pytest.mark.slow
async def test_a_campaign_by_email_records_who_answered_how_and_when(
    tmp_path: Path, imap_server: Dovecot, smtp: MailHub, clock: BrandClock
) -> None:
    # The options as study.load_channels makes them (from_address is the account).
    options = {
        "smtp_host": "127.0.0.1", "smtp_port": str(smtp.port), "smtp_security": "plain",
        "imap_host": "127.0.0.1", "imap_port": str(imap_server.port), "imap_security": "plain",
        "username": USER, "imap_folder": "INBOX",
    }  # fmt: skip
    study, plan = email_study(tmp_path, options)
    # Built as `replybench run` builds it: the registry, then its preflight.
    built = build_channels(study, env={"RB_MAIL_PASSWORD": PASSWORD}, clock=clock)
    await built.preflight()
    channel = built.channels["email"]
    assert isinstance(channel, MailChannel)
    clock.responder = Responder(smtp, {f"care@{b}.test": r for b, r in BRANDS.items()})
    journal = Journal.create_or_open(
        tmp_path, plan, study_name=study.name, window_hours=study.window_hours, now=clock.now()
    )
    config = RunnerConfig(reconcile_after_real_s=0)
    summary = await Runner(study, journal, {"email": channel}, clock, config=config).run()
    await built.aclose()

    assert journal.counts() == {"closed": 5} and summary.answered == 3
    assert sorted(r.to for r in smtp.probes()) == sorted(p.handle for p in plan)  # once each
    sent = {
        r["brand"]: (r["message_id"], parse_iso(r["sent_at"]))
        for r in journal.con.execute("SELECT brand, message_id, sent_at FROM probes")
    }
    for out in smtp.probes():
        assert out.message_id.strip("<>") == sent[out.to.split("@")[1].split(".")[0]][0]
    rows = journal.con.execute(
        "SELECT p.brand, r.kind, r.created_at, r.in_reply_to, r.conversation_id, r.reply_id "
        "FROM replies r LEFT JOIN probes p USING (probe_id) ORDER BY p.brand"
    ).fetchall()
    got = {r["brand"]: r for r in rows}
    assert {b: r["kind"] for b, r in got.items()} == {
        "acorn": "direct_message", "birch": "auto_ack", "dune": "direct_message",
        "ember": "direct_message",
    }  # fmt: skip
    for brand in ("acorn", "birch", "dune"):  # the Date header (+01:00) of each, in UTC
        want = sent[brand][1] + timedelta(seconds=BRANDS[brand].after_s)
        assert parse_iso(got[brand]["created_at"]) == want, brand
    # ember's Date is garbage: the server's INTERNALDATE, when it was delivered.
    ember_id = got["ember"]["reply_id"]
    assert parse_iso(got["ember"]["created_at"]) == smtp.delivered[ember_id]
    assert smtp.delivered[ember_id] >= sent["ember"][1] + timedelta(minutes=90)
    # dune's help desk named no message: matched by subject, and said so.
    assert got["dune"]["in_reply_to"] is None
    assert got["dune"]["conversation_id"] == sent["dune"][0]
    assert got["acorn"]["in_reply_to"] == sent["acorn"][0]
    # The runner's cursor resumes: nothing new, then a late reply exactly once.
    cursor = journal.cursor("email")
    assert await channel.inbox(cursor) == ([], cursor)
    late = brand_reply(smtp.probes()[2], Rule("answer"), clock.now())
    smtp.send_to_probe_account(late)
    [reply], after = await channel.inbox(cursor)
    assert reply.author == smtp.probes()[2].to
    assert reply.in_reply_to in {message_id for message_id, _ in sent.values()}
    assert (await channel.inbox(after))[0] == []
    journal.close()


def test_build_reads_the_settings_and_refuses_what_is_unsafe(clock: BrandClock) -> None:
    options = {
        "smtp_host": "127.0.0.1", "smtp_port": "2525", "imap_host": "localhost",
        "imap_port": "1143", "username": USER, "from_address": ADDRESS,
        "smtp_security": "plain", "imap_security": "plain",
    }  # fmt: skip

    def settings(**changes: str) -> ChannelSettings:
        opts = {**options, **changes}
        return ChannelSettings("email", "", ADDRESS, "RB_MAIL_PASSWORD", tuple(opts.items()))

    env = {"RB_MAIL_PASSWORD": PASSWORD}
    channel, _ = build(settings(), Wiring(env, clock, None, False))
    assert isinstance(channel, MailChannel) and channel.name == "email"
    assert channel.folder == "INBOX" and channel.servers.imap_port == 1143
    with pytest.raises(StudyError, match="RB_MAIL_PASSWORD is not set"):
        build(settings(), Wiring({}, clock, None, False))
    with pytest.raises(StudyError, match="without --live"):
        build(settings(smtp_host="smtp.example.com"), Wiring(env, clock, None, False))
    with pytest.raises(StudyError, match="allowed only for a server on this machine"):
        build(settings(imap_host="imap.example.com"), Wiring(env, clock, None, True))
    with pytest.raises(StudyError, match="not a port number"):
        build(settings(smtp_port="smtp"), Wiring(env, clock, None, False))
    with pytest.raises(StudyError, match="use one of starttls, tls, plain"):
        build(settings(smtp_security="ssl"), Wiring(env, clock, None, False))
