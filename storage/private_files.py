"""Owner-only files and folders whatever the process umask: `mailbox` and `open` create 0o666 & ~umask."""

import os
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def private_dir(path: Path) -> Path:
    """`path`, owner-only (tightened if it exists), and owner-only parents where they must be made."""
    if not path.is_dir():
        if not path.parent.is_dir():
            private_dir(path.parent)
        path.mkdir(mode=PRIVATE_DIR, exist_ok=True)
    os.chmod(path, PRIVATE_DIR)
    return path


def private_file(path: Path) -> Path:
    os.chmod(path, PRIVATE_FILE)
    return path
