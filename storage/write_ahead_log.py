"""The write-ahead log: an event's changes written once, as one line, before any file they touch.

A line is the event's JSON and its CRC-32; a line cut short by a kill or a full disk fails its
check and is ignored (its event was never acknowledged). The log is kept in segments: once the
files the changes went to are on disk for good (a checkpoint), the old segments are deleted.
At start-up whatever segments remain are applied again, in order; applying twice is harmless.
"""

import json
import logging
import os
import threading
import time
import weakref
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from storage.private_files import private_dir

log = logging.getLogger(__name__)
SEGMENT_BYTES = 8 * 1024 * 1024


def encode(record: dict[str, Any]) -> bytes:
    """ASCII JSON: a lone surrogate or any odd character can never make the encoding fail."""
    body = json.dumps(record, ensure_ascii=True, separators=(",", ":")).encode()
    return body + b"\t" + f"{zlib.crc32(body):08x}".encode() + b"\n"


def decode(line: bytes) -> dict[str, Any] | None:
    """The record, or None for a line that was not written whole."""
    body, _, checksum = line.rstrip(b"\n").rpartition(b"\t")
    if not body or checksum != f"{zlib.crc32(body):08x}".encode():
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


class WriteAheadLog:
    """Appends records to the current segment; `sync` makes everything appended so far durable."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        private_dir(self.directory)
        # Each process writes segments of its own, so a `flexbot` command run beside the bot never
        # appends to, or deletes, the bot's.
        self._prefix = f"{time.time_ns():020d}-{os.getpid()}"
        self._number = 1
        self._closers: dict[int, weakref.finalize] = {}
        self._file = self._open(self._number)
        self._lock = threading.Lock()  # appends on the event loop, syncs and rotations on a thread

    def _open(self, number: int) -> int:
        """A raw descriptor, closed when the log is (or when it is collected, in a short-lived command)."""
        descriptor = os.open(self._segment(number), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._closers[descriptor] = weakref.finalize(self, os.close, descriptor)  # runs once, at most
        return descriptor

    def _segment(self, number: int) -> Path:
        return self.directory / f"{self._prefix}-{number:06d}.log"

    def append(self, record: dict[str, Any]) -> None:
        """One write; on failure (a full disk) the segment is cut back so the next line starts clean."""
        line = encode(record)
        with self._lock:
            offset = os.lseek(self._file, 0, os.SEEK_END)
            try:
                written = os.write(self._file, line)
                if written != len(line):
                    raise OSError(f"short write to the write-ahead log ({written} of {len(line)} bytes)")
            except BaseException:
                os.ftruncate(self._file, offset)
                raise

    @property
    def size(self) -> int:
        return os.lseek(self._file, 0, os.SEEK_END)

    def sync(self) -> None:
        with self._lock:
            descriptor = self._file
        os.fsync(descriptor)

    def rotate(self) -> list[Path]:
        """Starts a new segment; returns the older ones, which a checkpoint may delete."""
        with self._lock:
            old = self._file
            self._number += 1
            self._file = self._open(self._number)
        os.fsync(old)
        self._closers.pop(old)()
        return self.older_segments()

    def older_segments(self) -> list[Path]:
        """This log's own segments but the one being written."""
        return [self._segment(number) for number in range(1, self._number) if self._segment(number).exists()]

    def close(self) -> list[Path]:
        """Every segment of this log, for a final checkpoint to delete."""
        with self._lock:
            self._closers.pop(self._file)()
            self._number += 1
        return self.older_segments()


def segments(directory: Path) -> list[Path]:
    """The segments left in `directory`, in the order they were written."""
    return sorted(directory.glob("*.log"))


def read_segments(paths: list[Path]) -> Iterator[dict[str, Any]]:
    """Every whole record of these segments, in order; torn lines are skipped."""
    for path in paths:
        with path.open("rb") as file:
            for number, line in enumerate(file, 1):
                record = decode(line)
                if record is None:
                    log.warning("write-ahead log %s: line %d is not whole, ignored", path.name, number)
                    continue
                yield record
