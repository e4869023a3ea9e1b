"""What the stored state says about the service, read when asked (a scrape, a readiness probe): the
help requests waiting, the mail waiting for delivery, how far subscriptions have got."""

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from flows.ports import RecordUnavailable, Store
from flows.progress import SETUP_STEPS, setup_step
from storage.mail_queue import Damaged, MailQueue

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backlog:
    """The outbox's undelivered mail: still tried (pending, failed), refused for good, unreadable."""

    pending: int = 0
    failed: int = 0
    refused: int = 0
    damaged: int = 0
    oldest_age: float = 0.0  # seconds the oldest mail still tried has waited; 0 when none waits


def mail_backlog(queue: MailQueue, now: float) -> Backlog:
    counts: Counter[str] = Counter()
    oldest: float | None = None
    for item in queue.scan():
        if isinstance(item, Damaged):
            counts["damaged"] += 1
            continue
        counts[{"pending": "pending", "failed": "failed"}.get(item.status, "refused")] += 1
        if item.status in ("pending", "failed") and item.queued_at:
            oldest = item.queued_at if oldest is None else min(oldest, item.queued_at)
    return Backlog(counts["pending"], counts["failed"], counts["refused"], counts["damaged"],
                   max(0.0, now - oldest) if oldest is not None else 0.0)


@dataclass(frozen=True)
class HelpWaiting:
    count: int
    oldest_wait: float  # seconds; 0 when nobody waits


def help_waiting(store: Store, now: float) -> HelpWaiting:
    """Requests no agent has joined yet."""
    waiting = store.load_queue().waiting()
    oldest = min((ticket.requested_at for ticket in waiting), default=None)
    return HelpWaiting(len(waiting), max(0.0, now - oldest) if oldest is not None else 0.0)


class StepCensus:
    """Subscriptions by setup step. Counting reads every subscription, so the count is kept for
    `seconds` and recomputed at most that often, whoever asks."""

    def __init__(self, store: Store, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._store, self._seconds, self._clock = store, seconds, clock
        self._lock = threading.Lock()
        self._counted_at: float | None = None
        self._counts: dict[str, int] = {}

    def counts(self) -> dict[str, int]:
        with self._lock:
            if self._counted_at is None or self._clock() - self._counted_at >= self._seconds:
                self._counts = self._count()
                self._counted_at = self._clock()
            return dict(self._counts)

    def _count(self) -> dict[str, int]:
        counts = dict.fromkeys(SETUP_STEPS, 0)
        for number in self._store.subscription_numbers():
            try:
                subscription = self._store.load_subscription(number)
            except RecordUnavailable:
                continue  # set aside by the store and logged there
            if subscription is not None:
                counts[setup_step(subscription)] += 1
        return counts
