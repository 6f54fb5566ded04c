"""Brand bots, on every face alike: which brand and country a probe post is for, and
scheduling what the brand's bot (and maybe a stranger) does about it.

A probe's brand and country come from `probe_index` (post text -> (brand, country), built
from the plan); an unknown text is treated with the handle's default profile: its brand's,
in its one country if the handle serves only one, else in UTC and English. What the bot does
is `probes.sim.bots.decide` with `simulator.toml`'s profile of that brand in that country,
so a brand behaves alike on every channel; only each face's medium differs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import ClassVar, Generic, TypeVar

from probes.sim.bots import Probe, decide, strangers
from probes.sim.preferences import PERSONA, preferred
from probes.sim.profiles import SimSettings, study_settings
from probes.sim.world import DueActions
from study.model import PlannedProbe, Study, Target


def plan_index(plan: Iterable[PlannedProbe], channel: str) -> dict[str, tuple[str, str]]:
    """Post text -> (brand, country) for every planned probe on `channel`."""
    return {p.text: (p.brand, p.country) for p in plan if p.channel == channel}


def sender_index(study: Study, channel: str) -> dict[str, dict[str, str]]:
    """Post text -> the attributes of the persona that sends it (its name under "persona"),
    for every planned probe on `channel`: no two personas send a brand the same text."""
    from study.personas import personas_of
    from study.plan import make_plan

    attributes = {p.name: {**dict(p.attributes), PERSONA: p.name} for p in personas_of(study)}
    return {p.text: attributes[p.sender] for p in make_plan(study) if p.channel == channel}


def planned(study: Study, channel: str) -> tuple[SimSettings, dict[str, tuple[str, str]]]:
    """What `replybench sim` builds a face from: `simulator.toml` from the study's folder
    (`study.path`) and the probe index of the study's plan on `channel`."""
    from study.plan import make_plan

    settings = study_settings(study)
    return settings, plan_index(make_plan(study), channel)


def probe_for(
    study: Study,
    index: Mapping[str, tuple[str, str]],
    targets: Sequence[Target],
    post_id: int,
    text: str,
    at: datetime,
    handle: str,
) -> Probe:
    """The probe a brand's bot sees in a post of the probe account that mentions it.

    The plan's texts are what the runner posts: they find the probe's country, and with it
    the language and service hours the brand answers in; an unknown text gets the handle's
    one country if it serves only one, else UTC and English."""
    brand = targets[0].brand
    known = index.get(text) or index.get(text.strip())
    country: str | None = None
    if known is not None and known[0] == brand:
        country = known[1]
    elif len({t.country for t in targets}) == 1:
        country = targets[0].country
    timezone, language = "UTC", "en"
    for c in study.countries:
        if c.code == country:
            timezone, language = c.timezone, c.language
    return Probe(post_id, text, at, handle, brand, country, timezone, language)


W = TypeVar("W", bound=DueActions)


class BrandBots(Generic[W]):
    """Every brand account of the study on one face's `CHANNEL`, and what its bot does about
    a probe. A face's subclass makes the brands' accounts (`_brand_account`) and finds the
    brands a probe post mentions."""

    CHANNEL: ClassVar[str]

    def __init__(
        self,
        study: Study,
        settings: SimSettings,
        probe_index: Mapping[str, tuple[str, str]],
        world: W,
        probe_account: str,
    ) -> None:
        self.study = study
        self.settings = settings
        self.probe_index = dict(probe_index)
        self.world = world
        self.probe_account = probe_account
        self.targets: dict[str, list[Target]] = {}  # the brand account's key -> its targets
        # Post text -> its persona's attributes, only where brands prefer some personas.
        self.senders = sender_index(study, self.CHANNEL) if settings.preferences else {}
        for t in study.targets:
            if t.channel == self.CHANNEL and t.handle:
                self.targets.setdefault(self._brand_account(t), []).append(t)
                # The brand's support account (answer_from) exists too, as the brand's: it
                # answers but is not asked.
                support = settings.profile(t.brand, t.country, self.CHANNEL).answer_from
                if support:
                    self._brand_account(replace(t, handle=support))

    def _brand_account(self, target: Target) -> str:
        """Make the target's brand account in the world; its key in `targets`."""
        raise NotImplementedError

    def schedule(
        self, brands: Iterable[tuple[str, str]], post_id: int, text: str, at: datetime
    ) -> None:
        """Schedule what the mentioned brands' bots (and maybe a stranger) will do about one
        probe post; `brands` are the (key in `targets`, handle) of the brands it mentions."""
        probes = [
            probe_for(self.study, self.probe_index, self.targets[key], post_id, text, at, handle)
            for key, handle in brands
        ]
        for probe in probes:
            profile = self.settings.profile(probe.brand, probe.country, self.CHANNEL)
            sender = self.senders.get(text) or self.senders.get(text.strip())
            if sender is not None:
                profile = preferred(profile, self.settings.preferences_of(probe.brand), sender)
            for action in decide(probe, profile, self.settings.seed, self.probe_account):
                self.world.schedule(action)
        if probes:
            rate, seed = self.settings.stranger_rate, self.settings.seed
            for action in strangers(post_id, text, at, rate, seed, self.probe_account):
                self.world.schedule(action)
