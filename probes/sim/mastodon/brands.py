"""The Mastodon face's brand bots (see `probes.sim.brands`): a brand is reached by a status
that mentions its account."""

from __future__ import annotations

from collections.abc import Iterable

from probes.sim.brands import BrandBots, plan_index
from probes.sim.mastodon.world import CHANNEL, Account, MastodonWorld, Status
from study.model import PlannedProbe, Target


def probe_index(plan: Iterable[PlannedProbe]) -> dict[str, tuple[str, str]]:
    """Status text -> (brand, country) for every planned probe on Mastodon."""
    return plan_index(plan, CHANNEL)


class MastodonBrands(BrandBots[MastodonWorld]):
    """Brand accounts by lower-case `user@domain`."""

    CHANNEL = CHANNEL

    def _brand_account(self, target: Target) -> str:
        account = self.world.account(target.handle, name=target.brand_name, role="brand")
        return account.full.lower()

    def brands_in(self, status: Status) -> list[Account]:
        return [a for a in status.mentions if a.full.lower() in self.targets]

    def probe_posted(self, status: Status) -> None:
        """Schedule what the mentioned brands' bots (and maybe a stranger) will do."""
        keys = [a.full.lower() for a in self.brands_in(status)]
        brands = [(key, self.targets[key][0].handle.lstrip("@")) for key in keys]
        self.schedule(brands, status.id, status.text, status.created_at)
