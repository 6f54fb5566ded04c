"""Brands' names and sectors in an imported CSV (optional `brand_name` and `sector` columns).

Each is the same on every row of a brand (an empty cell is a value too: name a brand on all
of its rows or on none), and the same as an earlier import into the journal gave; otherwise
`FILE:line` names the row and the value to write. The journal keeps them in its `brands`
table; the published site and the exports show them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from sqlite3 import Connection

import pandas as pd

from study.csvrows import name_problem
from study.errors import Problem
from study.journal.imports import brand_rows, store_brands
from study.journal.tables import read_brands
from study.load_tables import TARGET_LIMITS

NAME_COLUMNS = ("brand_name", "sector")


@dataclass(frozen=True)
class BrandName:
    brand: str
    name: str
    sector: str


def name_problems(values: dict[str, str]) -> list[str]:
    """Why a row's brand_name or sector cannot be shown (a control character, too long)."""
    return [p for c in NAME_COLUMNS if (p := name_problem(c, values[c], TARGET_LIMITS[c]))]


def brand_names(
    file: str,
    rows: list[tuple[int, str, str, str]],
    known: dict[str, BrandName],
    out: list[Problem],
) -> list[BrandName]:
    """The names and sectors `rows` (line, brand, brand_name, sector) give, each brand's
    checked against its other rows and against `known` (the journal's); problems go to `out`.
    Only brands given a name or a sector are returned."""
    first: dict[str, tuple[int, str, str]] = {}
    for line, brand, name, sector in rows:
        was = first.setdefault(brand, (line, name, sector))
        for column, value, before in (("brand_name", name, was[1]), ("sector", sector, was[2])):
            if value != before:
                out.append(
                    Problem(
                        file, line,
                        f"brand '{brand}' has {column} '{value}' here but '{before}' on line "
                        f"{was[0]}; write one {column} on every row of a brand",
                    )
                )  # fmt: skip
    found = []
    for brand, (line, name, sector) in first.items():
        old = known.get(brand)
        if old is not None:
            pairs = (("brand_name", name, old.name), ("sector", sector, old.sector))
            for column, value, before in pairs:
                if value and before and value != before:
                    out.append(
                        Problem(
                            file, line,
                            f"brand '{brand}' has {column} '{value}' here but '{before}' in the "
                            f"journal (an earlier import); write '{before}', or import into a "
                            "new study folder",
                        )
                    )  # fmt: skip
        if name or sector:
            found.append(BrandName(brand, name, sector))
    return found


def journal_names(con: Connection) -> dict[str, BrandName]:
    """The names and sectors a journal holds (none in a journal made before they existed)."""
    return _named(brand_rows(con))


def store_names(con: Connection, names: list[BrandName]) -> None:
    """Record brands' names and sectors; a value already there is kept where none is given."""
    store_brands(con, [(n.brand, n.name, n.sector) for n in names])


def read_names(study_dir: Path) -> dict[str, BrandName]:
    """The names and sectors in a study's journal."""
    return _named(read_brands(study_dir))


def _named(rows: list[tuple[str, str, str]]) -> dict[str, BrandName]:
    return {b: BrandName(b, n, s) for b, n, s in rows}


def with_names(df: pd.DataFrame, names: dict[str, BrandName]) -> pd.DataFrame:
    """`df` with columns brand_name and sector after its brand column, when the journal
    names any brand (a brand it does not name gets its identifier and no sector)."""
    if not names or "brand" not in df.columns:
        return df
    df = df.copy()
    at = list(df.columns).index("brand") + 1
    df.insert(at, "sector", [names[b].sector if b in names else "" for b in df["brand"]])
    df.insert(at, "brand_name", [(names[b].name or b) if b in names else b for b in df["brand"]])
    return df
