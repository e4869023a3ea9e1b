"""Several processes on one port: with PROMETHEUS_MULTIPROC_DIR every process writes its counters
there, and whichever one a scrape reaches serves the sum (prometheus-client's multiprocess mode)."""

import os
import subprocess
import sys
from pathlib import Path

from tests.test_operations import samples

WORKER = """
from bot.telemetry import Telemetry
telemetry = Telemetry()
telemetry.updates.labels("text", "handled").inc({count})
telemetry.bot_api_answered("sendMessage", 429)
telemetry.latency.labels("text").observe(0.2)
"""
SCRAPER = """
import sys
from prometheus_client import generate_latest
from prometheus_client.registry import Collector
from bot.metrics import scrape_registry
from bot.telemetry import Telemetry

class Nothing(Collector):
    def collect(self):
        return iter(())

sys.stdout.write(generate_latest(scrape_registry(Telemetry(), Nothing())).decode())
"""


def run(code: str, directory: Path) -> str:
    environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory), "PYTHONPATH": os.getcwd()}
    return subprocess.run([sys.executable, "-c", code], env=environment, check=True, capture_output=True,
                          text=True, timeout=60).stdout


def test_any_process_serves_the_sum_of_every_process(tmp_path: Path) -> None:
    run(WORKER.format(count=3), tmp_path)
    run(WORKER.format(count=4), tmp_path)
    found = samples(run(SCRAPER, tmp_path))
    assert found["flexbot_updates_total", (("kind", "text"), ("outcome", "handled"))] == 7
    assert found["flexbot_bot_api_rate_limited_total", (("method", "sendMessage"),)] == 2
    assert found["flexbot_update_handling_seconds_count", (("kind", "text"),)] == 2
    assert found["flexbot_bot_api_last_answer_timestamp_seconds", ()] > 0  # the latest of all processes
