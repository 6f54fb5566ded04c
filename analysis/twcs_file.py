"""The TWCS file as DuckDB is given it: its columns from the header, and a copy without the
bare carriage returns that would end a row in any CSV reader (analysis.twcs reads it)."""

from __future__ import annotations

import mmap
import os
import shutil
from pathlib import Path

from study.errors import Problem, StudyError, StudyProblems

COLUMNS = {
    "tweet_id": "BIGINT",
    "author_id": "VARCHAR",
    "inbound": "BOOLEAN",
    "created_at": "VARCHAR",
    "text": "VARCHAR",
    "response_tweet_id": "VARCHAR",
    "in_response_to_tweet_id": "DOUBLE",
}
_PLACEHOLDER = b"\x1e"
_CHUNK = 1 << 20  # bytes copied at a time: a larger chunk costs fresh pages (1.8 s against 0.3)


def column_names(csv_path: Path) -> list[str]:
    """Column names for the reader, from the header (an unnamed first column is the index)."""
    try:
        with csv_path.open("r", encoding="utf-8-sig", newline="") as f:
            first = f.readline()
    except FileNotFoundError:
        raise StudyError(f"{csv_path}: does not exist; check the path") from None
    except UnicodeDecodeError:
        raise StudyError(f"{csv_path}:1: is not UTF-8 text; save it as UTF-8") from None
    header = [c.strip().strip('"') for c in first.rstrip("\r\n").split(",")]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        shape = ",".join(COLUMNS)
        raise StudyProblems(
            [
                Problem(str(csv_path), 1, f"has no column '{c}'; a TWCS file's header is {shape}")
                for c in missing
            ]
        )
    return [c if c else f"_column{i}" for i, c in enumerate(header)]


def without_bare_cr(src: Path, folder: Path) -> Path:
    """The file to read: `src` itself when it has no carriage return, else a copy in
    `folder` with each bare CR replaced by the placeholder (and CRLF by LF). Where every CR
    is bare (so the copy is as long), the copy is made by the kernel and patched where the
    CRs are (a few hundred in the real file): a fifth of the time of copying it through
    Python."""
    with src.open("rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return src
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            bare: list[int] = []
            at = data.find(b"\r")
            while at != -1 and data[at + 1 : at + 2] != b"\n":
                bare.append(at)
                at = data.find(b"\r", at + 1)
    if at == -1 and not bare:
        return src
    dest = folder / "twcs.csv"
    if at != -1:  # a CRLF: the copy is shorter
        _copy_without_cr(src, dest)
        return dest
    shutil.copyfile(src, dest)
    with dest.open("r+b") as out:
        for position in bare:
            out.seek(position)
            out.write(_PLACEHOLDER)
    return dest


def _copy_without_cr(src: Path, dest: Path) -> None:
    """`src` copied to `dest` through Python, in chunks: CRLF as LF, a bare CR as the
    placeholder."""
    with src.open("rb") as f, dest.open("wb") as out:
        carry = b""
        while chunk := f.read(_CHUNK):
            data = carry + chunk
            carry = b""
            if data.endswith(b"\r"):  # its LF, if any, is in the next chunk
                data, carry = data[:-1], b"\r"
            out.write(data.replace(b"\r\n", b"\n").replace(b"\r", _PLACEHOLDER))
        out.write(carry.replace(b"\r", _PLACEHOLDER))
