"""A CSV file an importer reads: its rows with the line each starts on, or the problems."""

from __future__ import annotations

from pathlib import Path

from study.csvrows import Rows, check_header, read_sheet
from study.errors import Problem


def read_rows(
    path: Path, required: tuple[str, ...], optional: tuple[str, ...], out: list[Problem]
) -> Rows | None:
    """The non-blank rows of a CSV file with the physical line each starts on (the header is
    line 1), values stripped and absent optional columns as ''; None when no row can be read
    (the problems are added to `out`)."""
    name = str(path)
    shape = f"required: {', '.join(required)}; optional: {', '.join(optional)}"
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        out.append(Problem(name, None, "does not exist; check the path"))
        return None
    except UnicodeDecodeError:
        out.append(Problem(name, 1, 'is not UTF-8 text; save it as UTF-8 ("CSV UTF-8")'))
        return None

    def header_ok(line: int, header: list[str]) -> bool:
        return check_header(name, line, header, required, optional, shape, out)

    sheet = read_sheet(text, name, optional, header_ok, out)
    if sheet is None:
        return None
    if sheet.header is None:
        out.append(Problem(name, 1, f"is empty; start it with the header row ({shape})"))
        return None
    if not sheet.rows and not out:
        out.append(Problem(name, 1, "has no rows under the header; add one row per record"))
    return sheet.rows
