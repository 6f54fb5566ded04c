"""Which credential the X channel uses, from study.toml's `[channels.x]` and the environment.

In order of preference (docs/channels.md, docs/going-live.md):

1. OAuth 1.0a user context, the default for unattended runs: `consumer_key_env`,
   `consumer_secret_env`, `access_token_env`, `access_token_secret_env` name four variables.
2. OAuth 2.0 with PKCE: `client_id_env` (and `client_secret_env` for a confidential client);
   the token pair comes from the token store (`replybench login x STUDY`).
3. `token_env`: one static bearer token (the old setting). An OAuth 2.0 user token lasts two
   hours; an app-only token cannot post and is refused at preflight.

On this machine (the simulator), when the study names OAuth 1.0a or a bearer token but none
of its variables is exported, the simulator's built-in app is used (probes.sim.x.auth.SIM_APP).
Messages name variables, never their values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from probes.channels.common import sim_credential
from probes.channels.x.oauth1 import OAuth1Auth, OAuth1Credentials
from probes.channels.x.oauth2 import Client
from study.errors import StudyError
from study.model import ChannelSettings

OAUTH1_KEYS = (
    "consumer_key_env",
    "consumer_secret_env",
    "access_token_env",
    "access_token_secret_env",
)
OAUTH2_KEYS = ("client_id_env", "client_secret_env")

# The simulator's built-in app (also in probes.sim.x.auth.SimApp, which the simulator checks
# against; tests/probes/test_sim_x_auth.py keeps the two the same). Not secret.
SIM_CONSUMER = ("replybench-sim-consumer-key", "replybench-sim-consumer-secret")
SIM_ACCESS_TOKEN = "replybench-sim-access-token"
SIM_ACCESS_TOKEN_SECRET = "replybench-sim-access-token-secret"
SIM_CLIENT_ID = "replybench-sim-client-id"


@dataclass(frozen=True)
class XCredential:
    """One of: OAuth 1.0a credentials, an OAuth 2.0 client (pair in the store), a bearer
    token, or the simulator's built-in app (`sim`)."""

    kind: str  # "oauth1", "oauth2", "bearer", "sim"
    oauth1: OAuth1Credentials | None = None
    client: Client | None = None
    bearer: str = ""

    def __repr__(self) -> str:
        return f"XCredential({self.kind})"


def sim_access(account: str = "") -> tuple[str, str]:
    """The access token and secret of the simulator's built-in app for one probe account:
    the plain pair stands for the study's `[channels.x]` account, `account`'s own pair for
    any account the simulator serves (each persona's), so a simulated X tells them apart."""
    return sim_credential(SIM_ACCESS_TOKEN, account), sim_credential(
        SIM_ACCESS_TOKEN_SECRET, account
    )


def sim_oauth1(account: str = "") -> OAuth1Credentials:
    """The simulator's built-in app, signing as the probe account `account` (default: the
    study's `[channels.x]` account)."""
    return OAuth1Credentials(*SIM_CONSUMER, *sim_access(account))


def x_credential(
    settings: ChannelSettings, env: Mapping[str, str], *, loopback: bool, table: str = ""
) -> XCredential:
    """The credential `[channels.x]` names (or the persona's `table`, e.g. "[personas.anna]",
    which messages name); StudyError naming the variable that is missing."""
    table = table or f"[channels.{settings.name}]"
    options = dict(settings.options)
    oauth1 = [options.get(k, "") for k in OAUTH1_KEYS]
    if any(oauth1):
        missing = [k for k, v in zip(OAUTH1_KEYS, oauth1, strict=True) if not v]
        if missing:
            raise StudyError(
                f"study.toml {table}: {missing[0]} is missing: OAuth 1.0a needs all four of "
                f"{', '.join(OAUTH1_KEYS)} (each the name of an environment variable)"
            )
        values = [env.get(v, "").strip() for v in oauth1]
        if all(values):
            return XCredential("oauth1", oauth1=OAuth1Credentials(*values))
        if loopback and not any(values):
            return XCredential("sim")
        unset = next(v for v, value in zip(oauth1, values, strict=True) if not value)
        raise StudyError(
            f"study.toml {table}: environment variable {unset} is not set; export the "
            "X app's OAuth 1.0a keys and the probe account's access token and secret in the "
            "four variables named there (credentials never go in the study folder)"
        )
    client_id_env = options.get("client_id_env", "")
    if client_id_env:
        client_id = env.get(client_id_env, "").strip()
        if not client_id and loopback:
            client_id = SIM_CLIENT_ID
        if not client_id:
            raise StudyError(
                f"study.toml {table}: environment variable {client_id_env} is not set; "
                "export the X app's OAuth 2.0 client id in it"
            )
        secret = (
            env.get(options.get("client_secret_env", ""), "").strip()
            if options.get("client_secret_env")
            else ""
        )
        return XCredential("oauth2", client=Client(client_id, secret))
    token = env.get(settings.token_env, "").strip() if settings.token_env else ""
    if token:
        return XCredential("bearer", bearer=token)
    if loopback:
        return XCredential("sim")
    if not settings.token_env:
        raise StudyError(
            f"study.toml {table} names no credential; add the four OAuth 1.0a keys "
            f"({', '.join(OAUTH1_KEYS)}), or client_id_env for OAuth 2.0 (docs/going-live.md)"
        )
    raise StudyError(
        f"study.toml {table}: environment variable {settings.token_env} is not set; "
        "export the probe account's token in it (credentials never go in the study folder)"
    )


APP_ONLY_FIX = (
    "the X token in {var} is an app-only bearer token, which X refuses for posting, deleting "
    "and reading DMs; use OAuth 1.0a user context instead (consumer_key_env, "
    "consumer_secret_env, access_token_env, access_token_secret_env in study.toml "
    "[channels.x]), or OAuth 2.0 (client_id_env, then `replybench login x STUDY`)"
)


def sim_auth(account: str = "") -> OAuth1Auth:
    """Signing as the simulator's built-in app, for a hand-made client (tests, scripts), as
    the probe account `account` (default: the study's `[channels.x]` account): the simulator
    does not hold the timestamp against its clock, so real time will do."""
    from study.clock import SystemClock

    return OAuth1Auth(sim_oauth1(account), clock=SystemClock())
