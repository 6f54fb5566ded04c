"""How a brand's bot behaves in the simulator: service hours, answer rates and latencies, one
`Profile` per brand, country and channel, resolved from the layers of `simulator.toml`
(`probes.sim.profiles` reads and checks the file; docs/simulator.md documents it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import time
from typing import Any

from probes.sim.preferences import Preference, for_brand
from study.errors import StudyError


@dataclass(frozen=True)
class ServiceHours:
    """When a brand's team works, in the local time of the probe's country."""

    days: frozenset[int]  # 0 = Monday ... 6 = Sunday
    opens: time
    closes: time | None  # exclusive; None means midnight at the end of the day

    @property
    def always(self) -> bool:
        return len(self.days) == 7 and self.opens == time(0) and self.closes is None


@dataclass(frozen=True)
class Profile:
    """One brand's behaviour in one country."""

    answer_rate: float  # chance that a probe gets an answer at all
    median_minutes: float  # median latency of the answer, in service minutes
    sigma: float  # log-normal spread of the latency
    hours: ServiceHours
    redirect_share: float  # of answers: a public "please DM us" instead of an answer
    redirect_dm_rate: float  # of redirects: followed by an answer in a DM
    dm_followup_minutes: float  # median delay of that DM after the redirect
    dm_share: float  # of answers: given by DM only, nothing public
    auto_ack_share: float  # of probes: an immediate automatic acknowledgement
    answers_only: frozenset[str]  # country codes a (global) account answers; empty: all
    # Of answers: given from another account of the brand, e.g. its support account (list it
    # in targets.csv's answers_from for the answer to count as the brand's).
    answer_from: str = ""
    answer_from_share: float = 0.0


@dataclass(frozen=True)
class SimSettings:
    """Everything `simulator.toml` says; `profile` resolves one brand in one country."""

    seed: int
    stranger_rate: float  # share of probes that also get a mention from a stranger
    defaults: Profile
    brands: Mapping[str, Mapping[str, Any]]  # brand -> its keys (validated)
    overrides: Mapping[tuple[str, str], Mapping[str, Any]]  # (brand, country) -> keys
    by_channel: Mapping[tuple[str, str], Mapping[str, Any]] = field(default_factory=dict)
    # the Mastodon probe account's notification policy (None: a fresh 4.3 account's)
    mastodon_policy: Mapping[str, str] | None = None
    # brand (None: every brand) -> how it treats personas (probes.sim.preferences)
    preferences: Mapping[str | None, tuple[Preference, ...]] = field(default_factory=dict)

    def preferences_of(self, brand: str | None) -> tuple[Preference, ...]:
        """The brand's preferences among personas (its own, then those for every brand)."""
        return for_brand(self.preferences, brand)

    def profile(
        self, brand: str | None, country: str | None = None, channel: str | None = None
    ) -> Profile:
        """The brand's profile in one country on one channel (the layers in order)."""
        merged: dict[str, Any] = {}
        if brand is not None:
            merged.update(self.brands.get(brand, {}))
            if channel is not None:
                merged.update(self.by_channel.get((brand, channel), {}))
            if country is not None:
                merged.update(self.overrides.get((brand, country), {}))
        return apply_layer(self.defaults, merged)


DEFAULT_PROFILE = Profile(
    answer_rate=0.6,
    median_minutes=180.0,
    sigma=1.0,
    hours=ServiceHours(frozenset(range(5)), time(9), time(18)),
    redirect_share=0.15,
    redirect_dm_rate=0.8,
    dm_followup_minutes=20.0,
    dm_share=0.05,
    auto_ack_share=0.0,
    answers_only=frozenset(),
)
DEFAULT_STRANGER_RATE = 0.05


def default_settings(seed: int) -> SimSettings:
    return SimSettings(seed, DEFAULT_STRANGER_RATE, DEFAULT_PROFILE, {}, {})


def apply_layer(base: Profile, keys: Mapping[str, Any]) -> Profile:
    """`base` with the (already checked) keys of one layer applied."""
    changes: dict[str, Any] = {
        k: v for k, v in keys.items() if k not in ("days", "opens", "closes", "answers_only")
    }
    if "answers_only" in keys:
        changes["answers_only"] = frozenset(keys["answers_only"])
    hours = base.hours
    if "days" in keys:
        hours = replace(hours, days=frozenset(keys["days"]))
    if "opens" in keys:
        hours = replace(hours, opens=keys["opens"])
    if "closes" in keys:
        hours = replace(hours, closes=keys["closes"])
    if hours.closes is not None and hours.closes <= hours.opens:
        raise StudyError(
            f"service hours close ({hours.closes:%H:%M}) before they open "
            f"({hours.opens:%H:%M}); service hours do not cross midnight: close later"
        )
    profile = replace(base, hours=hours, **changes)
    if profile.redirect_share + profile.dm_share > 1:
        raise StudyError(
            f"redirect_share ({profile.redirect_share}) and dm_share "
            f"({profile.dm_share}) are shares of the same answers and add up to more than 1; "
            "lower one of them"
        )
    return profile
