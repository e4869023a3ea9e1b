"""`GET /healthz` (the process answers) and `GET /readyz` (it can do its job: the store takes a write,
Telegram answered recently, the mail is not stuck). 200 or 503, always JSON with the reason."""

import asyncio
import hashlib
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from telegram import Bot

from bot.observed import mail_backlog
from bot.telemetry import Telemetry
from flows.ports import Store
from storage.mail_queue import MailQueue

log = logging.getLogger(__name__)
GET_ME_SECONDS = 5.0


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str


class Readiness:
    """`bot_api_seconds`: how long Telegram may stay silent before the check asks it (getMe) itself;
    `mail_age_seconds`: the oldest mail still tried may not be older (only with SMTP delivery on,
    since without it mail waits in the outbox by design)."""

    def __init__(self, store: Store, bot: Bot, telemetry: Telemetry, queue: MailQueue | None,
                 bot_api_seconds: float, mail_age_seconds: float, clock: Callable[[], float] = time.time) -> None:
        self._store, self._bot, self._telemetry, self._queue = store, bot, telemetry, queue
        self._bot_api_seconds, self._mail_age_seconds, self._clock = bot_api_seconds, mail_age_seconds, clock
        # one small probe record per process (never shared: two processes never write the same one)
        self._probe_key = hashlib.blake2b(f"{socket.gethostname()}/{os.getpid()}".encode(), digest_size=8).hexdigest()

    async def checks(self) -> dict[str, Check]:
        return {"store": await self._store_check(), "bot_api": await self._bot_api_check(),
                "mail": await self._mail_check()}

    async def _store_check(self) -> Check:
        try:
            with self._store.event():
                self._store.save_probe(self._probe_key, self._clock())
            await self._store.durable()
        except Exception as error:
            log.error("readiness: the store refused a write (%s)", type(error).__name__)
            return Check(False, f"the store refused a write ({type(error).__name__})")
        return Check(True, "a write committed")

    async def _bot_api_check(self) -> Check:
        if self._silent_for() > self._bot_api_seconds:
            try:
                await asyncio.wait_for(self._bot.get_me(), GET_ME_SECONDS)
            except Exception as error:
                log.warning("readiness: getMe failed (%s)", type(error).__name__)
        silent = self._silent_for()
        if silent > self._bot_api_seconds:
            return Check(False, "no answer from the Bot API " + (f"for {silent:.0f} s" if silent != float("inf")
                                                                 else "since the start"))
        return Check(True, f"last answer {silent:.0f} s ago")

    def _silent_for(self) -> float:
        last = self._telemetry.last_answer_at
        return self._clock() - last if last is not None else float("inf")

    async def _mail_check(self) -> Check:
        if self._queue is None:
            return Check(True, "no SMTP delivery: mail stays in the outbox")
        try:
            backlog = await asyncio.to_thread(mail_backlog, self._queue, self._clock())
        except Exception as error:
            return Check(False, f"the outbox cannot be read ({type(error).__name__})")
        if backlog.oldest_age > self._mail_age_seconds:
            return Check(False, f"the oldest mail waiting is {backlog.oldest_age:.0f} s old "
                         f"(limit {self._mail_age_seconds:.0f} s)")
        return Check(True, f"{backlog.pending + backlog.failed} waiting, oldest {backlog.oldest_age:.0f} s")


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "alive"})


def readyz(readiness: Readiness) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        checks = await readiness.checks()
        failed = [name for name, check in checks.items() if not check.ok]
        body = {"status": "not ready" if failed else "ready", "failed": failed,
                "checks": {name: {"ok": check.ok, "detail": check.detail} for name, check in checks.items()}}
        return web.json_response(body, status=503 if failed else 200)
    return handle
