"""Which brand (and country) a probe post is for, and scheduling its bot's answers.

A probe's brand and country come from `probe_index` (post text -> (brand, country), built
from the plan); an unknown text is treated with the handle's default profile: its brand's,
in its one country if the handle serves only one, else in UTC and English.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from probes.sim.common import plan_index, probe_for, schedule_answers
from probes.sim.profiles import SimSettings
from probes.sim.x.world import Post, World, mentioned_handles
from study.model import PlannedProbe, Study, Target


def probe_index(plan: Iterable[PlannedProbe]) -> dict[str, tuple[str, str]]:
    """Post text -> (brand, country) for every planned probe on X."""
    return plan_index(plan, "x")


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
        probes = [
            probe_for(
                self.study,
                self.probe_index,
                self.targets[handle.lower()],
                post.id,
                post.text,
                post.created_at,
                handle,
            )
            for handle in self.handles_in(post.text)
        ]
        schedule_answers(self.world.schedule, self.settings, probes, self.probe_account, "x")
