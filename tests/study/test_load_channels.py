"""Every channel kind in study.toml and targets.csv (docs/channels.md), broken one key at a time."""

from __future__ import annotations

import pytest

from study.load import load_study
from study.model import ChannelSettings, Scope
from study.plan import make_plan
from tests.conftest import ROOT

from .conftest import StudyFolder

# Every channel that reaches a platform (test_accounts.py uses these too), then by hand.
REMOTE_CHANNELS = """
[channels.mastodon]
api_base = "https://mastodon.social"
account = "replybench"
token_env = "REPLYBENCH_MASTODON_TOKEN"

[channels.bluesky]
api_base = "https://bsky.social"
account = "replybench.bsky.social"
password_env = "REPLYBENCH_BLUESKY_PASSWORD"

[channels.email]
smtp_host = "smtp.example.org"
smtp_port = 587
imap_host = "imap.example.org"
imap_port = 993
username = "probe"
password_env = "REPLYBENCH_EMAIL_PASSWORD"
from_address = "probe@example.org"
"""
CHANNELS = (
    REMOTE_CHANNELS
    + """
[channels.manual]
instructions = "Call in business hours; note when a person answers."
"""
)

TARGETS = """northwind,Northwind Airways,airline,US,mastodon,northwind@mastodon.social,local
northwind,Northwind Airways,airline,US,bluesky,northwind.bsky.social,local
northwind,Northwind Airways,airline,US,email,support@northwind.example,local
northwind,Northwind Airways,airline,US,manual,+1 212 555 0199,local
"""


@pytest.fixture
def every(folder: StudyFolder) -> StudyFolder:
    """The scaffold with a table and a target for every channel kind."""
    folder.edit("study.toml", "\n[countries.US]", CHANNELS + "\n[countries.US]")
    folder.append("targets.csv", TARGETS)
    return folder


def test_every_kind_loads_into_its_settings(every: StudyFolder) -> None:
    study = load_study(every.path)
    assert study.channels == (
        ChannelSettings(
            "bluesky",
            "https://bsky.social",
            "replybench.bsky.social",
            "REPLYBENCH_BLUESKY_PASSWORD",
        ),
        ChannelSettings(
            "email",
            "",
            "probe@example.org",
            "REPLYBENCH_EMAIL_PASSWORD",
            (
                ("imap_folder", "INBOX"),
                ("imap_host", "imap.example.org"),
                ("imap_port", "993"),
                ("imap_security", "tls"),
                ("smtp_host", "smtp.example.org"),
                ("smtp_port", "587"),
                ("smtp_security", "starttls"),
                ("username", "probe"),
            ),
        ),
        ChannelSettings(
            "manual",
            "",
            "",
            "",
            (("instructions", "Call in business hours; note when a person answers."),),
        ),
        ChannelSettings(
            "mastodon",
            "https://mastodon.social",
            "replybench",
            "REPLYBENCH_MASTODON_TOKEN",
            (("visibility", "public"),),
        ),
        ChannelSettings(
            "x",
            "https://api.x.com",
            "replybenchprobe",
            "",
            (
                ("access_token_env", "REPLYBENCH_X_ACCESS_TOKEN"),
                ("access_token_secret_env", "REPLYBENCH_X_ACCESS_TOKEN_SECRET"),
                ("consumer_key_env", "REPLYBENCH_X_CONSUMER_KEY"),
                ("consumer_secret_env", "REPLYBENCH_X_CONSUMER_SECRET"),
            ),
        ),
    )
    northwind = {
        t.channel: t for t in study.targets if t.brand == "northwind" and t.country == "US"
    }
    assert {c: t.handle for c, t in northwind.items()} == {
        "bluesky": "northwind.bsky.social",
        "email": "support@northwind.example",
        "manual": "+1 212 555 0199",
        "mastodon": "northwind@mastodon.social",
        "x": "NorthwindAir_US",
    }
    assert all(t.scope is Scope.LOCAL for t in northwind.values())
    texts = {
        p.channel: p.text
        for p in make_plan(study)
        if p.probe_id.endswith("-US-" + p.channel + "-r1") and p.brand == "northwind"
    }
    assert texts["mastodon"].startswith("@northwind@mastodon.social Hi")
    assert texts["bluesky"].startswith("@northwind.bsky.social Hi")
    assert texts["email"].startswith("Hi") and "support@" not in texts["email"]
    assert texts["manual"].startswith("Hi") and "555" not in texts["manual"]


