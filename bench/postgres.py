"""The PostgreSQL store: journey events through `flows/` committed to a private PostgreSQL server
with its durable defaults (fsync, synchronous commit), one process and then several at once, each
with its own connection pool. What one event costs in commits, not what Telegram adds around it."""

import multiprocessing
import time

from bench.engine import TimedAssistant, play
from bench.stats import percentiles_ms
from flows.steps.base import AssistantSettings, Toolkit
from storage.mail_cipher import MailCipher
from storage.postgres_store import PostgresStore, connect
from tests.flow_harness import Clock, PlainHasher
from tests.postgres_server import PostgresServer

KEY = b"ZmxleGJvdC1iZW5jaC1rZXktMzItYnl0ZXMtbG9uZyE="


def _journeys(url: str, administrators: int, first_chat: int) -> tuple[list[float], float, float]:
    """The events' durations, and when the process started and finished playing (its start-up aside)."""
    store = PostgresStore(connect(url, 2, migrate=False), "bench@flex.example", MailCipher(lambda: KEY))
    try:
        assistant = TimedAssistant(Toolkit(store, PlainHasher(), AssistantSettings(), Clock()))
        started = time.time()
        play(assistant, administrators, first_chat)
        return assistant.durations, started, time.time()
    finally:
        store.close()


def run(administrators: int, processes: tuple[int, ...] = (1, 2)) -> dict[str, object]:
    server = PostgresServer(durable=True)
    try:
        server.start()
        server.prepare_shared()
        results: dict[str, object] = {}
        for count in processes:
            url = server.emptied()
            with multiprocessing.get_context("spawn").Pool(count) as pool:
                parts = pool.starmap(_journeys, [(url, administrators, 1 + index * administrators)
                                                 for index in range(count)])
            elapsed = max(end for _, _, end in parts) - min(start for _, start, _ in parts)
            durations = [duration for part, _, _ in parts for duration in part]
            results[f"{count}_process"] = {"events": len(durations), "events_per_s": round(len(durations) / elapsed, 1),
                                           **percentiles_ms(durations)}
        return results
    finally:
        server.destroy()
