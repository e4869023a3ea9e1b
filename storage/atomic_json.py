"""A TinyDB storage that never leaves a torn file: write a temporary file, fsync, rename."""

import json
import os
import secrets
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

from storage.private_files import private_dir


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
        write_atomically(self.path, json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode(), self.fsync)

    def close(self) -> None:
        """Nothing stays open between operations."""


def write_atomically(path: Path, content: bytes, fsync: bool = True) -> None:
    """After a kill at any instant, `path` holds either its old content or `content`, never a mix."""
    if not path.parent.is_dir():
        private_dir(path.parent)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as file:
            file.write(content)
            file.flush()
            if fsync:
                os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    if fsync:
        fsync_path(path.parent)


def fsync_path(path: Path) -> None:
    """Makes a file, or the renames in a directory, durable across a power cut, not only a kill;
    a file renamed away meanwhile needs nothing more."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
