"""The `[channels.NAME]` tables of study.toml: the keys each channel kind takes, and the
`ChannelSettings` they make (docs/channels.md, "Settings, handles and texts").

`study.load` checks each table against its kind's rules and reports at the key's line; this
module only says what the rules are and how a valid table becomes settings.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from study.handles import DOMAIN, EMAIL_ADDRESS
from study.model import ChannelSettings
from study.plan_text import CHANNEL_KINDS
from study.redact import looks_like_token

__all__ = [
    "CHANNEL_KINDS",
    "CHANNEL_RULES",
    "CREDENTIAL_KEYS",
    "Rule",
    "channel_problems",
    "channel_settings",
    "is_loopback_host",
]

_X_ACCOUNT = re.compile(r"[A-Za-z0-9_]{1,15}")
_MASTODON_ACCOUNT = re.compile(r"[A-Za-z0-9_]{1,30}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Rule:
    """What one key of study.toml must hold: `must` describes it, `fix` says what to write."""

    must: str
    fix: str
    ok: Callable[[Any], bool]
    secret: bool = False  # never echo the value: it may be a credential put in by mistake
    optional: bool = False  # the key may be left out
    default: str | None = None  # what an optional key means when left out


def is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def is_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def is_text(v: object) -> bool:
    return isinstance(v, str) and v.strip() != ""


def is_date(v: object) -> bool:
    return isinstance(v, date) and not isinstance(v, datetime)


def is_loopback_host(host: str) -> bool:
    """Whether `host` is this machine: `localhost` itself or a literal loopback address
    (127.0.0.0/8, ::1). Other names, `*.localhost` among them, may go to DNS whatever RFC 6761
    asks of resolvers, so they count as remote: the --live guard never trusts a name it has
    not resolved itself."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_host(v: object) -> bool:
    # A name or an address; no scheme, path or port ("::1" has colons, "host:25" one).
    text = str(v)
    return is_text(v) and not any(c.isspace() or c == "/" for c in text) and text.count(":") != 1


def _url(example: str) -> Rule:
    return Rule(
        "an http(s) URL",
        f'e.g. "{example}"',
        lambda v: isinstance(v, str) and v.startswith(("https://", "http://")),
    )


def _env(example: str, what: str, *, optional: bool = False) -> Rule:
    return Rule(
        "the name of an environment variable",
        f'e.g. "{example}"; the {what} itself never goes in the folder',
        lambda v: isinstance(v, str) and _ENV_NAME.fullmatch(v) is not None,
        secret=True,
        optional=optional,
    )


def _host(example: str) -> Rule:
    return Rule("a host name", f'e.g. "{example}" (no scheme, no port)', _is_host)


def _port(example: int) -> Rule:
    return Rule(
        "a port number (a whole number from 1 to 65535)",
        f"e.g. {example}",
        lambda v: is_int(v) and 1 <= v <= 65535,
    )


def _one_of(values: tuple[str, ...], note: str = "") -> Rule:
    return Rule(
        f"one of {', '.join(values)}",
        f'e.g. "{values[0]}" (the default){note}',
        lambda v: v in values,
        optional=True,
        default=values[0],
    )


_PLAIN_NOTE = '; "plain" only for a test server on this machine'

