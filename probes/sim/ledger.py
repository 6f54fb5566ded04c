"""The simulator's ground truth: every post, DM and deletion it accepted, one JSON a line.

`DIR/sim/ledger.jsonl` is written as things happen and flushed at once, so an audit can
compare the runner's journal with what really happened on the platform, even after a crash.
Each line has `kind` ("post", "dm" or "deleted"), `id`, `author`, `author_id`, `text`,
`created_at`, `in_reply_to_id`, `conversation_id`; DMs add `recipient` and `recipient_id`.
Posts and DMs of bots and strangers add `role`, `reply_kind` (what a perfect runner calls it),
`probe_post_id`, and for brands `brand` and `country`.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any


class Ledger:
    """Append-only JSON lines; safe to share between threads.

    Each line is appended and the file closed again at once: nothing is lost to a crash, and
    nobody has to remember to close a ledger.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def write(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock, self.path.open("a", encoding="utf-8") as f:
            f.write(line)

    def close(self) -> None:
        """Nothing stays open; kept so owners can say they are done."""


def read_ledger(path: Path) -> list[dict[str, Any]]:
    """Every entry of a ledger, in the order written (a torn last line is skipped)."""
    entries: list[dict[str, Any]] = []
    if not path.exists():
        return entries
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return entries
