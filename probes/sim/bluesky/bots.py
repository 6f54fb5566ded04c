"""The Bluesky face's brand bots: the X face's decisions, applied to Bluesky posts.

A probe's brand and country come from the plan (`probe_index`: post text -> (brand,
country)); what the bot does is `probes.sim.bots.decide` with `simulator.toml`'s profile of
that brand in that country, exactly as on the X face, so a brand behaves alike on every
channel. A brand is notified of a probe by the post's mention facet naming its DID.
"""

from __future__ import annotations

from collections.abc import Mapping

from probes.sim.bluesky.world import CHANNEL, BlueskyWorld, Post, stranger_handle
from probes.sim.common import plan_index, probe_for, schedule_answers
from probes.sim.profiles import SimSettings
from probes.sim.texts import STRANGER_HANDLES
from study.model import PlannedProbe, Study, Target


def probe_index(plan: list[PlannedProbe]) -> dict[str, tuple[str, str]]:
    """Post text -> (brand, country) for every planned probe on Bluesky."""
    return plan_index(plan, CHANNEL)


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
        text = str(post.record.get("text", ""))
        probes = [
            probe_for(
                self.study,
                self.index,
                self.targets[did],
                post.number,
                text,
                post.indexed_at,
                self.world.by_did[did].handle,
            )
            for did in sorted(post.mentions)
            if did in self.targets
        ]
        schedule_answers(self.world.schedule, self.settings, probes, self.probe_account, "bluesky")
