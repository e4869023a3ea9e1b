"""The store at 100, 10,000 and 100,000 conversations: p50/p99 of loading and saving one, and peak RSS.

Seeding writes the files through `TinyDBStore` with fsync off (seeding only, so 100,000 files take
seconds, not minutes); the measurement runs in a fresh process per size with fsync on, as the bot
runs, so its peak RSS is the store's at that size and nothing else's.
"""

import json
import random
import subprocess
import sys
import time
from pathlib import Path

from bench.stats import peak_rss_mb, percentiles_ms
from flows.records import Conversation
from storage.tinydb_store import TinyDBStore

SAMPLES = 2000


def sample_conversation(chat_id: int) -> Conversation:
    """A conversation midway through the journey, answers and history included."""
    return Conversation(chat_id, "asking_admin_email", "fr", f"S{chat_id:08d}",
                        {"admin": {"last_name": "Dupont", "first_name": "Jean"}},
                        ["awaiting_code", "welcoming", "asking_admin_last_name", "asking_admin_first_name"],
                        question_id=4, last_update_id=chat_id * 10)


def seed(root: Path, start: int, stop: int) -> None:
    store = TinyDBStore(root, fsync=False)
    for chat_id in range(start, stop):
        store.save_conversation(sample_conversation(chat_id))


def measure(root: Path, stored: int, samples: int) -> dict[str, object]:
    """In this process: load one conversation and save it back, `samples` times, at random."""
    store = TinyDBStore(root)
    chooser = random.Random(stored)
    durations: list[float] = []
    for _ in range(samples):
        chat_id = chooser.randrange(stored)
        started = time.perf_counter()
        conversation = store.load_conversation(chat_id)
        assert conversation is not None
        conversation.question_id += 1
        store.save_conversation(conversation)
        durations.append(time.perf_counter() - started)
    return {"stored": stored, "load_and_save": percentiles_ms(durations), "peak_rss_mb": peak_rss_mb()}


def run(root: Path, sizes: list[int], samples: int = SAMPLES) -> list[dict[str, object]]:
    results, seeded = [], 0
    for size in sorted(sizes):
        started = time.perf_counter()
        seed(root, seeded, size)
        seeding_s = round(time.perf_counter() - started, 1)
        seeded = size
        measured = subprocess.run([sys.executable, "-m", "bench.store", str(root), str(size), str(samples)],
                                  check=True, capture_output=True, text=True)
        results.append({**json.loads(measured.stdout), "seeding_s": seeding_s})
    return results


if __name__ == "__main__":
    print(json.dumps(measure(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))))
