"""The probe account's inbox on Bluesky: its notifications (replies, mentions, quotes) and its
chat conversations, each read newest first back to the last item seen, so that one poll costs
work in proportion to what is new. Endpoints as documented at https://docs.bsky.app/docs/api
(app.bsky.notification.listNotifications, chat.bsky.convo.listConvos and getMessages).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import aclosing
from typing import Any

from probes.channels.base import AuthError, Cursor, Reply
from probes.channels.bluesky import parse as bp
from probes.channels.bluesky.session import NoDmAccess, XrpcSession, paged

NOTIFICATIONS = "app.bsky.notification.listNotifications"
CONVOS = "chat.bsky.convo.listConvos"
MESSAGES = "chat.bsky.convo.getMessages"


class Inbox:
    """Reads the inbox of the account `xrpc` is logged in as; the cursor keeps the newest
    notification seen (`seen_indexed_at`, `seen_uris`) and the newest chat revision seen
    (`dm_rev`)."""

    def __init__(self, xrpc: XrpcSession) -> None:
        self.xrpc = xrpc

    async def check_dms(self) -> None:
        """Raise AuthError unless the session may read the account's direct messages."""
        await self._read_chat(CONVOS, {"limit": "1"})

    async def notifications(self, me: str, cursor: Cursor) -> list[Reply]:
        """Notifications newer than the cursor's, newest first page by page (updates it)."""
        seen_at = bp.timestamp(cursor.get("seen_indexed_at"))
        seen = set(cursor.get("seen_uris", "").split())
        newest_text, newest_at, newest_uris = cursor.get("seen_indexed_at"), seen_at, set(seen)
        fresh: list[Reply] = []
        params = {"limit": "100", "reasons": list(bp.INBOX_REASONS)}
        read = paged(self.xrpc.get_json, NOTIFICATIONS, params, "notifications")
        async with aclosing(read) as pages:
            async for page in pages:
                older = False
                for item in bp.items(page, "notifications"):
                    at, uri = bp.timestamp(item.get("indexedAt")), str(item.get("uri", ""))
                    if at is None:
                        continue
                    if seen_at is not None and (at < seen_at or (at == seen_at and uri in seen)):
                        older = older or at < seen_at
                        continue
                    if newest_at is None or at > newest_at:
                        newest_text, newest_at, newest_uris = item["indexedAt"], at, {uri}
                    elif at == newest_at:
                        newest_uris.add(uri)
                    reply = bp.notification_reply(item, me)
                    if reply is not None:
                        fresh.append(reply)
                if older:
                    break
        if newest_text is not None:
            cursor["seen_indexed_at"] = str(newest_text)
            cursor["seen_uris"] = " ".join(sorted(newest_uris))
        return fresh

    async def dms(self, me: str, cursor: Cursor) -> list[Reply]:
        """Chat messages newer than the cursor's revision: conversations come most recently
        active first, so only those with new messages are opened (updates the cursor)."""
        mark = cursor.get("dm_rev")
        newest = mark
        fresh: list[Reply] = []
        async with aclosing(paged(self._read_chat, CONVOS, {"limit": "100"}, "convos")) as pages:
            async for page in pages:
                convos = bp.items(page, "convos")
                new = [c for c in convos if _after(c.get("rev"), mark)]
                for convo in new:
                    messages, rev = await self._messages(convo, me, mark)
                    fresh += messages
                    newest = max(newest or "", rev or "", str(convo["rev"]), key=_rev_key)
                if len(new) < len(convos):
                    break
        if newest:
            cursor["dm_rev"] = newest
        return fresh

    async def _messages(
        self, convo: Mapping[str, Any], me: str, mark: str | None
    ) -> tuple[list[Reply], str | None]:
        convo_id = str(convo.get("id", ""))
        handles = bp.member_handles(convo)
        fresh: list[Reply] = []
        newest: str | None = None
        params = {"convoId": convo_id, "limit": "100"}
        async with aclosing(paged(self._read_chat, MESSAGES, params, "messages")) as pages:
            async for page in pages:
                messages = bp.items(page, "messages")
                new = [m for m in messages if _after(m.get("rev"), mark)]
                for m in new:
                    newest = max(newest or "", str(m["rev"]), key=_rev_key)
                    reply = bp.message_reply(m, convo_id, handles, me)
                    if reply is not None:
                        fresh.append(reply)
                if len(new) < len(messages):
                    break
        return fresh, newest

    async def _read_chat(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        try:
            return await self.xrpc.get_json(method, params)
        except NoDmAccess:
            raise  # its own words say what to do
        except AuthError as e:
            raise AuthError(
                f"Bluesky refused to read the direct messages of @{self.xrpc.account} ({e}); "
                "create an app password with access to direct messages (Settings > Privacy "
                "and security > App passwords > 'Allow access to your direct messages')"
            ) from e


def _rev_key(rev: str) -> tuple[int, str]:
    # Revisions are TIDs: base32-sortable, so longer is later and equal lengths sort as text.
    return (len(rev), rev)


def _after(rev: object, mark: str | None) -> bool:
    return isinstance(rev, str) and (mark is None or _rev_key(rev) > _rev_key(mark))
