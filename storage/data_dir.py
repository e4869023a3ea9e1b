"""The data directory belongs to one running bot at a time, and to the bot's user only."""

import fcntl
import os
from pathlib import Path
from typing import IO

from storage.private_files import private_dir

LOCK_NAME = "flexbot.lock"


class DataDirInUse(RuntimeError):
    """Another `flexbot run` holds the data directory: two would corrupt each other's files."""


def claim(data_dir: Path) -> IO[str]:
    """Locks the directory for this process's lifetime (the lock goes with the process, even on a kill);
    everything created in it from now on is owner-only, and the directory itself is made so."""
    os.umask(0o077)
    private_dir(data_dir)
    lock = os.fdopen(os.open(data_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600), "r+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise DataDirInUse(f"another flexbot run is using {data_dir}") from None
    lock.truncate(0)
    lock.write(f"{os.getpid()}\n")
    lock.flush()
    return lock
