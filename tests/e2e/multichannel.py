"""Helpers for studies that mix channels: study folders, a simulator on the test's clock, the
e-mail brands' clock in another process, and the checks the multichannel tests share.

The HTTP channels (x, mastodon, bluesky) run on one simulator; e-mail runs on the real
Dovecot and aiosmtpd of tests/probes/mailservers.py; `manual` probes are recorded through a
worksheet, as people would.
"""

from __future__ import annotations

import csv
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from probes.channels.email.adapter import MailChannel
from probes.channels.email.servers import MailServers
from probes.sim.dispatch import dispatch_for
from probes.sim.faults import Faults
from probes.sim.ledger import Ledger
from probes.sim.server import RunningSimulator, serve_platform
from study.clock import ClockAnchor, ManualClock, ScaledClock, SystemClock
from study.load import load_study
from study.model import PlannedProbe
from study.paths import ledger_path, sim_dir
from study.timeutil import parse_iso
from tests.probes.mailservers import ADDRESS, PASSWORD, USER, MailHub, Responder, Rule

EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "examples" / "multichannel"
MAIL_PASSWORD_ENV = "RB_TEST_MAIL_PASSWORD"
SIMULATED = ("x", "mastodon", "bluesky")


class SharedClock(ManualClock):
    """Manual time shared by the runner, the simulator's threads and the mail brands: it
    moves only when the runner sleeps, and each sleep first lets `on_sleep` hooks act (the
    e-mail brands answer, a researcher fills in a worksheet). `release` is what the
    simulator's server asks of its clock on every request."""

    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self.on_sleep: list[Callable[[datetime], None]] = []

    def release(self) -> ClockAnchor:
        return ClockAnchor(self.now(), time.time(), 1.0)

    async def sleep(self, seconds: float) -> None:
        await super().sleep(seconds)
        for hook in self.on_sleep:
            hook(self.now())


def serve_on(study_dir: Path, clock: SharedClock, faults: Faults | None = None) -> RunningSimulator:
    """The study's simulator as `replybench sim` builds it (probes.sim.server.start_background:
    an X face if the study has `[channels.x]`, a face per other simulated channel its targets
    use, one ledger), served over real HTTP but on the test's clock instead of a scaled one;
    `faults` as `replybench sim --faults` injects them (none by default)."""
    study = load_study(study_dir)
    ledger = Ledger(ledger_path(study_dir))
    routes = dispatch_for(study, clock, ledger)
    # The server asks its clock only for `release()` and `now()`: SharedClock has both.
    return serve_platform(routes, clock, faults or Faults(0.0, study.seed))


class VirtualNow:
    """The simulator's virtual time, read in the test process from `DIR/sim/clock.json` (the
    anchor `replybench sim` writes when the runner's first request starts its clock)."""

    def __init__(self, study_dir: Path) -> None:
        self.path = sim_dir(study_dir) / "clock.json"
        self._clock: ScaledClock | None = None

    def __call__(self) -> datetime:
        if self._clock is None:
            self._clock = ScaledClock(ClockAnchor.read(self.path))
        return self._clock.now()

    @property
    def started(self) -> bool:
        return self._clock is not None or self.path.exists()


class BrandThread:
    """The e-mail brands answering in real time from a thread, on the simulator's clock."""

    def __init__(self, responder: Responder, now: VirtualNow) -> None:
        self.responder = responder
        self.now = now
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="mail-brands", daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(0.02):
            if not self.now.started:
                continue
            try:
                self.responder.step(self.now())
            except BaseException as e:  # reported by stop(), in the test's thread
                self.errors.append(e)
                return

    def __enter__(self) -> BrandThread:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)
        assert not self._thread.is_alive(), "the mail brands' thread did not stop"
        assert not self.errors, f"the mail brands failed: {self.errors[0]!r}"


# -- study folders ----------------------------------------------------------------------------

MAIL_BRANDS = {  # brand -> how its support address answers (tests/probes/mailservers.py)
    "acorn": Rule("answer", after_s=50 * 60),
    "birch": Rule("auto", after_s=45),
    "cedar": Rule("silent"),
    "dune": Rule("subject", after_s=100 * 60, author="agent@helpdesk.dune.test"),
    "ember": Rule("answer", after_s=20 * 60),
    "fjord": Rule("bad_date", after_s=30 * 60),
}
PHONE = {"US": "+1 212 555 01", "DE": "+49 30 5550 1"}  # a brand's hotline: + two digits
COUNTRIES = {"US": ("United States", "the US", "America/New_York", "en"),
             "DE": ("Germany", "Deutschland", "Europe/Berlin", "de")}  # fmt: skip
SCRIPTS = """script,category,language,text
delivery,order status,en,"{handle} Hi, I'm in {country} and ordered online a week ago. I have heard nothing since. Where is my order?"
delivery,order status,de,"{handle} Hallo, ich habe vor einer Woche in {country} online bestellt und seitdem nichts gehört. Wo ist meine Bestellung?"
"""  # noqa: E501
QUICK_BOTS = """# Quick, talkative bots, at every hour (tests).
[defaults]
answer_rate = 0.75
median_minutes = 40
sigma = 0.8
days = "all"
opens = "00:00"
closes = "24:00"
auto_ack_share = 0.2
redirect_share = 0.2
dm_share = 0.2
"""


def mail_address(brand: str, country: str) -> str:
    return f"care-{country.lower()}@{brand}.test"


def mail_rules(brands: list[str], rules: dict[str, Rule] | None = None) -> dict[str, Rule]:
    """The responder's rule for every support address of `brands` (MAIL_BRANDS's, or
    `rules`'s where it names the brand)."""
    rules = {**MAIL_BRANDS, **(rules or {})}
    return {mail_address(b, c): rules[b] for b in brands for c in COUNTRIES}


