"""What the running bot counts as it works: updates handled and how long they took, Bot API calls and
Telegram's 429s, the last time Telegram answered. Prometheus metrics with the official client.

Each process counts its own. With several processes on one SO_REUSEPORT port a scrape reaches any
one of them, so `PROMETHEUS_MULTIPROC_DIR` (the client's multiprocess mode) makes every process
write its counters there and any of them serve the sum (see `bot/metrics.py`).
"""

import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from telegram import Update
from telegram.ext import ContextTypes
from telegram.request import HTTPXRequest

from bot import logs

log = logging.getLogger(__name__)
METHOD = re.compile(r"[A-Za-z]{1,40}")  # a Bot API method name: the URL's last segment
_failed: ContextVar[list[BaseException] | None] = ContextVar("update_failed", default=None)


def update_kind(update: object) -> str:
    """A small fixed set of labels, never anything the person wrote."""
    if not isinstance(update, Update):
        return "other"
    if update.callback_query is not None:
        return "button"
    if update.edited_message is not None:
        return "edited"
    message = update.message
    if message is None:
        return "other"
    if message.text:
        return "command" if message.text.startswith("/") else "text"
    return "media"


class Telemetry:
    """The process's metrics, on a registry of its own (tests build as many as they like)."""

    def __init__(self, clock: Any = time.time) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._clock = clock
        self.updates = Counter("flexbot_updates", "Updates handled, by kind and outcome (handled or failed)",
                               ("kind", "outcome"), registry=self.registry)
        self.latency = Histogram("flexbot_update_handling_seconds", "Time from handing an update to the "
                                 "handlers to their end (reply sent, changes durable)", ("kind",),
                                 buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
                                 registry=self.registry)
        self.api_calls = Counter("flexbot_bot_api_calls", "Bot API requests, by method and HTTP status "
                                 "(\"network\": no answer)", ("method", "status"), registry=self.registry)
        self.rate_limited = Counter("flexbot_bot_api_rate_limited", "Bot API requests Telegram answered "
                                    "with 429 Too Many Requests", ("method",), registry=self.registry)
        self.last_answer = Gauge("flexbot_bot_api_last_answer_timestamp_seconds", "When the Bot API last "
                                 "answered a request (any status below 500)", registry=self.registry,
                                 multiprocess_mode="max")
        self.last_answer_at: float | None = None

    def bot_api_answered(self, method: str, status: int | None) -> None:
        name = method if METHOD.fullmatch(method) else "other"
        self.api_calls.labels(name, str(status) if status is not None else "network").inc()
        if status == 429:
            self.rate_limited.labels(name).inc()
        if status is not None and status < 500:
            self.last_answer_at = self._clock()
            self.last_answer.set(self.last_answer_at)

    @contextmanager
    def handling(self, update: object) -> Iterator[None]:
        """Around one update's handlers: its outcome (an error handler saw it fail), its latency, and
        its ids on every log line written meanwhile."""
        failures: list[BaseException] = []
        failed_token = _failed.set(failures)
        update_id = update.update_id if isinstance(update, Update) else None
        chat = update.effective_chat if isinstance(update, Update) else None
        context_token = logs.current_update.set((update_id, chat.id if chat else None))
        kind, started = update_kind(update), time.perf_counter()
        try:
            yield
        except BaseException:
            failures.append(RuntimeError("raised"))
            raise
        finally:
            seconds = time.perf_counter() - started
            outcome = "failed" if failures else "handled"
            self.updates.labels(kind, outcome).inc()
            self.latency.labels(kind).observe(seconds)
            log.info("update %s %s (%s) in %.0f ms", update_id, outcome, kind, seconds * 1000,
                     extra={"latency_ms": round(seconds * 1000, 1), "kind": kind, "outcome": outcome})
            logs.current_update.reset(context_token)
            _failed.reset(failed_token)

    async def note_failure(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An error handler: python-telegram-bot gives a handler's exception there, not to the caller."""
        failures = _failed.get()
        if failures is not None and context.error is not None:
            failures.append(context.error)


class CountingRequest(HTTPXRequest):
    """python-telegram-bot's HTTP client, counting each Bot API call and what it got back."""

    def __init__(self, telemetry: Telemetry | None, **options: Any) -> None:
        super().__init__(**options)
        self.telemetry = telemetry

    async def do_request(self, url: str, method: str, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        api_method = url.rstrip("/").rsplit("/", 1)[-1]
        try:
            code, payload = await super().do_request(url, method, *args, **kwargs)
        except Exception:
            if self.telemetry is not None:
                self.telemetry.bot_api_answered(api_method, None)
            raise
        if self.telemetry is not None:
            self.telemetry.bot_api_answered(api_method, code)
        return code, payload
