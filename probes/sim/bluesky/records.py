"""Checking what a client sends the Bluesky face: post records and query parameters.

Messages follow atproto's lexicon validator ("Invalid app.bsky.feed.post record: Record/text
must not be longer than 300 graphemes", as recorded from bsky.social; "Input must have the
property \"repo\""; "limit can not be greater than 100").
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx

from probes.sim.bluesky.views import invalid
from study.timeutil import parse_iso

POST = "app.bsky.feed.post"
MAX_GRAPHEMES = 300
MAX_BYTES = 3000
MAX_LANGS = 3
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})")
_DID = re.compile(r"did:[a-z]+:[a-zA-Z0-9._:%-]{1,2048}")
_HANDLE = re.compile(
    r"(?=.{1,253}\Z)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+"
    r"[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
)


def graphemes(text: str) -> int:
    """User-perceived characters, close to Unicode's extended grapheme clusters (UAX #29):
    combining marks, variation selectors, emoji modifiers and tags, and whatever a
    zero-width joiner joins count with the character before them; a pair of regional
    indicators (a flag) counts once."""
    count, previous, regional = 0, "", False
    for ch in text:
        cp = ord(ch)
        joins = (
            unicodedata.category(ch) in ("Mn", "Me", "Mc")
            or 0xFE00 <= cp <= 0xFE0F
            or 0x1F3FB <= cp <= 0x1F3FF
            or 0xE0020 <= cp <= 0xE007F
            or cp == 0x200D
            or previous == "\u200d"
        )
        is_regional = 0x1F1E6 <= cp <= 0x1F1FF
        if is_regional and regional:
            joins, regional = True, False
        else:
            regional = is_regional
        if not joins or not count:
            count += 1
        previous = ch
    return count


def is_datetime(value: object) -> bool:
    if not isinstance(value, str) or _DATETIME.fullmatch(value) is None:
        return False
    try:
        parse_iso(value)
    except ValueError:
        return False
    return True


def is_did(value: object) -> bool:
    return isinstance(value, str) and _DID.fullmatch(value) is not None


def is_handle(value: str) -> bool:
    return _HANDLE.fullmatch(value) is not None


def check_post(record: Mapping[str, Any]) -> None:
    """Refuse a post record the lexicon refuses (the parts a probe runner can get wrong)."""
    where = "Invalid app.bsky.feed.post record: Record"
    for key in ("text", "createdAt"):
        if key not in record:
            raise invalid(f'{where} must have the property "{key}"')
    text = record["text"]
    if not isinstance(text, str):
        raise invalid(f"{where}/text must be a string")
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise invalid(f"{where}/text must not be longer than {MAX_BYTES} characters")
    if graphemes(text) > MAX_GRAPHEMES:
        raise invalid(f"{where}/text must not be longer than {MAX_GRAPHEMES} graphemes")
    if not is_datetime(record["createdAt"]):
        raise invalid(
            f"{where}/createdAt must be an valid atproto datetime (both RFC-3339 and ISO-8601)"
        )
    langs = record.get("langs", [])
    if not isinstance(langs, list):
        raise invalid(f"{where}/langs must be an array")
    if len(langs) > MAX_LANGS:
        raise invalid(f"{where}/langs must not have more than {MAX_LANGS} elements")
    facets = record.get("facets", [])
    if not isinstance(facets, list):
        raise invalid(f"{where}/facets must be an array")
    for i, facet in enumerate(facets):
        _check_facet(facet, f"{where}/facets/{i}")
    reply = record.get("reply")
    if reply is not None:
        for key in ("root", "parent"):
            ref = reply.get(key) if isinstance(reply, dict) else None
            if not isinstance(ref, dict) or not all(
                isinstance(ref.get(k), str) for k in ("uri", "cid")
            ):
                raise invalid(f"{where}/reply/{key} must be a strongRef with uri and cid")


def _check_facet(facet: object, where: str) -> None:
    if not isinstance(facet, dict):
        raise invalid(f"{where} must be an object")
    index = facet.get("index")
    if not isinstance(index, dict):
        raise invalid(f'{where} must have the property "index"')
    for key in ("byteStart", "byteEnd"):
        value = index.get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            raise invalid(f"{where}/index/{key} must be an integer")
        if value < 0:
            raise invalid(f"{where}/index/{key} can not be less than 0")
    features = facet.get("features")
    if not isinstance(features, list):
        raise invalid(f'{where} must have the property "features"')
    for j, feature in enumerate(features):
        if not isinstance(feature, dict) or not isinstance(feature.get("$type"), str):
            raise invalid(f'{where}/features/{j} must have the property "$type"')
        if feature["$type"] == "app.bsky.richtext.facet#mention" and not is_did(feature.get("did")):
            raise invalid(f"{where}/features/{j}/did must be a valid did")


# -- query parameters -----------------------------------------------------------------------


def required(params: httpx.QueryParams, name: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise invalid(f'Params must have the property "{name}"')
    return str(value)


def limit(params: httpx.QueryParams, *, default: int = 50, high: int = 100) -> int:
    raw = params.get("limit")
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid("limit must be an integer") from None
    if value < 1:
        raise invalid("limit can not be less than 1")
    if value > high:
        raise invalid(f"limit can not be greater than {high}")
    return value


def time_cursor(params: httpx.QueryParams) -> datetime | None:
    raw = params.get("cursor")
    if not raw:
        return None
    try:
        return parse_iso(raw)
    except ValueError:
        raise invalid("Malformed cursor") from None


def input_object(request: httpx.Request, *keys: str) -> dict[str, Any]:
    """The JSON body of a procedure, with `keys` required."""
    try:
        body = json.loads(request.content or b"null")
    except ValueError:
        raise invalid("Input must be valid JSON") from None
    if not isinstance(body, dict):
        raise invalid("Input must be an object")
    for key in keys:
        if key not in body:
            raise invalid(f'Input must have the property "{key}"')
    return body
