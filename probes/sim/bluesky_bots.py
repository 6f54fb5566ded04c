"""The Bluesky face's brand bots: the X face's decisions, applied to Bluesky posts.

A probe's brand and country come from the plan (`probe_index`: post text -> (brand,
country)); what the bot does is `probes.sim.bots.decide` with `simulator.toml`'s profile of
that brand in that country, exactly as on the X face, so a brand behaves alike on every
channel. A brand is notified of a probe by the post's mention facet naming its DID.
"""

from __future__ import annotations

from collections.abc import Mapping

from probes.sim.bluesky_world import CHANNEL, BlueskyWorld, Post, stranger_handle
from probes.sim.bots import Probe, decide, strangers
from probes.sim.profiles import SimSettings
from probes.sim.texts import STRANGER_HANDLES
from study.model import PlannedProbe, Study, Target


def probe_index(plan: list[PlannedProbe]) -> dict[str, tuple[str, str]]:
    """Post text -> (brand, country) for every planned probe on Bluesky."""
    return {p.text: (p.brand, p.country) for p in plan if p.channel == CHANNEL}


class BlueskyBots:
    """Every brand account of the study on Bluesky, and what its bot does about a probe."""

    def __init__(
        self,
        study: Study,
        settings: SimSettings,
        index: Mapping[str, tuple[str, str]],
        world: BlueskyWorld,
        probe_account: str,
    ) -> None:
        self.study = study
        self.settings = settings
        self.index = dict(index)
        self.world = world
        self.probe_account = probe_account
        self.targets: dict[str, list[Target]] = {}  # brand DID -> its targets
        for t in study.targets:
            if t.channel == CHANNEL and t.handle:
                account = world.account(t.handle, name=t.brand_name, role="brand")
                self.targets.setdefault(account.did, []).append(t)
        for name in STRANGER_HANDLES:
            world.account(stranger_handle(name))

    def probe_posted(self, post: Post) -> None:
        """Schedule what the mentioned brands' bots (and maybe a stranger) will do."""
        brands = [did for did in sorted(post.mentions) if did in self.targets]
        text = str(post.record.get("text", ""))
        for did in brands:
            probe = self._probe(post, text, did)
            profile = self.settings.profile(probe.brand, probe.country)
            for action in decide(probe, profile, self.settings.seed, self.probe_account):
                self.world.schedule(action)
        if brands:
            rate, seed = self.settings.stranger_rate, self.settings.seed
            for action in strangers(
                post.number, text, post.indexed_at, rate, seed, self.probe_account
            ):
                self.world.schedule(action)

    def _probe(self, post: Post, text: str, did: str) -> Probe:
        targets = self.targets[did]
        brand = targets[0].brand
        known = self.index.get(text) or self.index.get(text.strip())
        country: str | None = None
        if known is not None and known[0] == brand:
            country = known[1]
        elif len({t.country for t in targets}) == 1:
            country = targets[0].country
        timezone, language = "UTC", "en"
        for c in self.study.countries:
            if c.code == country:
                timezone, language = c.timezone, c.language
        handle = self.world.by_did[did].handle
        return Probe(post.number, text, post.indexed_at, handle, brand, country, timezone, language)