def test_options_keep_what_is_given_and_an_empty_manual_table_is_enough(
    every: StudyFolder,
) -> None:
    every.edit("study.toml", 'token_env = "REPLYBENCH_MASTODON_TOKEN"\n', (
        'token_env = "REPLYBENCH_MASTODON_TOKEN"\nvisibility = "direct"\n'
    ))  # fmt: skip
    every.edit("study.toml", "smtp_port = 587\n", 'smtp_port = 2525\nsmtp_security = "plain"\n')
    every.edit("study.toml", '"smtp.example.org"', '"127.0.0.1"')
    every.edit(
        "study.toml", 'username = "probe"\n', 'username = "probe"\nimap_folder = "Support"\n'
    )
    every.edit(
        "study.toml", 'instructions = "Call in business hours; note when a person answers."\n', ""
    )
    study = load_study(every.path)
    assert study.channel("mastodon").options == (("visibility", "direct"),)
    assert dict(study.channel("email").options) == {
        "imap_folder": "Support",
        "imap_host": "imap.example.org",
        "imap_port": "993",
        "imap_security": "tls",
        "smtp_host": "127.0.0.1",
        "smtp_port": "2525",
        "smtp_security": "plain",
        "username": "probe",
    }
    assert study.channel("manual") == ChannelSettings("manual", "", "", "")


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            'api_base = "https://mastodon.social"',
            'api_base = "mastodon.social"',
            "api_base must be an http(s) URL, not 'mastodon.social'; "
            'e.g. "https://mastodon.social"',
        ),
        (
            'account = "replybench"',
            'account = "@replybench"',
            "account must be the probe account's username without '@' (letters, digits, '_'), "
            "not '@replybench'; e.g. \"replybench\" for replybench@mastodon.social",
        ),
        (
            'account = "replybench"',
            'account = "replybench@mastodon.social"',
            "account must be the probe account's username without '@' (letters, digits, '_'), "
            "not 'replybench@mastodon.social'; e.g. \"replybench\" for replybench@mastodon.social",
        ),
        (
            'token_env = "REPLYBENCH_MASTODON_TOKEN"',
            'token_env = "abc.def-secret"',
            "token_env must be the name of an environment variable, not the value given (not "
            'shown); e.g. "REPLYBENCH_MASTODON_TOKEN"; the token itself never goes in the folder',
        ),
        (
            'token_env = "REPLYBENCH_MASTODON_TOKEN"',
            'token_env = "REPLYBENCH_MASTODON_TOKEN"\nvisibility = "followers"',
            "visibility must be one of public, unlisted, private, direct, not 'followers'; "
            'e.g. "public" (the default)',
        ),
        (
            'api_base = "https://bsky.social"',
            "api_base = 3",
            'api_base must be an http(s) URL, not 3; e.g. "https://bsky.social"',
        ),
        (
            'account = "replybench.bsky.social"',
            'account = "@replybench.bsky.social"',
            "account must be the probe account's handle without '@' (a domain name), not "
            "'@replybench.bsky.social'; e.g. \"replybench.bsky.social\"",
        ),
        (
            'password_env = "REPLYBENCH_BLUESKY_PASSWORD"',
            'password_env = "abcd-efgh-ijkl-mnop"',
            "password_env must be the name of an environment variable, not the value given (not "
            'shown); e.g. "REPLYBENCH_BLUESKY_PASSWORD"; the app password itself never goes in '
            "the folder",
        ),
        (
            'smtp_host = "smtp.example.org"',
            'smtp_host = ""',
            "smtp_host must be a host name, not ''; e.g. \"smtp.example.org\" (no scheme, no port)",
        ),
        (
            'imap_host = "imap.example.org"',
            'imap_host = "imaps://imap.example.org"',
            "imap_host must be a host name, not 'imaps://imap.example.org'; "
            'e.g. "imap.example.org" (no scheme, no port)',
        ),
        (
            'imap_host = "imap.example.org"',
            'imap_host = "imap.example.org:993"',
            "imap_host must be a host name, not 'imap.example.org:993'; "
            'e.g. "imap.example.org" (no scheme, no port)',
        ),
        (
            "smtp_port = 587",
            "smtp_port = 70000",
            "smtp_port must be a port number (a whole number from 1 to 65535), not 70000; e.g. 587",
        ),
        (
            "imap_port = 993",
            'imap_port = "993"',
            "imap_port must be a port number (a whole number from 1 to 65535), not '993'; e.g. 993",
        ),
        (
            "imap_port = 993",
            "imap_port = 0",
            "imap_port must be a port number (a whole number from 1 to 65535), not 0; e.g. 993",
        ),
        (
            'username = "probe"',
            'username = " "',
            "username must be a non-empty string, not ' '; the mailbox's login, e.g. \"probe\"",
        ),
        (
            'password_env = "REPLYBENCH_EMAIL_PASSWORD"',
            'password_env = "hunter2!"',
            "password_env must be the name of an environment variable, not the value given (not "
            'shown); e.g. "REPLYBENCH_EMAIL_PASSWORD"; the password itself never goes in the '
            "folder",
        ),
        (
            'from_address = "probe@example.org"',
            'from_address = "probe"',
            "from_address must be an e-mail address, not 'probe'; "
            'the probe mailbox\'s address, e.g. "probe@example.org"',
        ),
        (
            "smtp_port = 587",
            'smtp_port = 587\nsmtp_security = "ssl"',
            "smtp_security must be one of starttls, tls, plain, not 'ssl'; e.g. \"starttls\" "
            '(the default); "plain" only for a test server on this machine',
        ),
        (
            "imap_port = 993",
            'imap_port = 993\nimap_security = "plain"',
            "imap_security 'plain' sends the password unencrypted, so it is only for a test "
            "server on this machine, and imap_host is 'imap.example.org'; use 'tls'",
        ),
        (
            'username = "probe"',
            'username = "probe"\nimap_folder = ""',
            "imap_folder must be a non-empty string, not ''; e.g. \"INBOX\" (the default)",
        ),
        (
            'instructions = "Call in business hours; note when a person answers."',
            "instructions = 42",
            "instructions must be a non-empty string, not 42; write what the researcher should "
            "do, or leave the key out",
        ),
    ],
)
def test_channel_key_rules(every: StudyFolder, old: str, new: str, problem: str) -> None:
    every.edit("study.toml", old, new)
    line = every.line_of("study.toml", new.splitlines()[-1])
    assert every.problems() == [f"study.toml:{line}: {problem}"]


