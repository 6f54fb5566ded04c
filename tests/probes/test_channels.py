"""The channel registry: what stops a study's channels before anything is built or written,
and a campaign through it that leaves the manual probes to people."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from probes.audit import audit
from probes.campaign import run_campaign
from probes.channels import registry as channels
from probes.channels.base import AuthError, Closer, Reply, Sent, Wiring
from probes.channels.registry import SIM_TOKEN, build_channels, check_channels, credential
from probes.channels.x.adapter import XChannel
from probes.channels.x.credentials import x_credential
from probes.runner import RunnerConfig
from probes.sim import running
from study.clock import ManualClock
from study.errors import StudyError
from study.journal.campaign import Journal
from study.load import load_study
from study.model import ChannelSettings, ReplyKind, Scope, Study, Target
from study.paths import journal_path, ledger_path
from study.plan import make_plan
from study.timeutil import iso
from tests.e2e.multichannel import SharedClock, serve_on
from tests.e2e.studies import short_study, swap_x_credential
from tests.e2e.test_campaign import with_manual_targets

pytestmark = pytest.mark.anyio

SECRET = "s3cr3t-never-shown"
EMAIL = ChannelSettings(
    "email",
    "",
    "probe@example.org",
    "REPLYBENCH_EMAIL_PASSWORD",
    (
        ("imap_folder", "INBOX"),
        ("imap_host", "127.0.0.1"),
        ("imap_port", "1143"),
        ("imap_security", "plain"),
        ("smtp_host", "127.0.0.1"),
        ("smtp_port", "2525"),
        ("smtp_security", "plain"),
        ("username", "probe"),
    ),
)
HANDLES = {
    "x": "Kaito",
    "mastodon": "kaito@mastodon.social",
    "bluesky": "kaito.bsky.social",
    "email": "care@kaito.example",
    "manual": "+49 30 1234567",
    "pigeon": "loft 7",
}


# -- a stand-in adapter module (this one), for kinds whose module may not be written yet --------


class FakeChannel:
    """Accepts only the password 'right'; closing it is recorded."""

    def __init__(self, settings: ChannelSettings, password: str) -> None:
        self.name = settings.name
        self.password = password
        self.closed = False


def build(settings: ChannelSettings, wiring: Wiring) -> tuple[FakeChannel, Closer]:
    channel = FakeChannel(settings, wiring.env.get(settings.token_env, ""))

    async def close() -> None:
        channel.closed = True

    return channel, close


async def preflight(channel: FakeChannel) -> None:
    if channel.password != "right":
        raise AuthError("the server refused the login (535 authentication failed)")


@pytest.fixture(autouse=True)
def fake_email(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(channels.MODULES, "email", __name__)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Study:
    return load_study(short_study(tmp_path_factory.mktemp("base") / "s"))


def study_on(base: Study, *settings: ChannelSettings) -> Study:
    """`base` with one target on each of the given channels, and only those channels."""
    targets = tuple(
        Target("kaito", "Kaito", "retail", "US", s.name, HANDLES[s.name], Scope.LOCAL)
        for s in settings
    )
    return replace(base, channels=settings, targets=targets)


X = ChannelSettings("x", "https://api.x.com", "replybenchprobe", "REPLYBENCH_X_TOKEN")
MASTODON = ChannelSettings(
    "mastodon", "https://mastodon.social", "replybench", "REPLYBENCH_MASTODON_TOKEN"
)
BLUESKY = ChannelSettings(
    "bluesky", "https://bsky.social", "replybench.bsky.social", "REPLYBENCH_BLUESKY_PASSWORD"
)
MANUAL = ChannelSettings("manual", "", "", "")
LOCAL = "http://127.0.0.1:8765"
ALL_SECRETS = {
    "REPLYBENCH_X_TOKEN": SECRET,
    "REPLYBENCH_MASTODON_TOKEN": SECRET,
    "REPLYBENCH_BLUESKY_PASSWORD": SECRET,
    "REPLYBENCH_EMAIL_PASSWORD": SECRET,
}


def refusal(study: Study, **kwargs: Any) -> str:
    """The one-line error `check_channels` raises; it never shows a secret."""
    with pytest.raises(StudyError) as raised:
        check_channels(study, **kwargs)
    message = str(raised.value)
    assert SECRET not in message and "\n" not in message
    return message


# --- what stops a channel -------------------------------------------------------------------


def test_an_unknown_kind_names_the_kinds(base: Study) -> None:
    pigeon = ChannelSettings("pigeon", "", "", "")
    assert refusal(study_on(base, pigeon), env=ALL_SECRETS) == (
        "study.toml [channels.pigeon]: 'pigeon' is not a channel kind with an adapter; "
        "use one of: x, mastodon, bluesky, email, manual"
    )


@pytest.mark.parametrize("module", ["probes.no_such_adapter", "probes.channels.base"])
def test_a_kind_whose_module_is_missing_is_not_available(
    monkeypatch: pytest.MonkeyPatch, module: str, base: Study
) -> None:
    # A module that is not there, or that lacks build and preflight, is the same to the user.
    monkeypatch.setitem(channels.MODULES, "mastodon", module)
    assert refusal(study_on(base, X, MASTODON), env=ALL_SECRETS, api_base=LOCAL) == (
        "channel 'mastodon' is not available in this version; update replybench, or leave the "
        "mastodon targets out of targets.csv"
    )


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            X,
            "study.toml [channels.x]: environment variable REPLYBENCH_X_TOKEN is not set; "
            "export the probe account's token in it (credentials never go in the study folder)",
        ),
        (
            MASTODON,
            "study.toml [channels.mastodon]: environment variable REPLYBENCH_MASTODON_TOKEN is "
            "not set; export the probe account's access token in it (credentials never go in "
            "the study folder)",
        ),
        (
            BLUESKY,
            "study.toml [channels.bluesky]: environment variable REPLYBENCH_BLUESKY_PASSWORD is "
            "not set; export the probe account's app password in it (credentials never go in "
            "the study folder)",
        ),
    ],
)
def test_a_live_channel_without_its_variable_names_it(
    settings: ChannelSettings, message: str, base: Study
) -> None:
    others = {k: v for k, v in ALL_SECRETS.items() if k != settings.token_env}
    assert refusal(
        study_on(base, settings), env={**others, settings.token_env: " "}, live=True
    ) == (message)


def test_e_mail_needs_its_password_even_on_this_machine(base: Study) -> None:
    assert refusal(study_on(base, EMAIL), env={"REPLYBENCH_X_TOKEN": SECRET}) == (
        "study.toml [channels.email]: environment variable REPLYBENCH_EMAIL_PASSWORD is not "
        "set; export the probe mailbox's password in it (credentials never go in the study "
        "folder)"
    )


def test_on_this_machine_http_channels_use_the_simulator_token(base: Study) -> None:
    # X signs with the simulator's built-in OAuth 1.0a app (the simulator checks signatures).
    assert x_credential(X, {}, loopback=True).kind == "sim"
    # Mastodon and Bluesky: the simulator's token (app password) of the account itself, so
    # the simulator tells a study's accounts (each persona's) apart.
    assert credential(MASTODON, {}, loopback=True) == f"{SIM_TOKEN}.{MASTODON.account.lower()}"
    assert credential(BLUESKY, {"REPLYBENCH_BLUESKY_PASSWORD": " pw "}, loopback=True) == "pw"
    assert check_channels(
        study_on(base, X, MASTODON, BLUESKY, MANUAL), env={}, api_base=LOCAL
    ).keys() == {
        "x",
        "mastodon",
        "bluesky",
    }


@pytest.mark.parametrize(
    ("settings", "api_base", "start"),
    [
        (X, None, "refusing to send to https://api.x.com without --live: [channels.x] would"),
        (
            MASTODON,
            None,
            "refusing to send to https://mastodon.social without --live: [channels.mastodon]",
        ),
        (BLUESKY, "https://bsky.example/", "refusing to send to https://bsky.example without"),
    ],
)
def test_an_http_channel_off_this_machine_needs_live(
    settings: ChannelSettings, api_base: str | None, start: str, base: Study
) -> None:
    message = refusal(study_on(base, settings), env=ALL_SECRETS, api_base=api_base)
    assert message.startswith(start)
    assert message.endswith("or add --live when the study is ready")
    assert check_channels(study_on(base, settings), env=ALL_SECRETS, api_base=api_base, live=True)


@pytest.mark.parametrize(
    ("key", "host", "endpoint"),
    [("smtp_host", "smtp.example.org", "smtp.example.org:2525"),
     ("imap_host", "imap.example.org", "imap.example.org:1143")],
)  # fmt: skip
def test_an_e_mail_server_off_this_machine_needs_live(
    key: str, host: str, endpoint: str, base: Study
) -> None:
    options = tuple((k, host if k == key else v) for k, v in EMAIL.options)
    mail = replace(EMAIL, options=options)
    assert refusal(study_on(base, mail), env=ALL_SECRETS) == (
        f"refusing to send to {endpoint} without --live: [channels.email] would send real "
        f"e-mails to real brands. Point {key} at a test server on this machine (127.0.0.1), "
        "or add --live when the study is ready"
    )


def test_a_bad_api_base_option_is_one_line(base: Study) -> None:
    assert refusal(study_on(base, X), env={}, api_base="127.0.0.1:8765") == (
        "API base '127.0.0.1:8765' is not an http(s) URL; e.g. http://127.0.0.1:8765"
    )


@pytest.mark.parametrize(
    "api_base",
    ["http://evil.localhost:9", "http://localhost.:9", "http://127.0.0.1.nip.io:9",
     "http://[::ffff:7f00:1]:9", "http://2130706433:9"],
)  # fmt: skip
def test_only_localhost_and_literal_loopback_addresses_count_as_this_machine(
    api_base: str, base: Study
) -> None:
    # A name other than `localhost` may go to DNS, which can answer with any address.
    message = refusal(study_on(base, X), env=ALL_SECRETS, api_base=api_base)
    assert message.startswith(f"refusing to send to {api_base} without --live")
    for here in ("http://localhost:9", "http://127.0.0.2:9", "http://[::1]:9"):
        assert check_channels(study_on(base, X), env={}, api_base=here, live=False)


def test_a_plain_text_mail_server_must_be_on_this_machine_by_address() -> None:
    from study.load_channels import channel_problems

    values = {"smtp_host": "mail.localhost", "smtp_security": "plain"}
    assert [key for key, _ in channel_problems("email", values)] == ["smtp_security"]


# --- what is built ------------------------------------------------------------------------


async def test_manual_channels_get_no_adapter(clock: ManualClock, base: Study) -> None:
    built = build_channels(study_on(base, X, MANUAL), env={}, clock=clock, api_base=LOCAL + "/")
    try:
        assert list(built.channels) == ["x"]
        x = built.channels["x"]
        assert isinstance(x, XChannel) and x.account == "replybenchprobe"
    finally:
        await built.aclose()
    assert built.closers == []
    nothing = build_channels(study_on(base, MANUAL), env={}, clock=clock)
    assert nothing.channels == {}
    await nothing.preflight()


async def test_preflight_names_the_channel_the_variable_and_the_login_but_no_secret(
    clock: ManualClock, base: Study
) -> None:
    env = {"REPLYBENCH_EMAIL_PASSWORD": SECRET}
    built = build_channels(study_on(base, EMAIL, MANUAL), env=env, clock=clock)
    assert list(built.channels) == ["email"]
    with pytest.raises(StudyError) as raised:
        await built.preflight()
    assert str(raised.value) == (
        "email at 127.0.0.1:2525 / 127.0.0.1:1143: the server refused the login (535 "
        "authentication failed); check the password in REPLYBENCH_EMAIL_PASSWORD and the "
        "username 'probe' in study.toml [channels.email]"
    )
    mail = built.channels["email"]
    await built.aclose()
    assert isinstance(mail, FakeChannel) and mail.closed
    right = build_channels(
        study_on(base, EMAIL), env={"REPLYBENCH_EMAIL_PASSWORD": "right"}, clock=clock
    )
    await right.preflight()
    await right.aclose()


async def test_a_refused_token_stops_before_the_journal_and_is_never_shown(
    tmp_path: Path,
) -> None:
    d = swap_x_credential(short_study(tmp_path / "s", brands=1))  # a bearer token
    with running(d) as sim:
        sim.platform.token = "the-right-one"
        with pytest.raises(StudyError) as raised:
            await run_campaign(d, api_base=sim.url, env={"REPLYBENCH_X_TOKEN": SECRET})
    message = str(raised.value)
    assert message.startswith(f"x at {sim.url}: X API answered 401")
    assert message.endswith(
        "check the token in REPLYBENCH_X_TOKEN and the account 'replybenchprobe' in study.toml "
        "[channels.x]"
    )
    assert SECRET not in message
    assert not journal_path(d).exists()


async def test_run_campaign_drives_x_and_leaves_manual_probes_planned(tmp_path: Path) -> None:
    d = with_manual_targets(short_study(tmp_path / "s", brands=2), brands=2)
    plan = make_plan(load_study(d))
    # The runner and the simulator share the test's clock, which moves only when the runner
    # sleeps: no slot passes while a busy machine keeps the runner from waking, so the counts
    # are exact at any speed (a scaled wall clock missed probes under load).
    clock = SharedClock(min(p.slot_start_at for p in plan) - timedelta(hours=1))
    sim = serve_on(d, clock)
    try:
        summary = await run_campaign(
            d,
            api_base=sim.url,
            env={},
            clock=clock,
            config=RunnerConfig(poll_min_s=60, poll_max_s=900),
        )
    finally:
        sim.stop()
    assert summary.counts == {"closed": 4, "planned": 2}
    journal = Journal.read_only(d)
    try:
        rows = journal.con.execute(
            "SELECT channel, state, count(*) FROM probes GROUP BY 1, 2"
        ).fetchall()
    finally:
        journal.close()
    assert [tuple(r) for r in rows] == [("manual", "planned", 2), ("x", "closed", 4)]
    assert audit(load_study(d), d).ok


# --- the audit, channel by channel ----------------------------------------------------------


def test_the_audit_keeps_each_channel_s_accounts_and_ids_apart(tmp_path: Path) -> None:
    d = short_study(tmp_path / "s", brands=1)
    toml = d / "study.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace(
            "\n[countries.",
            '\n[channels.mastodon]\napi_base = "https://mastodon.social"\naccount = "replybench"\n'
            'token_env = "REPLYBENCH_MASTODON_TOKEN"\n\n[countries.',
            1,
        ),
        encoding="utf-8",
    )
    with (d / "targets.csv").open("a", encoding="utf-8") as f:
        f.write("acorn,Acorn Co,retail,US,mastodon,acorn@mastodon.social,local\n")
    study = load_study(d)
    plan = {p.channel + p.country: p for p in make_plan(study)}
    x, mastodon = plan["xUS"], plan["mastodonUS"]
    at = x.scheduled_at
    journal = Journal.create_or_open(d, list(plan.values()), study_name="s", window_hours=6, now=at)
    for p in (x, mastodon):  # the platforms' ids collide: 100 on X and 100 on Mastodon
        journal.record_sent(journal.begin_attempt(p.probe_id, at), Sent(p.probe_id, "100", at),
                            timedelta(hours=6))  # fmt: skip
    reply = Reply("7", "mastodon", "acorn@mastodon.social", "9", "@replybench On it!", at,
                  ReplyKind.PUBLIC_REPLY, "100")  # fmt: skip
    journal.record_inbox("mastodon", [(reply, mastodon.probe_id)], {}, at + timedelta(hours=1))
    journal.close()
    ledger = [
        {"kind": "post", "id": "100", "author": "replybenchprobe", "text": x.text},  # X: no channel
        {"kind": "post", "channel": "mastodon", "id": "100", "author": "replybench",  # local
         "text": mastodon.text},
        {"kind": "post", "channel": "mastodon", "id": "7", "author": "acorn@mastodon.social",
         "text": "@replybench On it!", "in_reply_to_id": "100"},
        {"kind": "post", "channel": "mastodon", "id": "8", "author": "acorn@mastodon.social",
         "text": "@replybench@mastodon.social And more.", "in_reply_to_id": None},
    ]  # fmt: skip
    created = {"created_at": iso(at)}
    ledger_path(d).parent.mkdir(parents=True, exist_ok=True)
    write = "".join(json.dumps({**created, **e}) + "\n" for e in ledger)
    ledger_path(d).write_text(write, encoding="utf-8")
    report = audit(study, d)
    [acorn] = report.rows
    assert (acorn.planned, acorn.sent, acorn.ledger_posts) == (3, 2, 2)
    assert (acorn.replies, acorn.ledger_replies) == (1, 2)
    assert report.problems == [
        "ledger post 8 from @acorn@mastodon.social to the probe account is not in the journal"
    ]
    ledger_path(d).write_text(write.rsplit("{", 1)[0], encoding="utf-8")
    assert audit(study, d).ok
