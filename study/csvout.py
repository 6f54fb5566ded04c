"""CSV that any reader splits into the same rows and fields, whatever the texts hold.

Python's csv module (3.11) quotes a field only when it holds the delimiter, the quote
character or a character of the line terminator. With "\\n" as the terminator, a text with a
bare carriage return (TWCS replies have them) is written unquoted, and every reader (Python's
csv, pandas, DuckDB, a spreadsheet) ends the row there. Writing with "\\r\\n" quotes every
field holding "\\r" or "\\n"; each record's own terminator is then turned back into "\\n", so
files without such texts keep the bytes they always had.

Texts are written as they are: a leading '=', '+', '-' or '@' is not escaped against
spreadsheet formulas (nothing in replybench does so), since an escape would change the text
every other reader gets back.
"""

from __future__ import annotations

import csv
import io
from typing import Any, Protocol


class _Sink(Protocol):
    def write(self, text: str, /) -> Any: ...


class _Records:
    """A file-like object for csv writers: each write is one record ending in "\\r\\n"."""

    def __init__(self, sink: _Sink) -> None:
        self._sink = sink

    def write(self, record: str) -> None:
        self._sink.write(record[:-2] + "\n" if record.endswith("\r\n") else record)


def writer(sink: _Sink) -> Any:
    """A csv.writer onto `sink` (e.g. io.StringIO) whose records end in "\\n"."""
    return csv.writer(_Records(sink), lineterminator="\r\n")


def frame_text(frame: Any) -> str:
    """A pandas DataFrame as CSV text (no index), every text field safely quoted."""
    buf = io.StringIO()
    frame.to_csv(_Records(buf), index=False, lineterminator="\r\n")
    return buf.getvalue()