def _handle(channel: str, brand: str, country: str) -> str:
    cc = country.lower()
    return {
        "x": f"{brand.capitalize()}_{country}",
        "mastodon": f"{brand}_{cc}@social.{brand}.test",
        "bluesky": f"{brand}-{cc}.bsky.social",
        "email": mail_address(brand, country),
        "manual": f"{PHONE[country]} {sorted(MAIL_BRANDS).index(brand):02d}",
    }[channel]


def mixed_study(
    path: Path,
    *,
    channels: tuple[str, ...],
    brands: list[str],
    smtp_port: int = 2525,
    imap_port: int = 1143,
    window_hours: float = 6,
) -> Path:
    """One round on one weekday (2026-03-03) in the US and Germany: every brand on every
    channel of `channels` in both countries, an 08:00-18:00 slot, the simulator's quick bots.
    E-mail goes to the local test servers (plain, loopback), its password in
    MAIL_PASSWORD_ENV."""
    path.mkdir(parents=True)
    tables = {
        "x": 'api_base = "https://api.x.com"\naccount = "replybenchprobe"\n'
        'token_env = "REPLYBENCH_X_TOKEN"',
        "mastodon": 'api_base = "https://mastodon.social"\naccount = "replybench"\n'
        'token_env = "REPLYBENCH_MASTODON_TOKEN"',
        "bluesky": 'api_base = "https://bsky.social"\naccount = "replybench.bsky.social"\n'
        'password_env = "REPLYBENCH_BLUESKY_PASSWORD"',
        "email": f'smtp_host = "127.0.0.1"\nsmtp_port = {smtp_port}\nsmtp_security = "plain"\n'
        f'imap_host = "127.0.0.1"\nimap_port = {imap_port}\nimap_security = "plain"\n'
        f'username = "{USER}"\npassword_env = "{MAIL_PASSWORD_ENV}"\n'
        f'from_address = "{ADDRESS}"',
        "manual": 'instructions = "Call the line; note when a person answers."',
    }
    countries = "\n".join(
        f'[countries.{code}]\nname = "{name}"\nlocal_name = "{local}"\ntimezone = "{tz}"\n'
        f'language = "{lang}"\n'
        for code, (name, local, tz, lang) in COUNTRIES.items()
    )
    (path / "study.toml").write_text(
        f"""[study]
name = "Channels side by side (test)"
seed = 20260303
window_hours = {window_hours}
start = 2026-03-03
end = 2026-03-03
probes_per_target = 1
min_spacing_hours = 0

[ethics]
max_probes_per_account = 4
max_probes_per_account_per_day = 4

[slots.day]
days = ["mon", "tue", "wed", "thu", "fri"]
start = "08:00"
end = "18:00"

"""
        + "".join(f"[channels.{c}]\n{tables[c]}\n\n" for c in channels)
        + countries,
        encoding="utf-8",
    )
    with (path / "targets.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["brand", "brand_name", "sector", "country", "channel", "handle", "scope"])
        for b in brands:
            for c in COUNTRIES:
                for ch in channels:
                    w.writerow([b, f"{b.capitalize()} Co", "retail", c, ch, _handle(ch, b, c),
                                "local"])  # fmt: skip
    (path / "scripts.csv").write_text(SCRIPTS, encoding="utf-8")
    (path / "simulator.toml").write_text(QUICK_BOTS, encoding="utf-8")
    return path


# -- checks -----------------------------------------------------------------------------------


def local_servers(hub: MailHub, imap_port: int) -> MailServers:
    """The probe mailbox on the local test servers."""
    return MailServers("127.0.0.1", hub.port, "127.0.0.1", imap_port, USER, PASSWORD,
                       smtp_security="plain", imap_security="plain", timeout=10)  # fmt: skip


def message_id(probe: PlannedProbe) -> str:
    """The Message-ID the e-mail channel gives `probe`: the same on every attempt."""
    servers = MailServers("127.0.0.1", 25, "127.0.0.1", 143, USER, PASSWORD,
                          smtp_security="plain", imap_security="plain")  # fmt: skip
    return MailChannel(servers, from_address=ADDRESS, clock=SystemClock()).message_id(probe)


def deliveries(hub: MailHub) -> Counter[str]:
    """How many times the SMTP server received each probe, by Message-ID (without <>)."""
    return Counter(r.message_id for r in hub.probes())


def missing_mail_replies(
    hub: MailHub, journal_reply_ids: set[str], last_read: datetime, *, grace: timedelta
) -> list[str]:
    """Replies in the probe mailbox by `last_read - grace` that the journal lacks (the grace
    covers a delivery racing the runner's last inbox read). In the mailbox by: when the
    delivery had finished, not its INTERNALDATE, which on a scaled clock a busy machine's slow
    delivery leaves behind by any number of virtual minutes."""
    with hub.lock:
        delivered = dict(hub.visible)
    return sorted(
        mid
        for mid, at in delivered.items()
        if at <= last_read - grace and mid not in journal_reply_ids
    )


def last_read(con: sqlite3.Connection, channel: str) -> datetime | None:
    """When the runner's last good read of `channel`'s inbox began (None: never read). Not
    the journal's last_observation, the latest over all channels: channels are read one
    after another, and one whose windows have closed is read no more."""
    row = con.execute("SELECT polled_at FROM cursors WHERE channel = ?", (channel,)).fetchone()
    return None if row is None else parse_iso(row[0])


def last_observation(con: sqlite3.Connection) -> datetime:
    row = con.execute("SELECT value FROM meta WHERE key = 'last_observation'").fetchone()
    assert row is not None, "the runner never read an inbox"
    return parse_iso(row[0])
