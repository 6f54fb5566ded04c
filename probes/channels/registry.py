"""Every channel a study uses, built from its settings: the registry behind `replybench run`.

Each kind lives in its own package, imported only when a study uses it
(`probes.channels.KIND.adapter` for x, mastodon, bluesky and email), which exposes
`build(settings, wiring) -> (channel, aclose)` (`Wiring`: environment, clock, `--api-base`,
`--live`) and `async preflight(channel)` (docs/channels.md).
Before any is built, `check_channels` makes sure the study can run at all: every kind is
available, every network endpoint is on this machine unless `--live`, and every credential is
in the environment. `manual` channels get no adapter: people send those probes.

Messages name the channel, the endpoint and the environment variable, never its value.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from urllib.parse import urlsplit

from probes.channels.base import (
    AuthError,
    Channel,
    ChannelError,
    Closer,
    OutcomeUnknown,
    Transient,
    Wiring,
)
from probes.channels.common import SIM_TOKEN, sim_credential
from probes.channels.tokens import TokenStore
from study.clock import Clock
from study.errors import StudyError, UsageError
from study.load_channels import CHANNEL_KINDS, is_loopback_host
from study.model import ChannelSettings, Study
from study.personas import Persona, personas_of

# The module of each kind that has an adapter; `manual` has none (people send its probes).
MODULES = {
    "x": "probes.channels.x.adapter",
    "mastodon": "probes.channels.mastodon.adapter",
    "bluesky": "probes.channels.bluesky.adapter",
    "email": "probes.channels.email.adapter",
}
MANUAL = "manual"
HTTP_KINDS = ("x", "mastodon", "bluesky")  # `--api-base` overrides their API base

# What each kind's credential is, for messages: (noun, whose).
_SECRET = {
    "x": ("token", "the probe account's"),
    "mastodon": ("access token", "the probe account's"),
    "bluesky": ("app password", "the probe account's"),
    "email": ("password", "the probe mailbox's"),
}


def _credential_names(settings: ChannelSettings) -> tuple[str, str]:
    """What to check after a refused credential, and the variables that hold it: the one
    `token_env` (or `password_env`), else every `*_env` key of the table (X's four OAuth 1.0a
    variables, or its OAuth 2.0 client's)."""
    noun, _ = _SECRET.get(settings.name, ("credential", ""))
    if settings.token_env:
        return noun, settings.token_env
    names = [value for key, value in settings.options if key.endswith("_env") and value]
    return ("credentials" if len(names) > 1 else noun), ", ".join(names) or "study.toml"


def is_loopback(url: str) -> bool:
    """Whether the http(s) URL `url` points at this machine."""
    return is_loopback_host(urlsplit(url).hostname or "")


def api_base_of(settings: ChannelSettings, api_base: str | None) -> str:
    """The API base an HTTP channel talks to: `--api-base` if given, else its settings'."""
    return (api_base or settings.api_base).rstrip("/")


def check_api_base(url: str, *, live: bool, channel: str = "x") -> None:
    """Refuse an API base that is not an http(s) URL, or not on this machine without --live."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StudyError(f"API base {url!r} is not an http(s) URL; e.g. http://127.0.0.1:8765")
    if not live and not is_loopback(url):
        raise StudyError(
            f"refusing to send to {url} without --live: [channels.{channel}] would post real "
            "inquiries to real brands. Point --api-base at the simulator (replybench sim DIR "
            "--port 8765, then --api-base http://127.0.0.1:8765), or add --live when the "
            "study is ready"
        )


def mail_endpoints(settings: ChannelSettings) -> list[tuple[str, str, str]]:
    """(key, host, port) of an e-mail channel's SMTP and IMAP servers."""
    options = dict(settings.options)
    return [
        (f"{proto}_host", options.get(f"{proto}_host", ""), options.get(f"{proto}_port", ""))
        for proto in ("smtp", "imap")
    ]


def where(settings: ChannelSettings, api_base: str | None = None) -> str:
    """The endpoint(s) a channel talks to, for messages."""
    if settings.name == "email":
        return " / ".join(f"{host}:{port}" for _, host, port in mail_endpoints(settings))
    return api_base_of(settings, api_base)


def on_loopback(settings: ChannelSettings, api_base: str | None = None) -> bool:
    """Whether every endpoint of the channel is on this machine."""
    if settings.name == "email":
        return all(is_loopback_host(host) for _, host, _ in mail_endpoints(settings))
    return is_loopback(api_base_of(settings, api_base))


def check_endpoints(settings: ChannelSettings, *, api_base: str | None, live: bool) -> None:
    """Without --live, every network endpoint of the channel must be on this machine."""
    if settings.name in HTTP_KINDS:
        check_api_base(api_base_of(settings, api_base), live=live, channel=settings.name)
        return
    for key, host, port in mail_endpoints(settings) if settings.name == "email" else []:
        if not live and not is_loopback_host(host):
            raise StudyError(
                f"refusing to send to {host}:{port} without --live: [channels.email] would send "
                f"real e-mails to real brands. Point {key} at a test server on this machine "
                "(127.0.0.1), or add --live when the study is ready"
            )


def credential(
    settings: ChannelSettings, env: Mapping[str, str], *, loopback: bool, table: str = ""
) -> str:
    """The channel's credential from the environment variable its settings name; messages
    name `table` (a persona's "[personas.anna]"; default the channel's own table).

    On this machine an HTTP channel without one gets the simulator's token (or app password)
    of its account (probes.channels.common.sim_credential); an e-mail channel always needs
    its password.
    """
    table = table or f"[channels.{settings.name}]"
    if settings.name == "x":
        from probes.channels.x.credentials import x_credential

        # raises naming the missing variable
        x_credential(settings, env, loopback=loopback, table=table)
        return ""
    value = env.get(settings.token_env, "")
    if value.strip():
        return value.strip()
    if loopback and settings.name in HTTP_KINDS:
        return sim_credential(SIM_TOKEN, settings.account)  # the account's own
    noun, whose = _SECRET.get(settings.name, ("credential", "the channel's"))
    raise StudyError(
        f"study.toml {table}: environment variable {settings.token_env} is not set; export "
        f"{whose} {noun} in it (credentials never go in the study folder)"
    )


def http_access(settings: ChannelSettings, wiring: Wiring) -> tuple[str, str]:
    """The API base an HTTP channel talks to and its credential, checked as `check_channels`
    checks them (an adapter's `build` may be called without it)."""
    base = api_base_of(settings, wiring.api_base)
    check_api_base(base, live=wiring.live, channel=settings.name)
    return base, credential(settings, wiring.env, loopback=is_loopback(base))


def driven(study: Study) -> list[str]:
    """The channels the runner drives: those with probed targets, but `manual`."""
    return sorted({t.channel for t in study.probed_targets} - {MANUAL})


def driven_personas(study: Study, only: Collection[str] | None = None) -> list[Persona]:
    """The accounts the runner drives (study.personas: a channel's one account is named after
    the channel), those named in `only` (`run --persona`) when given; UsageError for a name
    that is none of them."""
    channels = set(driven(study))
    everyone = [p for p in personas_of(study) if p.channel in channels]
    if only is None:
        return everyone
    names = {p.name for p in everyone}
    by_hand = {p.name for p in personas_of(study) if p.channel == MANUAL}
    for name in sorted(set(only) - names):
        if name in by_hand:
            raise UsageError(
                f"--persona {name}: {name} sends by hand (channel manual), not through the "
                f"runner; write their worksheet: replybench worksheet {study.path} "
                f"--persona {name} --out {name}.csv"
            )
        raise UsageError(
            f"--persona {name}: the study has no such persona; its personas are "
            f"{', '.join(sorted(names)) or 'none'} (study.toml [personas.NAME], or a channel's "
            "name for its one account)"
        )
    return [p for p in everyone if p.name in only]


def module_of(name: str) -> ModuleType:
    """The adapter module of channel kind `name`, imported now."""
    if name not in MODULES:
        raise StudyError(
            f"study.toml [channels.{name}]: '{name}' is not a channel kind with an adapter; "
            f"use one of: {', '.join(CHANNEL_KINDS)}"
        )
    try:
        module = importlib.import_module(MODULES[name])
    except ModuleNotFoundError as e:
        if e.name != MODULES[name]:
            raise  # the module is there but something it needs is not: a broken install
        module = None
    if module is None or not hasattr(module, "build") or not hasattr(module, "preflight"):
        raise StudyError(
            f"channel '{name}' is not available in this version; update replybench, or leave "
            f"the {name} targets out of targets.csv"
        )
    return module


def check_channels(
    study: Study,
    *,
    env: Mapping[str, str],
    api_base: str | None = None,
    live: bool = False,
    only: Collection[str] | None = None,
) -> dict[str, ModuleType]:
    """Everything that would stop the runner's accounts, found before anything is built or
    written: each kind's module, endpoints and credential. The modules, by persona (a
    channel's name for its one account); `only` names the personas to check."""
    modules: dict[str, ModuleType] = {}
    for persona in driven_personas(study, only):
        modules[persona.name] = module_of(persona.channel)
        settings = persona.settings
        check_endpoints(settings, api_base=api_base, live=live)
        loopback = on_loopback(settings, api_base)
        credential(settings, env, loopback=loopback, table=persona.table)
    return modules


@dataclass
class Built:
    """The study's adapters by channel name, how to check them, and how to close them."""

    channels: dict[str, Channel] = field(default_factory=dict)
    closers: list[Closer] = field(default_factory=list)
    # an adapter's preflight may return warnings (a policy that will hide replies)
    # (persona, its table, settings, endpoint, the adapter's preflight)
    _checks: list[
        tuple[str, str, ChannelSettings, str, Callable[[Channel], Awaitable[list[str] | None]]]
    ] = field(default_factory=list)

    async def preflight(self) -> list[str]:
        """Check every account's credentials with its platform (before anything is written);
        the warnings the channels gave, each naming its channel."""
        warnings: list[str] = []
        for key, table, settings, endpoint, check in self._checks:
            name = settings.name
            channel = self.channels[key]
            noun, variables = _credential_names(settings)
            who = (
                f"the username {dict(settings.options).get('username', '')!r}"
                if name == "email"
                else f"the account {settings.account!r}"
            )
            try:
                warnings += [f"{name} at {endpoint}: {w}" for w in await check(channel) or []]
            except AuthError as e:
                raise StudyError(
                    f"{name} at {endpoint}: {e}; check the {noun} in {variables} and "
                    f"{who} in study.toml {table}"
                ) from e
            except (Transient, OutcomeUnknown) as e:
                raise StudyError(
                    f"{name} at {endpoint}: cannot reach it ({e}); try again later"
                ) from e
            except ChannelError as e:
                raise StudyError(
                    f"{name} at {endpoint}: could not check the credentials ({e}); check "
                    f"study.toml {table}"
                ) from e
        return warnings

    async def aclose(self) -> None:
        """Close every adapter's client or connections, the last built first."""
        while self.closers:
            await self.closers.pop()()


def build_channels(
    study: Study,
    *,
    env: Mapping[str, str],
    clock: Clock,
    api_base: str | None = None,
    live: bool = False,
    only: Collection[str] | None = None,
) -> Built:
    """An adapter for every account the runner drives (each persona's, by its name; `only`:
    those personas), each from its settings.

    `api_base` (`--api-base`) overrides the API base of the HTTP channels (one simulator
    serves all three); without `live` every endpoint must be on this machine. Raises
    `StudyError` before building anything if a channel cannot run.
    """
    modules = check_channels(study, env=env, api_base=api_base, live=live, only=only)
    wiring = Wiring(env, clock, api_base, live, TokenStore.for_study(study.path, env))
    built = Built()
    personas = {p.name: p for p in driven_personas(study, only)}
    for name, module in modules.items():
        settings = personas[name].settings
        channel, close = module.build(settings, wiring)
        built.channels[name] = channel
        built.closers.append(close)
        endpoint = where(settings, api_base)
        built._checks.append((name, personas[name].table, settings, endpoint, module.preflight))
    return built