CHANNEL_RULES: dict[str, dict[str, Rule]] = {
    "x": {
        "api_base": _url("https://api.x.com"),
        "account": Rule(
            "the probe account's handle without '@' (1-15 letters, digits, '_')",
            'e.g. "replybenchprobe"',
            lambda v: isinstance(v, str) and _X_ACCOUNT.fullmatch(v) is not None,
        ),
        # OAuth 1.0a user context (all four), OAuth 2.0 (client_id_env, `replybench login x`)
        # or a bearer token (token_env); probes/channels/x/credentials.py, docs/going-live.md.
        "consumer_key_env": _env("REPLYBENCH_X_CONSUMER_KEY", "API key", optional=True),
        "consumer_secret_env": _env(
            "REPLYBENCH_X_CONSUMER_SECRET", "API key secret", optional=True
        ),
        "access_token_env": _env("REPLYBENCH_X_ACCESS_TOKEN", "access token", optional=True),
        "access_token_secret_env": _env(
            "REPLYBENCH_X_ACCESS_TOKEN_SECRET", "access token secret", optional=True
        ),
        "client_id_env": _env("REPLYBENCH_X_CLIENT_ID", "OAuth 2.0 client id", optional=True),
        "client_secret_env": _env(
            "REPLYBENCH_X_CLIENT_SECRET", "OAuth 2.0 client secret", optional=True
        ),
        "token_env": _env("REPLYBENCH_X_TOKEN", "token", optional=True),
    },
    "mastodon": {
        "api_base": _url("https://mastodon.social"),
        "account": Rule(
            "the probe account's username without '@' (letters, digits, '_')",
            'e.g. "replybench" for replybench@mastodon.social',
            lambda v: isinstance(v, str) and _MASTODON_ACCOUNT.fullmatch(v) is not None,
        ),
        "token_env": _env("REPLYBENCH_MASTODON_TOKEN", "token"),
        "visibility": _one_of(("public", "unlisted", "private", "direct")),
    },
    "bluesky": {
        "api_base": _url("https://bsky.social"),
        "account": Rule(
            "the probe account's handle without '@' (a domain name)",
            'e.g. "replybench.bsky.social"',
            lambda v: isinstance(v, str) and DOMAIN.fullmatch(v) is not None,
        ),
        "password_env": _env("REPLYBENCH_BLUESKY_PASSWORD", "app password"),
    },
    "email": {
        "smtp_host": _host("smtp.example.org"),
        "smtp_port": _port(587),
        "imap_host": _host("imap.example.org"),
        "imap_port": _port(993),
        "username": Rule("a non-empty string", 'the mailbox\'s login, e.g. "probe"', is_text),
        "password_env": _env("REPLYBENCH_EMAIL_PASSWORD", "password"),
        "from_address": Rule(
            "an e-mail address",
            'the probe mailbox\'s address, e.g. "probe@example.org"',
            lambda v: isinstance(v, str) and EMAIL_ADDRESS.fullmatch(v) is not None,
        ),
        "smtp_security": _one_of(("starttls", "tls", "plain"), _PLAIN_NOTE),
        "imap_security": _one_of(("tls", "starttls", "plain"), _PLAIN_NOTE),
        "imap_folder": Rule(
            "a non-empty string",
            'e.g. "INBOX" (the default)',
            is_text,
            optional=True,
            default="INBOX",
        ),
    },
    "manual": {
        "instructions": Rule(
            "a non-empty string",
            "write what the researcher should do, or leave the key out",
            is_text,
            optional=True,
        ),
    },
}

CONFIRM_RULE = Rule(
    "true or false",
    "write true to have a person confirm each send of this channel (replybench run --confirm)",
    lambda v: isinstance(v, bool),
    optional=True,
)
for _kind in ("x", "mastodon", "bluesky", "email"):  # manual probes: people send them anyway
    CHANNEL_RULES[_kind]["confirm"] = CONFIRM_RULE

# The key that names the environment variable holding each kind's credential.
CREDENTIAL_KEYS = {
    "x": "token_env",
    "mastodon": "token_env",
    "bluesky": "password_env",
    "email": "password_env",
}


# The credential schemes of a kind with several (X: probes/channels/x/credentials.py): a
# persona that names keys of one scheme inherits the channel's keys of that scheme only.
CREDENTIAL_SCHEMES = {
    "x": (
        ("consumer_key_env", "consumer_secret_env", "access_token_env", "access_token_secret_env"),
        ("client_id_env", "client_secret_env"),
        ("token_env",),
    ),
}


def channel_problems(name: str, values: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(key, message) for what a table whose every key is of its type still gets wrong."""
    for key, rule in CHANNEL_RULES.get(name, {}).items():
        if not rule.secret or not looks_like_token(str(values.get(key, ""))):
            continue
        # Shaped like the credential itself, not a variable's name: never shown, not even
        # in the messages of `run` and `accounts` that name the variable.
        yield (
            key,
            f"{key} looks like a credential itself (not shown), not the name of an environment "
            f"variable; export it in a variable and write the variable's name here "
            f"({rule.fix}); revoke the credential if the folder has been shared",
        )
    for proto in ("smtp", "imap"):
        host = values.get(f"{proto}_host")
        if values.get(f"{proto}_security") == "plain" and not is_loopback_host(str(host)):
            default = CHANNEL_RULES[name][f"{proto}_security"].default
            yield (
                f"{proto}_security",
                f"{proto}_security 'plain' sends the password unencrypted, so it is only for a "
                f"test server on this machine, and {proto}_host is {host!r}; use '{default}'",
            )


def channel_settings(name: str, values: dict[str, Any]) -> ChannelSettings:
    """The settings of a valid `[channels.NAME]` table: API base, account and the credential's
    variable in their fields, every other key (defaults filled in) in `options` as text."""
    rules = CHANNEL_RULES[name]
    credential = CREDENTIAL_KEYS.get(name, "")
    account_key = "from_address" if name == "email" else "account"
    fields = {"api_base", account_key, credential, "confirm"}
    options = sorted(
        (key, str(values.get(key, rule.default)))
        for key, rule in rules.items()
        if key not in fields and (key in values or rule.default is not None)
    )
    return ChannelSettings(
        name,
        str(values.get("api_base", "")),
        str(values.get(account_key, "")),
        str(values.get(credential, "")),
        tuple(options),
        confirm=bool(values.get("confirm", False)),
    )
