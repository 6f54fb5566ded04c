"""Problems of one simulator.toml, each at its line, and the study's names a table must use
(probes.sim.profiles reads the file with it)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from study.countries import suggest_country
from study.csvrows import suggest
from study.errors import Problem
from study.toml_lines import TomlLines

FILE = "simulator.toml"


Path_ = tuple[str, ...]  # where a table or key is: ("brands", "acme", "countries", "DE")


class Check:
    """Collects every problem of one simulator.toml, each at its line when the text is known
    (else the message's table says where), and what the study has for the typo checks."""

    def __init__(
        self,
        lines: TomlLines | None,
        brands: Collection[str] | None,
        countries: Collection[str] | None,
        channels: Collection[str] | None,
        attributes: Mapping[str, Collection[str]] | None = None,
    ) -> None:
        self.lines = lines
        self.brands, self.countries, self.channels = brands, countries, channels
        self.attributes = attributes  # persona attribute -> its levels ("persona": names)
        self.problems: list[Problem] = []
        self.paths: list[Path_] = []  # where each problem is

    def add(self, path: Path_, message: str) -> None:
        line = self.lines.line(*path) if self.lines is not None and path else None
        self.problems.append(Problem(FILE, line, message))
        self.paths.append(path)

    def spoils(self, brand: str | None, country: str | None, channel: str | None) -> bool:
        """Whether a problem was found in a table that makes up this layer ([defaults] for
        all), so that resolving it would repeat the problem in other words."""
        for p in self.paths:
            if p[:1] == ("defaults",):
                return True
            if brand is None or p[:2] != ("brands", brand):
                continue
            if len(p) < 3 or p[2] not in ("countries", "channels"):
                return True  # the brand's own keys
            if p[2:4] in (("countries", country), ("channels", channel)):
                return True
        return False

    def table(self, parent: Mapping[str, Any], path: Path_) -> dict[str, Any]:
        """The table at `path` under `parent` ({} when absent or not a table)."""
        value = parent.get(path[-1], {})
        if isinstance(value, dict):
            return value
        self.add(
            path,
            f"{table_name(path)} must be a table, not {value!r}; write it as {table_name(path)}",
        )
        return {}

    def known(self, table: Mapping[str, Any], keys: Sequence[str], path: Path_) -> None:
        for key in table:
            if key not in keys:
                meant = suggest(key, list(keys))
                fix = f"did you mean '{meant}'?" if meant else f"known keys: {', '.join(keys)}"
                where = f"in {table_name(path)}" if path else "at the top level"
                self.add((*path, key), f"unknown key '{key}' {where}; {fix}")

    def named(self, name: str, known: Collection[str] | None, path: Path_, what: str) -> bool:
        """Whether `name` is one of the study's `known` names (all are when not given); if
        not, `what` is said about it with the name probably meant."""
        if known is None or name in known:
            return True
        meant = suggest_country(name) if known is self.countries else None
        meant = meant if meant in known else suggest(name, sorted(known))
        fix = f"did you mean '{meant}'?" if meant else f"the study has {', '.join(sorted(known))}"
        self.add(path, f"{what}; {fix}")
        return False


def table_name(path: Path_) -> str:
    return "[" + ".".join(path) + "]"