@pytest.mark.parametrize(
    ("table", "key", "problem"),
    [
        (
            "mastodon",
            "token_env",
            "[channels.mastodon] has no token_env (the name of an environment variable); add "
            'it: e.g. "REPLYBENCH_MASTODON_TOKEN"; the token itself never goes in the folder',
        ),
        (
            "bluesky",
            "api_base",
            '[channels.bluesky] has no api_base (an http(s) URL); add it: e.g. "https://bsky.social"',
        ),
        (
            "email",
            "from_address",
            "[channels.email] has no from_address (an e-mail address); add it: the probe "
            'mailbox\'s address, e.g. "probe@example.org"',
        ),
        (
            "email",
            "imap_port",
            "[channels.email] has no imap_port (a port number (a whole number from 1 to 65535)); "
            "add it: e.g. 993",
        ),
    ],
)
def test_a_missing_channel_key_is_reported_at_its_table(
    every: StudyFolder, table: str, key: str, problem: str
) -> None:
    text = every.text("study.toml")
    start = text.index(f"[channels.{table}]")
    at = text.index(f"\n{key} = ", start) + 1
    every.write("study.toml", text[:at] + text[text.index("\n", at) + 1 :])
    line = every.line_of("study.toml", f"[channels.{table}]")
    assert every.problems() == [f"study.toml:{line}: {problem}"]


def test_a_key_of_another_kind_is_unknown(every: StudyFolder) -> None:
    every.edit("study.toml", 'password_env = "REPLYBENCH_EMAIL_PASSWORD"', 'token_env = "PW"')
    table = every.line_of("study.toml", "[channels.email]")
    line = every.line_of("study.toml", 'token_env = "PW"')
    assert every.problems() == [
        f"study.toml:{table}: [channels.email] has no password_env (the name of an "
        'environment variable); add it: e.g. "REPLYBENCH_EMAIL_PASSWORD"; the password itself '
        "never goes in the folder",
        f"study.toml:{line}: unknown key 'token_env' in [channels.email]; known: smtp_host, "
        "smtp_port, imap_host, imap_port, username, password_env, from_address, smtp_security, "
        "imap_security, imap_folder, confirm",
    ]


