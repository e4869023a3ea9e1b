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
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from functools import partial
from http import HTTPStatus
from pathlib import Path
from typing import Any

from telegram import Bot, Message, Update

from bot.json_input import parsed
from bot.telemetry import CountingRequest, Telemetry
from storage.atomic_json import write_atomically


log = logging.getLogger(__name__)
SECRET_FIELDS = {"text", "caption", "entities", "caption_entities"}
WITHHELD = "flexbot_text_withheld"  # marks a message journaled without its text; PTB reads it into api_kwargs
WRITE_ERROR_LOG_SECONDS = 60  # a full disk fails every batch: say so once a minute, not per poll


def readable(items: object) -> list[dict[str, Any]]:
    """The updates python-telegram-bot can parse. One it cannot is kept as a bare update id (so the
    offset moves past it and the others are answered), logged by id and exception type, never content;
    an item without an integer update id is dropped."""
    if not isinstance(items, list):
        log.error("getUpdates answered a result that is not a list (%s): ignored", type(items).__name__)
        return []
    kept = []
    for item in items:
        update_id = item.get("update_id") if isinstance(item, dict) else None
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            log.error("getUpdates answered an item without an update id (%s): dropped", type(item).__name__)
            continue
        try:
            Update.de_json(item, None)
        except Exception as error:  # whatever Telegram sends, one update never blocks the others
            log.error("update %s cannot be read (%s): dropped", update_id, type(error).__name__)
            item = {"update_id": update_id}
        kept.append(item)
    return kept


def withheld(message: Message) -> bool:
    """A message replayed from the journal without its text (see `InboxJournal._without_secret`)."""
    return bool(message.api_kwargs.get(WITHHELD))


def has_content(update: dict[str, Any]) -> bool:
    """False for the bare update id left of an update that could not be read: nothing to journal."""
    return len(update) > 1


def dump(path: Path, updates: Sequence[dict[str, Any]]) -> None:
    """ASCII escapes: a lone surrogate a client sent still encodes."""
    write_atomically(path, json.dumps(updates, ensure_ascii=True).encode())


