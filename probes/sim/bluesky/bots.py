"""The Bluesky face's brand bots (see `probes.sim.brands`): a brand is notified of a probe
by the post's mention facet naming its DID."""

from __future__ import annotations

from probes.sim.bluesky.world import CHANNEL, BlueskyWorld, Post
from probes.sim.brands import BrandBots, plan_index
from study.model import PlannedProbe, Target


def probe_index(plan: list[PlannedProbe]) -> dict[str, tuple[str, str]]:
    """Post text -> (brand, country) for every planned probe on Bluesky."""
    return plan_index(plan, CHANNEL)


class BlueskyBots(BrandBots[BlueskyWorld]):
    """Brand accounts by DID."""

    CHANNEL = CHANNEL

    def _brand_account(self, target: Target) -> str:
        return self.world.account(target.handle, name=target.brand_name, role="brand").did

    def probe_posted(self, post: Post) -> None:
        """Schedule what the mentioned brands' bots (and maybe a stranger) will do."""
        mentioned = [d for d in sorted(post.mentions) if d in self.targets]
        brands = [(did, self.world.by_did[did].handle) for did in mentioned]
        self.schedule(brands, post.number, str(post.record.get("text", "")), post.indexed_at)
