"""Which brand (and country) a probe post is for, and scheduling its bot's answers.

A probe's brand and country come from `probe_index` (post text -> (brand, country), built
from the plan); an unknown text is treated with the handle's default profile: its brand's,
in its one country if the handle serves only one, else in UTC and English.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from probes.sim.bots import Probe, decide, strangers
from probes.sim.profiles import SimSettings
from probes.sim.world import Post, World, mentioned_handles
from study.model import PlannedProbe, Study, Target


def probe_index(plan: Iterable[PlannedProbe]) -> dict[str, tuple[str, str]]:
    """Post text -> (brand, country) for every planned probe on X."""
    return {p.text: (p.brand, p.country) for p in plan if p.channel == "x"}


class BrandBots:
    """Every brand account of the study on X, and what its bot does about a probe."""

    def __init__(
        self,
        study: Study,
        settings: SimSettings,
        probe_index: Mapping[str, tuple[str, str]],
        world: World,
        probe_account: str,
    ) -> None:
        self.study = study
        self.settings = settings
        self.probe_index = dict(probe_index)
        self.world = world
        self.probe_account = probe_account
        self.targets: dict[str, list[Target]] = {}  # lower-case handle -> its targets
        for t in study.targets:
            if t.channel == "x" and t.handle:
                world.user(t.handle, name=t.brand_name, role="brand")
                self.targets.setdefault(t.handle.lower(), []).append(t)

    def handles_in(self, text: str) -> list[str]:
        """Brand handles a text mentions, in order, each once (as targets.csv spells them)."""
        seen = dict.fromkeys(h.lower() for h in mentioned_handles(text))
        return [self.world.users[h].username for h in seen if h in self.targets]

    def probe_posted(self, post: Post) -> None:
        """Schedule what the mentioned brands' bots (and maybe a stranger) will do."""
        handles = self.handles_in(post.text)
        for handle in handles:
            probe = self._probe(post, handle)
            profile = self.settings.profile(probe.brand, probe.country)
            for action in decide(probe, profile, self.settings.seed, self.probe_account):
                self.world.schedule(action)
        if handles:
            rate, seed = self.settings.stranger_rate, self.settings.seed
            for action in strangers(
                post.id, post.text, post.created_at, rate, seed, self.probe_account
            ):
                self.world.schedule(action)

    def _probe(self, post: Post, handle: str) -> Probe:
        targets = self.targets[handle.lower()]
        brand = targets[0].brand
        known = self.probe_index.get(post.text) or self.probe_index.get(post.text.strip())
        country: str | None = None
        if known is not None and known[0] == brand:
            country = known[1]
        elif len({t.country for t in targets}) == 1:
            country = targets[0].country
        timezone, language = "UTC", "en"
        for c in self.study.countries:
            if c.code == country:
                timezone, language = c.timezone, c.language
        return Probe(
            post.id, post.text, post.created_at, handle, brand, country, timezone, language
        )