def test_an_unknown_kind_names_the_kinds_and_a_close_one(every: StudyFolder) -> None:
    every.edit("study.toml", "[channels.email]", "[channels.mail]")
    every.write("targets.csv", every.text("targets.csv").replace(",email,", ",mail,"))
    line = every.line_of("study.toml", "[channels.mail]")
    assert every.problems() == [
        f"study.toml:{line}: channel 'mail' is not supported; did you mean 'email'? "
        "(one of: x, mastodon, bluesky, email, manual)"
    ]


def test_plain_is_fine_on_this_machine(every: StudyFolder) -> None:
    every.edit("study.toml", 'imap_host = "imap.example.org"', 'imap_host = "localhost"')
    every.edit("study.toml", "imap_port = 993", 'imap_port = 1143\nimap_security = "plain"')
    assert every.problems() == []


# --- handles in targets.csv ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            "mastodon,northwind@mastodon.social",
            "mastodon,@northwind@mastodon.social",
            "handle '@northwind@mastodon.social' starts with '@'; write it without: "
            "'northwind@mastodon.social'",
        ),
        (
            "mastodon,northwind@mastodon.social",
            "mastodon,northwind",
            "handle 'northwind' is not a Mastodon handle (user@instance.domain, e.g. "
            "kaito@mastodon.social); copy the whole handle from the account's profile",
        ),
        (
            "mastodon,northwind@mastodon.social",
            "mastodon,https://mastodon.social/@northwind",
            "handle 'https://mastodon.social/@northwind' is a profile's address; write the "
            "handle: 'northwind@mastodon.social'",
        ),
        (
            "mastodon,northwind@mastodon.social",
            "mastodon,northwind@localhost",
            "handle 'northwind@localhost' is not a Mastodon handle (user@instance.domain, e.g. "
            "kaito@mastodon.social); copy the whole handle from the account's profile",
        ),
        (
            "bluesky,northwind.bsky.social",
            "bluesky,@northwind.bsky.social",
            "handle '@northwind.bsky.social' starts with '@'; write it without: "
            "'northwind.bsky.social'",
        ),
        (
            "bluesky,northwind.bsky.social",
            "bluesky,northwind",
            "handle 'northwind' is not a Bluesky handle (a domain name: letters, digits and '-' "
            "between dots, e.g. kaito.bsky.social); copy it from the account's profile",
        ),
        (
            "bluesky,northwind.bsky.social",
            "bluesky,north_wind.bsky.social",
            "handle 'north_wind.bsky.social' is not a Bluesky handle (a domain name: letters, "
            "digits and '-' between dots, e.g. kaito.bsky.social); copy it from the account's "
            "profile",
        ),
        (
            "bluesky,northwind.bsky.social",
            "bluesky,northwind..bsky.social",
            "handle 'northwind..bsky.social' is not a Bluesky handle (a domain name: letters, "
            "digits and '-' between dots, e.g. kaito.bsky.social); copy it from the account's "
            "profile",
        ),
        (
            "email,support@northwind.example",
            "email,support",
            "handle 'support' is not an e-mail address; write the brand's support address, "
            "e.g. support@brand.example",
        ),
        (
            "email,support@northwind.example",
            "email,support@northwind",
            "handle 'support@northwind' is not an e-mail address; write the brand's support "
            "address, e.g. support@brand.example",
        ),
        (
            "email,support@northwind.example",
            'email,"support@northwind.example\nsales@northwind.example"',
            "handle holds a control character (U+000A); write it as plain text on one line",
        ),
        (
            "email,support@northwind.example",
            "email,support @northwind.example",
            "handle 'support @northwind.example' is not an e-mail address; write the brand's "
            "support address, e.g. support@brand.example",
        ),
        (
            "manual,+1 212 555 0199,local",
            "manual,,local",
            "handle is empty but scope is local; add the account's handle, or set the scope to "
            "none if the brand has no account here",
        ),
    ],
)
def test_handle_rules_per_channel(every: StudyFolder, old: str, new: str, problem: str) -> None:
    every.edit("targets.csv", old, new)
    line = every.line_of("targets.csv", new.split(",")[0] + "," + new.split(",")[1][:6])
    assert every.problems() == [f"targets.csv:{line}: {problem}"]


@pytest.mark.parametrize(
    "handle",
    ["https://northwind.example/contact", "Northwind app (iOS)", "@northwind", "+1 212 555 0199"],
)
def test_a_manual_handle_is_any_text(every: StudyFolder, handle: str) -> None:
    every.edit("targets.csv", "manual,+1 212 555 0199,", f'manual,"{handle}",')
    assert every.problems() == []


