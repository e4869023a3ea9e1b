"""`GET /metrics`: the process's counters (bot/telemetry.py) and, read at scrape time, the state of
the service: help requests waiting, mail waiting or failed, subscriptions by setup step.

With `PROMETHEUS_MULTIPROC_DIR` set (prometheus-client's multiprocess mode, for several processes on
one port) every process writes its counters there and the one a scrape reaches serves the sum.
"""

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterator

from aiohttp import web
from prometheus_client import CollectorRegistry, multiprocess
from prometheus_client.exposition import choose_encoder
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.observed import StepCensus, help_waiting, mail_backlog
from bot.telemetry import Telemetry
from flows import reminder_slots
from flows.ports import Store
from storage.mail_queue import MailQueue

log = logging.getLogger(__name__)
CENSUS_SECONDS = 300  # subscriptions by step: every subscription is read, so at most this often


class StateCollector(Collector):
    """Gauges read from the store and the outbox at each scrape; a source that fails is left out
    (and logged) rather than failing the whole scrape."""

    def __init__(self, store: Store, queue: MailQueue | None, clock: Callable[[], float] = time.time,
                 census: StepCensus | None = None) -> None:
        self._store, self._queue, self._clock = store, queue, clock
        self._census = census or StepCensus(store, CENSUS_SECONDS)

    def collect(self) -> Iterator[Metric]:
        for source in (self._help, self._mail, self._steps, self._reminders):
            try:
                yield from source(self._clock())
            except Exception as error:  # one unreadable source must not hide the others
                log.error("metrics: %s could not be read (%s)", source.__name__.strip("_"), type(error).__name__)

    def _help(self, now: float) -> Iterator[Metric]:
        waiting = help_waiting(self._store, now)
        yield GaugeMetricFamily("flexbot_help_requests_waiting", "Help requests no agent has joined yet",
                                value=waiting.count)
        yield GaugeMetricFamily("flexbot_help_request_oldest_wait_seconds", "How long the oldest help request "
                                "waiting has waited (0: none waits)", value=waiting.oldest_wait)

    def _mail(self, now: float) -> Iterator[Metric]:
        if self._queue is None:
            return
        backlog = mail_backlog(self._queue, now)
        mails = GaugeMetricFamily("flexbot_mails_waiting", "Undelivered e-mails in the outbox: pending, failed "
                                  "(still retried), refused (for good), damaged (about to be set aside)",
                                  labels=("status",))
        for status in ("pending", "failed", "refused", "damaged"):
            mails.add_metric((status,), getattr(backlog, status))
        yield mails
        yield GaugeMetricFamily("flexbot_mail_oldest_waiting_age_seconds", "Age of the oldest e-mail still tried "
                                "(pending or failed); 0 when none waits", value=backlog.oldest_age)

    def _reminders(self, now: float) -> Iterator[Metric]:
        yield GaugeMetricFamily("flexbot_reminders_due", "Reminders due and not sent yet (the runner sends "
                                "them within REMINDER_POLL_SECONDS, in business hours)",
                                value=reminder_slots.waiting(self._store, now))

    def _steps(self, now: float) -> Iterator[Metric]:
        steps = GaugeMetricFamily("flexbot_subscriptions", "Subscriptions by setup step (counted every "
                                  f"{CENSUS_SECONDS} s at most)", labels=("step",))
        for step, count in self._census.counts().items():
            steps.add_metric((step,), count)
        yield steps


def scrape_registry(telemetry: Telemetry, state: Collector) -> CollectorRegistry:
    """The process's own registry, or in multiprocess mode one that sums every process's files."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = telemetry.registry
    registry.register(state)
    return registry


def handler(registry: CollectorRegistry) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Rendered on a worker thread: reading the outbox and the store must not stall the chats. The
    format is the one the scraper asks for (Prometheus' text format, or OpenMetrics)."""
    async def metrics(request: web.Request) -> web.Response:
        encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
        body = await asyncio.to_thread(encoder, registry)
        return web.Response(body=body, headers={"Content-Type": content_type})
    return metrics
