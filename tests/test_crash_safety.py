"""SIGKILL in the middle of writes: the store still opens, with the last acknowledged save (or the one
in flight), never a torn file."""

import signal
import subprocess
import sys
import time
from pathlib import Path

from storage.tinydb_store import TinyDBStore
from tests.store_writer import CHAT

KILLS = 16


def test_a_killed_write_storm_leaves_the_last_acknowledged_state(tmp_path: Path):
    store = TinyDBStore(tmp_path)
    for kill in range(KILLS):
        with subprocess.Popen([sys.executable, "-m", "tests.store_writer", str(tmp_path)],
                              stdout=subprocess.PIPE, text=True) as writer:
            assert writer.stdout is not None
            acknowledged = [int(writer.stdout.readline()) for _ in range(3 + kill)]
            time.sleep(kill * 0.002)  # to land on a different moment of a save each time
            writer.send_signal(signal.SIGKILL)
            acknowledged += [int(line) for line in writer.stdout.read().split()]
        saved = store.load_conversation(CHAT)
        assert saved is not None
        assert saved.last_update_id in {acknowledged[-1], acknowledged[-1] + 1}
