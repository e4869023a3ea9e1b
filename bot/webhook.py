"""Telegram's webhook, answered the durable way: 200 only once the update is handled and committed.

python-telegram-bot's own webhook server answers 200 as soon as the update is queued, before any
handler runs; a process killed then has lost what Telegram will never send again. Here the
request waits for the handlers and for the store's `durable()`: Telegram's redelivery (any non-2xx
or timeout is retried with backoff for 24 hours) is the safety net, so no journal is needed. A
redelivery of an update already handled is recognised by the conversation (its last update id).

Nothing here is shared between processes: any number of them may serve one URL.
"""

import asyncio
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar

from aiohttp import web
from telegram import Bot, Update
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes

from bot.http_server import header_bytes
from bot.json_input import parsed
from flows.ports import StoreUnavailable

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_failures: ContextVar[list[BaseException] | None] = ContextVar("webhook_failures", default=None)
REMEMBERED_FAILURES = 10_000  # updates whose failed attempts are counted; the oldest are forgotten


class WebhookRefused(Exception):
    """Telegram refused setWebhook (a URL it cannot reach, a port it does not take, a bad secret)."""


class HandlingFailed(Exception):
    """A handler raised: python-telegram-bot gave the error to the error handlers, not to the caller."""


def secret_token(configured: str | None) -> str:
    """WEBHOOK_SECRET, or a random one for this process alone: every process that starts registers
    its own, so several processes on one URL must share a configured one."""
    if configured:
        return configured
    log.warning("WEBHOOK_SECRET is not set: this process registers a random secret token; with several "
                "processes on one webhook URL set WEBHOOK_SECRET, or each start locks the others out")
    return secrets.token_urlsafe(32)  # 43 characters of A-Z a-z 0-9 _ -, as Telegram wants


async def register(bot: Bot, url: str, secret: str, allowed_updates: Sequence[str], max_connections: int) -> None:
    """setWebhook, keeping what Telegram holds for the bot. Never undone at stop: other processes
    may still serve the URL, and Telegram keeps updates for a stopped one until it is back."""
    try:
        await bot.set_webhook(url, secret_token=secret, allowed_updates=list(allowed_updates),
                              max_connections=max_connections, drop_pending_updates=False)
    except TelegramError as error:
        raise WebhookRefused(str(error)) from None


class WebhookReceiver:
    """The POST handler: checks the secret, reads the update, hands it to the Application through its
    update processor (so one chat's updates never run at once) and answers once it is durable."""

    def __init__(self, application: Application, secret: str, durable: Callable[[], Awaitable[None]],
                 tell_given_up: Callable[[Update, BaseException], Awaitable[None]], give_up_after: int = 8) -> None:
        """`give_up_after`: how many failed attempts of one update this process makes before it
        acknowledges it and has `tell_given_up` tell the chat, so that an update that can never
        succeed does not hold up its chat for Telegram's 24 hours of retries (8 attempts span about
        four minutes of Telegram's backoff). A database that cannot be reached is never given up on."""
        self._application = application
        self._secret = secret.encode()
        self._durable = durable
        self._tell_given_up = tell_given_up
        self._give_up_after = give_up_after
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self._failed: dict[int, int] = {}  # update id -> failed attempts here
        application.add_error_handler(self._note_failure)

    async def handle(self, request: web.Request) -> web.Response:
        """403 without the right secret (nothing read), 200 once handled, 500 so Telegram tries again."""
        if not hmac.compare_digest(header_bytes(request, SECRET_HEADER), self._secret):
            log.warning("webhook request without the right secret token: refused")
            return web.Response(status=403)
        update = await self._read(request)
        if not isinstance(update, Update):
            return update
        try:
            await asyncio.shield(self._handling(update))
        except Exception as error:
            log.error("update %s failed (%s): answered 500, Telegram delivers it again", update.update_id,
                      type(error.__cause__ or error).__name__)
            return web.Response(status=500)
        return web.Response(status=200)

    def _given_up(self, update_id: int) -> bool:
        """Counts one more failed attempt of the update: True once there have been enough."""
        self._failed[update_id] = attempts = self._failed.pop(update_id, 0) + 1
        if len(self._failed) > REMEMBERED_FAILURES:
            del self._failed[next(iter(self._failed))]
        return attempts >= self._give_up_after

    async def _read(self, request: web.Request) -> Update | web.Response:
        """A body that is no update at all (not JSON, no update id) is a 400: Telegram never sends one.
        An update python-telegram-bot cannot read is acknowledged and dropped (logged by id, never
        its content): its redelivery would bring the same bytes, and hold up the chat for 24 hours."""
        try:
            payload = parsed(await request.read())
        except ValueError:  # UnicodeDecodeError, nesting too deep: all ValueErrors
            log.error("webhook request whose body is not JSON: refused (400)")
            return web.Response(status=400)
        update_id = payload.get("update_id") if isinstance(payload, dict) else None
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            log.error("webhook request without an update id: refused (400)")
            return web.Response(status=400)
        try:
            return Update.de_json(payload, self._application.bot)
        except Exception as error:  # whatever arrives, one update never blocks its chat
            log.error("update %s cannot be read (%s): acknowledged and dropped", update_id, type(error).__name__)
            return web.Response(status=200)

    def _handling(self, update: Update) -> asyncio.Task[None]:
        """The task handling this update; a copy arriving while it runs (Telegram gave up waiting and
        sent it again) waits for the same task instead of handling it a second time. The task is
        shielded from the request: a client that hangs up does not cut the handling short."""
        task = self._in_flight.get(update.update_id)
        if task is None:
            task = asyncio.create_task(self._handle(update), name=f"webhook-update-{update.update_id}")
            self._in_flight[update.update_id] = task
            task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight = {key: value for key, value in self._in_flight.items() if value is not task}
        if not task.cancelled():
            task.exception()  # retrieved: the request that awaited it logged it, or hung up

    async def _handle(self, update: Update) -> None:
        """One attempt, counted once however many copies of the update wait for it; the attempt that
        reaches `give_up_after` ends well (the chat told), so every copy is answered 200."""
        try:
            await self._attempt(update)
        except Exception as error:
            cause = error.__cause__ or error
            if isinstance(cause, StoreUnavailable | OSError) or not self._given_up(update.update_id):
                raise
            self._failed.pop(update.update_id, None)
            log.error("update %s failed %s times (%s): acknowledged and dropped, its chat is told",
                      update.update_id, self._give_up_after, type(cause).__name__)
            await self._tell_given_up(update, cause)
        else:
            self._failed.pop(update.update_id, None)

    async def _attempt(self, update: Update) -> None:
        failures: list[BaseException] = []
        _failures.set(failures)  # this task's own context: the error handler below writes into it
        processor = self._application.update_processor
        await processor.process_update(update, self._application.process_update(update))
        if failures:
            raise HandlingFailed(update.update_id) from failures[0]
        await self._durable()

    async def _note_failure(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        failures = _failures.get()
        if failures is not None and context.error is not None:
            failures.append(context.error)

    async def finish(self) -> None:
        """Waits for updates still being handled whose request has gone (at stop)."""
        if self._in_flight:
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)
