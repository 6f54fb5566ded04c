"""The keys of study.toml that say how the runner rides out an outage: `catch_up` and
`max_outage_minutes` in `[study]`, and the optional `[alerts]` table (docs/study-folder.md,
"When the runner is cut off"); and `confirm`: a person confirms each send (docs/running.md)."""

from __future__ import annotations

import re
from typing import Any

from study.load_channels import Rule, is_number, is_text
from study.model import Alerts

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

DEFAULT_MAX_OUTAGE_MINUTES = 60.0
DEFAULT_UNREACHABLE_MINUTES = 15.0

RUNNER_RULES = {
    "catch_up": Rule(
        "true or false",
        "write true to send a probe whose slot passed while the runner was down in the next "
        "occurrence of its slot, false to record it as missed",
        lambda v: isinstance(v, bool),
        optional=True,
        default="true",
    ),
    "confirm": Rule(
        "true or false",
        "write true to have a person confirm each send (replybench run --confirm), false to "
        "send unattended",
        lambda v: isinstance(v, bool),
        optional=True,
        default="false",
    ),
    "max_outage_minutes": Rule(
        "a number of minutes > 0",
        "set how long the runner keeps trying a channel it cannot reach before it exits, e.g. 60",
        lambda v: is_number(v) and v > 0,
        optional=True,
        default="60",
    ),
}
ALERT_RULES = {
    "url_env": Rule(
        "the name of an environment variable",
        'name the variable that holds the apprise URL(s), e.g. "REPLYBENCH_ALERT_URL"',
        lambda v: is_text(v) and _ENV_NAME.fullmatch(v) is not None,
        secret=True,  # an URL put here by mistake holds a secret: never echo it
    ),
    "unreachable_minutes": Rule(
        "a number of minutes > 0",
        "set how long a channel may be out of reach before a person is told, e.g. 15",
        lambda v: is_number(v) and v > 0,
        optional=True,
        default="15",
    ),
}


def runner_settings(values: dict[str, Any]) -> dict[str, Any]:
    """The Study fields the `[study]` table's runner keys give (defaults filled in)."""
    return {
        "catch_up": bool(values.get("catch_up", True)),
        "max_outage_minutes": float(values.get("max_outage_minutes", DEFAULT_MAX_OUTAGE_MINUTES)),
        "confirm": bool(values.get("confirm", False)),
    }


def alert_settings(values: dict[str, Any]) -> Alerts:
    """A checked `[alerts]` table as `Alerts`."""
    minutes = float(values.get("unreachable_minutes", DEFAULT_UNREACHABLE_MINUTES))
    return Alerts(url_env=values["url_env"], unreachable_minutes=minutes)
