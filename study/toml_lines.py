"""Where tables and keys sit in a TOML file: tomllib keeps no line numbers, so problems found
in the parsed document are placed by reading the raw text (study.toml, simulator.toml)."""

from __future__ import annotations

import re
import tomllib

_HEADER = re.compile(r"^\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_BARE_OR_QUOTED = r"(?:[A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*')"
_KEY = re.compile(rf"^({_BARE_OR_QUOTED}(?:\s*\.\s*{_BARE_OR_QUOTED})*)\s*=")
_LINE_IN_ERROR = re.compile(r"at line (\d+)")


class TomlLines:
    """Where each table and key sits in a TOML text (the first line that names it)."""

    def __init__(self, text: str) -> None:
        self.lines: dict[tuple[str, ...], int] = {}
        table: tuple[str, ...] = ()
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if header := _HEADER.match(line):
                table = self._path(header.group(1))
                self._note(table, number)
            elif key := _KEY.match(line):
                self._note(table + self._path(key.group(1)), number)

    @staticmethod
    def _path(dotted: str) -> tuple[str, ...]:
        return tuple(part.strip().strip("\"'") for part in dotted.split("."))

    def _note(self, path: tuple[str, ...], number: int) -> None:
        for k in range(1, len(path) + 1):
            self.lines.setdefault(path[:k], number)

    def line(self, *path: str) -> int | None:
        """The line of `path`, or of its nearest enclosing table that has one."""
        for k in range(len(path), 0, -1):
            if path[:k] in self.lines:
                return self.lines[path[:k]]
        return None


def error_line(error: tomllib.TOMLDecodeError, text: str) -> int:
    """The line a TOML syntax error is on (the last line when tomllib does not say)."""
    found = _LINE_IN_ERROR.search(str(error))
    return int(found.group(1)) if found else len(text.splitlines())
