"""The load generator behind `make bench`: its pacing, and one journey through `flexbot run` in webhook
mode on PostgreSQL, so a change to the test helpers it builds on cannot break the benchmark unseen."""

import asyncio
import time
from pathlib import Path

from bench import load, webhook
from bench.journey import JOURNEY


async def test_the_pacer_offers_no_more_than_its_rate() -> None:
    pacer = load.Pacer(50)
    started = time.perf_counter()
    await asyncio.gather(*(pacer.slot() for _ in range(11)))
    assert time.perf_counter() - started >= 0.19  # ten intervals of 20 ms after the first slot


async def test_a_journey_through_one_webhook_process_is_measured_reply_by_reply(tmp_path: Path,
                                                                    postgres_url: str) -> None:
    figures = await webhook.serve(tmp_path / "bot", postgres_url, processes=1, administrators=1, timeout=60)
    assert figures["updates"] == figures["samples"] == len(JOURNEY)
    assert figures["deliveries_not_200"] == 0
    assert 0 < figures["p50_ms"] <= figures["p99_ms"]
