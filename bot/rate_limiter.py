"""Telegram's 429s, waited out for the chat they concern only, and never for long.

python-telegram-bot's AIORateLimiter halts every request of the bot for the whole `retry_after`
of one 429, however long: a flood limit hit in one chat (or a 3600 s answer) would silence all
the others. Here AIORateLimiter keeps pacing what it paces (the support group's 20 messages a
minute), but a RetryAfter never reaches it: the chat it concerns is paused alone, other chats go
on, and a wait longer than `longest_wait` is not waited at all: the request fails at once (the
update then fails the usual way: a webhook answers 500 and Telegram delivers it again).
"""

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter, BaseRateLimiter

log = logging.getLogger(__name__)
Result = bool | dict[str, Any] | list[dict[str, Any]]
PRUNE_ABOVE = 1024  # paused chats remembered before the expired pauses are forgotten


class Flooded(Exception):
    """Carries a RetryAfter past AIORateLimiter, which would pause every chat on it."""

    def __init__(self, error: RetryAfter) -> None:
        super().__init__(str(error))
        self.error = error


def seconds(error: RetryAfter) -> float:
    return error._retry_after.total_seconds()  # the public attribute warns that its type will change


class ChatRateLimiter(BaseRateLimiter[int]):
    """Per chat: a 429 pauses its chat for `retry_after` (at most `longest_wait` seconds), then the
    request is tried again, up to `retries` times."""

    def __init__(self, longest_wait: float, retries: int, pacing: AIORateLimiter | None = None) -> None:
        # No overall cap: private chats are many and Telegram's 30 a second is a soft limit its 429s enforce.
        self.pacing = pacing or AIORateLimiter(overall_max_rate=0, max_retries=0)
        self.longest_wait, self.retries = longest_wait, retries
        self._paused: dict[int | str, float] = {}  # chat -> time.monotonic() its pause ends

    async def initialize(self) -> None:
        await self.pacing.initialize()

    async def shutdown(self) -> None:
        await self.pacing.shutdown()

    async def process_request(self, callback: Callable[..., Coroutine[Any, Any, Result]], args: Any,
                              kwargs: dict[str, Any], endpoint: str, data: dict[str, Any],
                              rate_limit_args: int | None) -> Result:
        chat = data.get("chat_id")  # None: answerCallbackQuery, getMe… — such a request waits alone
        attempt = 0
        while True:
            if chat is not None:
                await self._wait_for(chat, endpoint)
            try:
                return await self.pacing.process_request(unflooded(callback), args, kwargs, endpoint, data, None)
            except Flooded as flooded:
                wait = seconds(flooded.error)
                if chat is not None:
                    self._pause(chat, wait)  # what else goes to the chat meanwhile would only be refused
                if wait > self.longest_wait or attempt == self.retries:
                    log.warning("Telegram asks to wait %.0f s before %s to chat %s: not waited (at most %.0f s, "
                                "%d tries), the request fails", wait, endpoint, chat, self.longest_wait, attempt + 1)
                    raise flooded.error from None
                log.warning("Telegram asks to wait %.0f s before %s to chat %s: that chat waits, the others go on",
                            wait, endpoint, chat)
                if chat is None:
                    await asyncio.sleep(wait)
                attempt += 1

    async def _wait_for(self, chat: int | str, endpoint: str) -> None:
        """Waits out the chat's pause; one that ends too late fails the request now."""
        left = self._paused.get(chat, 0.0) - time.monotonic()
        if left <= 0:
            self._paused.pop(chat, None)
            return
        if left > self.longest_wait:
            log.warning("chat %s is paused by Telegram for %.0f s more: %s fails at once", chat, left, endpoint)
            raise RetryAfter(int(left) + 1)
        await asyncio.sleep(left)

    def _pause(self, chat: int | str, wait: float) -> None:
        if len(self._paused) > PRUNE_ABOVE:
            now = time.monotonic()
            self._paused = {key: until for key, until in self._paused.items() if until > now}
        until = time.monotonic() + wait + 0.1
        self._paused[chat] = max(until, self._paused.get(chat, 0.0))


def unflooded(callback: Callable[..., Coroutine[Any, Any, Result]]) -> Callable[..., Coroutine[Any, Any, Result]]:
    """The callback, its RetryAfter turned into Flooded."""
    async def call(*args: Any, **kwargs: Any) -> Result:
        try:
            return await callback(*args, **kwargs)
        except RetryAfter as error:
            raise Flooded(error) from None
    return call
