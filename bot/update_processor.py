"""Chats in parallel, each chat in order: python-telegram-bot ships no such update processor."""

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Two updates of one chat never run at once; updates of different chats do.

    The chat's lock is taken before the global semaphore, so a chat waiting for its turn
    does not hold a slot another chat could use. `on_processed` hears of each update once every
    handler has finished with it (the inbox journal forgets it then); `observe` is entered around
    each update's handlers, once its turn has come (its outcome and latency are counted there).
    """

    def __init__(self, max_concurrent_updates: int, on_processed: Callable[[int], None] | None = None,
                 observe: Callable[[object], AbstractContextManager[None]] | None = None) -> None:
        super().__init__(max_concurrent_updates)
        self._on_processed = on_processed
        self._observe = observe or (lambda update: nullcontext())
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat.id if isinstance(update, Update) and update.effective_chat else 0
        lock = self._locks.setdefault(chat, asyncio.Lock())
        self._waiting[chat] = self._waiting.get(chat, 0) + 1
        try:
            async with lock:
                await super().process_update(update, coroutine)
            if self._on_processed and isinstance(update, Update):
                self._on_processed(update.update_id)
        finally:
            self._waiting[chat] -= 1
            if not self._waiting[chat]:
                del self._waiting[chat], self._locks[chat]

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        with self._observe(update):
            await coroutine

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""
