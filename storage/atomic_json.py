"""A TinyDB storage that never leaves a torn file: write a temporary file, fsync, rename."""

import json
import os
import secrets
from pathlib import Path
from typing import Any

from tinydb.storages import Storage


class AtomicJSONStorage(Storage):
    """TinyDB's JSONStorage writes in place; a kill mid-write leaves half a file. This one cannot."""

    def __init__(self, path: str | Path, fsync: bool = True) -> None:
        self.path = Path(path)
        self.fsync = fsync

    def read(self) -> dict[str, dict[str, Any]] | None:
        try:
            with self.path.open("rb") as file:
                return json.load(file)
        except FileNotFoundError:
            return None

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}.tmp")
        try:
            with temporary.open("wb") as file:
                file.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())
                file.flush()
                if self.fsync:
                    os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        if self.fsync:
            _fsync_directory(self.path.parent)

    def close(self) -> None:
        """Nothing stays open between operations."""


def _fsync_directory(directory: Path) -> None:
    """Makes the rename itself durable across a power cut, not only across a kill."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
