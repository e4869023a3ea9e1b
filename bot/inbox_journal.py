"""The inbox journal: no update is lost between Telegram handing it over and the bot handling it.

python-telegram-bot's Updater confirms updates to Telegram (the next getUpdates `offset`) as soon
as it has fetched them, before the application has processed them; Telegram then forgets them.
A kill in between would lose what the people typed. So every getUpdates answer is written to disk
(temporary file, fsync, rename) before python-telegram-bot even parses it; a batch's file is
deleted once each of its updates has been handled (the conversation saved, the reply sent), and
whatever is left at start-up is handled again. Replaying is harmless: a conversation records the
last update id it handled and ignores an update it has already seen.
"""

import asyncio
import json
import secrets
from collections.abc import Callable, Sequence
from functools import partial
from http import HTTPStatus
from pathlib import Path
from typing import Any

from telegram import Bot, Update
from telegram.request import HTTPXRequest

from storage.atomic_json import write_atomically


SECRET_FIELDS = {"text", "caption", "entities", "caption_entities"}


class InboxJournal:
    """Batches of updates fetched from Telegram and not yet handled, one file per batch."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self._pending: dict[Path, set[int]] = {}
        # (chat id, behind another message of the chat) -> may be a password; set once the assistant exists
        self.expects_secret: Callable[[int, bool], bool] = lambda chat_id, behind_another: False

    async def record(self, updates: Sequence[dict[str, Any]]) -> None:
        """Durably keeps a fetched batch (one fsync per getUpdates answer), on a worker thread so
        the event loop goes on serving the chats meanwhile."""
        if not updates:
            return
        path = self.directory / f"{updates[0]['update_id']:012d}-{secrets.token_hex(4)}.json"
        await asyncio.to_thread(self._write, path, updates)
        self._pending[path] = {update["update_id"] for update in updates}

    def _write(self, path: Path, updates: Sequence[dict[str, Any]]) -> None:
        kept, seen = [], set()
        for update in updates:
            kept.append(self._without_secret(update, seen))
        write_atomically(path, json.dumps(kept, ensure_ascii=False).encode())

    def _without_secret(self, update: dict[str, Any], seen: set[int]) -> dict[str, Any]:
        """A message typed where a password may be expected is kept without its text, so a password
        never reaches the disk in clear: when the chat's last question asked for one, or when an
        earlier update of the same batch may be the answer that leads to it. Replayed after a kill,
        such a message reads as one with nothing to read, and the question is asked again."""
        for key in ("message", "edited_message", "callback_query"):
            if key not in update:
                continue
            message = update[key] if key != "callback_query" else update[key].get("message") or {}
            chat = (message.get("chat") or {}).get("id")
            secret = chat is not None and self.expects_secret(chat, chat in seen)
            seen.add(chat)
            if secret and key != "callback_query":
                return {**update, key: {f: v for f, v in message.items() if f not in SECRET_FIELDS}}
        return update

    def processed(self, update_id: int) -> None:
        """Forgets the update; a batch whose updates are all handled leaves the disk (off the loop:
        should the removal be lost, the batch is only replayed, and replays are harmless)."""
        for path, waiting in list(self._pending.items()):
            waiting.discard(update_id)
            if not waiting:
                del self._pending[path]
                asyncio.get_running_loop().run_in_executor(None, partial(path.unlink, missing_ok=True))

    def replay(self, bot: Bot) -> list[Update]:
        """The updates a previous run fetched and never finished, oldest first."""
        self.directory.mkdir(parents=True, exist_ok=True)
        for leftover in self.directory.glob(".*.tmp"):  # a write cut short: Telegram still has those
            leftover.unlink()
        updates: list[Update] = []
        for path in sorted(self.directory.glob("*.json")):
            batch = json.loads(path.read_bytes())
            self._pending[path] = {update["update_id"] for update in batch}
            updates.extend(Update.de_json(update, bot) for update in batch)
        return updates


class JournalingRequest(HTTPXRequest):
    """The connection python-telegram-bot uses for getUpdates only: journals each answer first."""

    def __init__(self, journal: InboxJournal) -> None:
        # Two connections: PTB's final getUpdates at shutdown (which confirms what was fetched) needs
        # a free one while the cancelled long poll may still hold the other.
        super().__init__(connection_pool_size=2)
        self.journal = journal

    async def do_request(self, url: str, method: str, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        code, payload = await super().do_request(url, method, *args, **kwargs)
        if code == HTTPStatus.OK:
            await self.journal.record(json.loads(payload).get("result") or [])
        return code, payload
