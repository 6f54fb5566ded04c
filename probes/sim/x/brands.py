"""The X face's brand bots: every brand account of the study on X (see `probes.sim.brands`)."""

from __future__ import annotations

from collections.abc import Iterable

from probes.sim.brands import BrandBots, plan_index
from probes.sim.x.world import Post, World, mentioned_handles
from study.model import PlannedProbe, Target


def probe_index(plan: Iterable[PlannedProbe]) -> dict[str, tuple[str, str]]:
    """Post text -> (brand, country) for every planned probe on X."""
    return plan_index(plan, "x")


class XBrands(BrandBots[World]):
    """Brand accounts by lower-case handle; a probe reaches the brands it @mentions."""

    CHANNEL = "x"

    def _brand_account(self, target: Target) -> str:
        self.world.user(target.handle, name=target.brand_name, role="brand")
        return target.handle.lower()

    def handles_in(self, text: str) -> list[str]:
        """Brand handles a text mentions, in order, each once (as targets.csv spells them)."""
        seen = dict.fromkeys(h.lower() for h in mentioned_handles(text))
        return [self.world.users[h].username for h in seen if h in self.targets]

    def probe_posted(self, post: Post) -> None:
        """Schedule what the mentioned brands' bots (and maybe a stranger) will do."""
        brands = [(h.lower(), h) for h in self.handles_in(post.text)]
        self.schedule(brands, post.id, post.text, post.created_at)