class InboxJournal:
    """Batches of updates fetched from Telegram and not yet handled, one file per batch."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self._pending: dict[Path, set[int]] = {}
        self._held = False
        self._write_error_logged_at = -WRITE_ERROR_LOG_SECONDS
        # (chat id, behind another message of the chat, its text) -> may be a password; set once the
        # assistant exists
        self.expects_secret: Callable[[int, bool, str], bool] = lambda chat_id, behind_another, text: False

    async def record(self, updates: Sequence[dict[str, Any]]) -> None:
        """Durably keeps a fetched batch (one fsync per getUpdates answer), on a worker thread so
        the event loop goes on serving the chats meanwhile."""
        journaled = set().union(*self._pending.values())
        updates = [update for update in updates if has_content(update) and update["update_id"] not in journaled]
        if not updates:
            return
        path = self._path_for(updates)
        try:
            await asyncio.to_thread(self._write, path, updates)
        except OSError as error:  # a full disk must not stop the bot answering: the batch goes on unjournaled
            self._log_write_error(error)
            return
        self._pending[path] = {update["update_id"] for update in updates}

    def _path_for(self, updates: Sequence[dict[str, Any]]) -> Path:
        return self.directory / f"{updates[0]['update_id']:012d}-{secrets.token_hex(4)}.json"

    def _log_write_error(self, error: OSError) -> None:
        now = time.monotonic()
        if now - self._write_error_logged_at >= WRITE_ERROR_LOG_SECONDS:
            self._write_error_logged_at = now
            log.error("the inbox journal cannot be written (%s, errno %s): updates go on unjournaled",
                      type(error).__name__, error.errno)

    def _write(self, path: Path, updates: Sequence[dict[str, Any]]) -> None:
        kept, seen = [], set()
        for update in updates:
            try:
                kept.append(self._without_secret(update, seen))
            except Exception as error:  # a shape nobody foresaw: that update goes unjournaled, not the batch
                log.error("update %s cannot be journaled (%s): handled unjournaled", update["update_id"],
                          type(error).__name__)
        dump(path, kept)

    def _without_secret(self, update: dict[str, Any], seen: set[int]) -> dict[str, Any]:
        """A message typed where a password may be expected is kept without its text, so a password
        never reaches the disk in clear: when the chat's last question asked for one, or when an
        earlier update of the same batch may be the answer that leads to it. Replayed after a kill,
        such a message is marked WITHHELD: deleted in the chat, and the person asked to type it again."""
        for key in ("message", "edited_message", "callback_query"):
            if key not in update:
                continue
            message = update[key] if key != "callback_query" else (update[key] or {}).get("message") or {}
            if not isinstance(message, dict):  # Telegram may send null for a field it has nothing in
                continue
            chat = (message.get("chat") or {}).get("id")
            text = message.get("text") or message.get("caption") or ""
            secret = chat is not None and self._may_be_secret(chat, chat in seen, str(text))
            seen.add(chat)
            if secret and key != "callback_query":
                kept = {f: v for f, v in message.items() if f not in SECRET_FIELDS}
                return {**update, key: {**kept, WITHHELD: True}}
        return update

    def _may_be_secret(self, chat: int, behind_another: bool, text: str) -> bool:
        """When the assistant cannot tell (its record of the chat unreadable), the text is a secret."""
        try:
            return self.expects_secret(chat, behind_another, text)
        except Exception as error:
            log.warning("chat %s: cannot tell whether a password is expected (%s): kept without its text",
                        chat, type(error).__name__)
            return True

    def hold(self) -> None:
        """From now on nothing is forgotten: a stop that cut the running handlers short (their Bot API
        calls fail as the connections close) leaves their updates for the next start."""
        self._held = True

    def processed(self, update_id: int) -> None:
        """Forgets the update; a batch whose updates are all handled leaves the disk (off the loop:
        should the removal be lost, the batch is only replayed, and replays are harmless)."""
        if self._held:
            return
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
            updates.extend(self._replay_file(path, bot))
        return updates

    def _replay_file(self, path: Path, bot: Bot) -> list[Update]:
        """A file that cannot be read whole (empty, cut short, garbage, an update that no longer parses)
        is moved to quarantine/ for a person to look at; what can be read of it is journaled anew."""
        raw = path.read_bytes()
        try:
            batch = parsed(raw)
            updates = [Update.de_json(update, bot) for update in batch]
            self._pending[path] = {update.update_id for update in updates}
            return updates
        except Exception as error:
            log.error("inbox file %s cannot be read (%s): moved to quarantine", path.name, type(error).__name__)
        quarantine = self.directory / "quarantine"
        quarantine.mkdir(exist_ok=True)
        path.replace(quarantine / path.name)
        try:
            kept = [update for update in readable(parsed(raw)) if has_content(update)]
        except ValueError:
            return []
        if kept:
            fresh = self._path_for(kept)
            dump(fresh, kept)
            self._pending[fresh] = {update["update_id"] for update in kept}
        return [Update.de_json(update, bot) for update in kept]


EMPTY_ANSWER = b'{"ok": true, "result": []}'


class JournalingRequest(CountingRequest):
    """The connection python-telegram-bot uses for getUpdates only: journals each answer first."""

    def __init__(self, journal: InboxJournal, telemetry: Telemetry | None = None) -> None:
        # Two connections: PTB's final getUpdates at shutdown (which confirms what was fetched) needs
        # a free one while the cancelled long poll may still hold the other.
        super().__init__(telemetry, connection_pool_size=2)
        self.journal = journal

    async def do_request(self, url: str, method: str, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        code, payload = await super().do_request(url, method, *args, **kwargs)
        if code != HTTPStatus.OK:
            return code, payload
        try:
            answer = parsed(payload)
        except ValueError:  # PTB would log the whole body, passwords included
            log.error("getUpdates answered something that is not JSON: ignored")
            return code, EMPTY_ANSWER
        if not isinstance(answer, dict):
            log.error("getUpdates answered a %s, not an object: ignored", type(answer).__name__)
            return code, EMPTY_ANSWER
        updates = readable(answer.get("result"))
        await self.journal.record(updates)
        return code, json.dumps({**answer, "result": updates}).encode()