# --- the length of a text on each channel ----------------------------------------------------


def _one_script(folder: StudyFolder, text: str) -> None:
    rows = ["script,category,language,text"]
    for sid in ("a", "b", "c"):
        for lang in ("en", "de"):
            rows.append(f'{sid},cat,{lang},"{text} {sid}"')
    folder.write("scripts.csv", "\n".join(rows) + "\n")


def _only(folder: StudyFolder, channel: str, handle: str) -> None:
    folder.write(
        "targets.csv",
        "brand,brand_name,sector,country,channel,handle,scope\n"
        f"kaito,Kaito,retail,US,{channel},{handle},local\n",
    )


@pytest.mark.parametrize(
    ("channel", "handle", "fits", "problem"),
    [
        # '@' + 25 + ' ' + 471 + ' a' = 500
        (
            "mastodon",
            "kaito_support@mastodon.de",
            "{handle} " + "a" * 471,
            "is 501 characters long as Mastodon counts them (with the longest handle), over the "
            "limit of 500; shorten it by 1",
        ),
        # '@' + 17 + ' ' + 276 + 'é' + 2 + ' a' = 300: a combining accent adds nothing, a ZWJ
        # sequence counts its pictographs only
        (
            "bluesky",
            "kaito.bsky.social",
            "{handle} " + "a" * 276 + "e\u0301" + "👨\u200d👩\ufe0f",
            "is 301 graphemes long as Bluesky counts them (with the longest handle), over the "
            "limit of 300; shorten it by 1",
        ),
        # the longest handle used on X, not the longest X allows: '@' + 5 + ' ' + 271 + ' a'
        (
            "x",
            "Kaito",
            "{handle} " + "a" * 271,
            "is 281 characters long as X counts them (with the longest handle), over the limit "
            "of 280; shorten it by 1",
        ),
    ],
)
def test_texts_are_measured_per_channel_with_its_longest_handle(
    folder: StudyFolder, channel: str, handle: str, fits: str, problem: str
) -> None:
    folder.edit("study.toml", "\n[countries.US]", CHANNELS + "\n[countries.US]")
    _only(folder, channel, handle)
    _one_script(folder, fits)
    assert folder.problems() == []
    _one_script(folder, fits + "a")
    assert folder.problems()[0] == f"scripts.csv:2: script 'a' (en) {problem}"


@pytest.mark.parametrize(("channel", "handle"), [("email", "care@kaito.example"), ("manual", "x")])
def test_email_and_manual_texts_have_no_limit(
    folder: StudyFolder, channel: str, handle: str
) -> None:
    folder.edit("study.toml", "\n[countries.US]", CHANNELS + "\n[countries.US]")
    _only(folder, channel, handle)
    _one_script(folder, "{handle} " + "a" * 5000)
    assert folder.problems() == []


def test_the_longest_handle_of_each_channel_counts(folder: StudyFolder) -> None:
    folder.edit("study.toml", "\n[countries.US]", CHANNELS + "\n[countries.US]")
    folder.write(
        "targets.csv",
        "brand,brand_name,sector,country,channel,handle,scope\n"
        "kaito,Kaito,retail,US,mastodon,k@m.social,local\n"
        "brenner,Brenner,retail,US,mastodon,brenner_support@mastodon.example,local\n",
    )
    # 1 + 32 + 1 + 464 + 2 = 500 on Mastodon with @brenner_support@mastodon.example
    _one_script(folder, "{handle} " + "a" * 464)
    assert folder.problems() == []
    _one_script(folder, "{handle} " + "a" * 465)
    assert folder.problems()[0] == (
        "scripts.csv:2: script 'a' (en) is 501 characters long as Mastodon counts them (with "
        "the longest handle), over the limit of 500; shorten it by 1"
    )


def test_the_channel_tables_in_the_docs_load(folder: StudyFolder) -> None:
    doc = (ROOT / "docs" / "study-folder.md").read_text(encoding="utf-8")
    [tables] = [b for b in doc.split("```toml\n")[1:] if b.startswith("[channels.mastodon]")]
    folder.edit(
        "study.toml", "\n[countries.US]", "\n" + tables.split("```")[0] + "\n[countries.US]"
    )
    no_bluesky = [row for row in TARGETS.splitlines(keepends=True) if ",bluesky," not in row]
    folder.append("targets.csv", "".join(no_bluesky))
    study = load_study(folder.path)
    assert [c.name for c in study.channels] == ["email", "manual", "mastodon", "x"]
