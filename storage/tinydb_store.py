"""The durable store: many small TinyDB files, one per record, so a save costs the same at any size.

TinyDB re-reads and rewrites its whole file on every operation, so one big file gets slower with
every customer. Here each conversation, subscription and code is its own file, spread over 256
folders by a hash of its key. An event's changes are first written as one line of the write-ahead
log, then to their files (temporary file, rename); so a kill at any instant leaves each event all
there or not at all. Nothing is fsynced on the way: `durable()` fsyncs the log for every event
committed since the last call at once (group commit), and a checkpoint fsyncs the files before
their log segment is deleted. Each subscription's audit trail is one append-only file a day.
"""

import asyncio
import errno
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinydb import TinyDB

from flows.ports import Mail, StoreUnavailable
from storage.atomic_json import AtomicJSONStorage, fsync_path, write_atomically
from storage.documents import FACTS, Changes, DamagedDocument, DocumentStore, audit_key, checked_key, safe_key
from storage.maildir_outbox import MaildirOutbox
from storage.private_files import private_dir
from storage.write_ahead_log import SEGMENT_BYTES, WriteAheadLog, read_segments, segments

log = logging.getLogger(__name__)
RECORD = "record"
STAMP = "stamp"  # when the record was committed: a replay never puts an older version back


@dataclass
class _Pending:
    """Events whose files could not all be written (a full disk): kept here, read first, written again."""

    changes: Changes
    stamp: int


class TinyDBStore(DocumentStore):
    """Implements `flows.ports.Store` on a directory of TinyDB files and a write-ahead log.

    `recover`: apply what earlier processes logged and did not finish; only the process that owns
    the data directory may (another one could still be writing its log)."""

    def __init__(self, root: str | Path, fsync: bool = True, outbox: MaildirOutbox | None = None,
                 recover: bool = False) -> None:
        super().__init__()
        self.root = Path(root)
        self.fsync = fsync
        self.outbox = outbox
        self._log: WriteAheadLog | None = None  # opened at the first commit: reading writes nothing
        self._lock = threading.Lock()  # a checkpoint swaps the log and the dirty files at one instant
        self._dirty: set[Path] = set()
        self._unwritten: list[_Pending] = []
        self._audit_root = os.path.join(self.root, "audit")
        self._retired: list[Path] = []  # log segments still needed: events in them are not all in files
        self._appended = self._synced = 0
        self._last_stamp = 0  # stamps only grow, whatever the wall clock does (stepped back, or too coarse)
        self._syncing: asyncio.Future[None] | None = None
        self._audit_checked: set[Path] = set()
        if recover:
            self.recover()

    # Reading.

    def _path(self, kind: str, key: str) -> Path:
        shard = hashlib.blake2b(checked_key(key).encode(), digest_size=1).hexdigest()
        return self.root / kind / shard / f"{key}.json"

    def _read(self, kind: str, key: str) -> dict[str, Any] | None:
        for pending in reversed(self._unwritten):
            if (kind, key) in pending.changes.documents:
                return json.loads(json.dumps(pending.changes.documents[kind, key]))
        path = self._path(kind, key)
        try:
            if not path.exists():
                return None
            with TinyDB(path, storage=AtomicJSONStorage, fsync=False) as database:
                document = database.table(RECORD).get(doc_id=1)
        except OSError as error:  # the disk, not the record: nothing to set aside
            raise StoreUnavailable(f"{kind} record {key} cannot be read from disk "
                                   f"({errno.errorcode.get(error.errno or 0, type(error).__name__)})") from error
        except Exception as error:  # bytes that are no TinyDB document: torn, garbage
            raise DamagedDocument(type(error).__name__) from error
        if not isinstance(document, dict):
            raise DamagedDocument("no record in the file")
        return dict(document)

    def subscription_numbers(self) -> Iterator[str]:
        for path in sorted((self.root / "subscriptions").glob("*/*.json")):
            yield path.stem

    def _facts_rows(self) -> Iterator[tuple[str, dict[str, Any] | None]]:
        """Shard by shard (a few hundred names at a time, never the whole listing): the subscriptions'
        names, and the facts file of each that has one, read straight from its JSON (the format TinyDB
        keeps): TinyDB's own open costs more than the read. Facts and record share their shard."""
        folder = os.path.join(self.root, "subscriptions")  # plain strings: pathlib costs more than the reads here
        facts_folder = os.path.join(self.root, FACTS)
        for shard in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
            try:
                kept = set(os.listdir(os.path.join(facts_folder, shard)))
            except FileNotFoundError:
                kept = set()
            for name in sorted(os.listdir(os.path.join(folder, shard))):
                number = name.removesuffix(".json")
                if name.endswith(".json") and safe_key(number):
                    yield number, self._snapshot(os.path.join(facts_folder, shard, name)) if name in kept else None

    def _history(self, number: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        return self._snapshot(str(self._path("subscriptions", number))), self._audit_rows(number)

    @staticmethod
    def _snapshot(path: str) -> dict[str, Any] | None:
        """A record's document, None when the file is torn or damaged, or was set aside since the listing
        (named by the reader, left where it is); a disk that cannot be read is `StoreUnavailable`."""
        try:
            with open(path, "rb") as file:
                document = json.loads(file.read())[RECORD]["1"]
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            return None
        except OSError as error:
            raise StoreUnavailable(f"a record file cannot be read ({type(error).__name__})") from error
        return document if isinstance(document, dict) else None

    def _audit_rows(self, subscription_number: str) -> list[dict[str, Any]]:
        if not safe_key(subscription_number):
            return []
        directory = self._audit_folder(subscription_number)
        try:
            days = sorted(name for name in os.listdir(directory) if name.endswith(".jsonl"))
        except FileNotFoundError:
            days = []
        rows = []
        for day in days:
            with open(os.path.join(directory, day), "rb") as file:
                rows += _lines(file.read())
        rows.extend(row for pending in self._unwritten for row in pending.changes.audit
                    if audit_key(row["entry"]) == subscription_number)
        return rows

    def _audit_dir(self, key: str) -> Path:
        return Path(self._audit_folder(key))

    def _audit_folder(self, key: str) -> str:
        """As a plain string: the report reads 100,000 of them, and pathlib costs more than the read."""
        shard = hashlib.blake2b(checked_key(key).encode(), digest_size=1).hexdigest()
        return os.path.join(self._audit_root, shard, key)

    def _set_aside(self, kind: str, key: str) -> None:
        path = self._path(kind, key)
        target = self.root / "quarantine" / kind / f"{key}.{time.time_ns()}.json"
        private_dir(target.parent)
        os.replace(path, target)

    # Writing.

    def _commit(self, changes: Changes) -> None:
        """One log line, then the files; raises only if the log line could not be written (nothing
        happened then). A file that cannot be written is kept in memory and written again later."""
        with self._lock:
            stamp = self._last_stamp = max(time.time_ns(), self._last_stamp + 1)
            self._retry_unwritten()
            if self._log is None:
                self._log = WriteAheadLog(self.root / "wal")
            self._log.append({"stamp": stamp, **changes.to_dict()})
            self._appended += 1
            try:
                self._apply(changes, stamp)
            except OSError as error:
                log.error("an event is logged but its files could not be written (%s): kept in memory, "
                          "written again at the next event", errno.errorcode.get(error.errno or 0, error))
                self._unwritten.append(_Pending(changes, stamp))

    def _retry_unwritten(self) -> None:
        while self._unwritten:
            self._apply(self._unwritten[0].changes, self._unwritten[0].stamp)
            self._unwritten.pop(0)

    def _apply(self, changes: Changes, stamp: int, replaying: bool = False) -> None:
        for (kind, key), document in changes.documents.items():
            path = self._path(kind, key)
            if replaying and self._stamp(path) > stamp:
                continue  # a later event already wrote this record
            write_atomically(path, json.dumps({RECORD: {"1": document}, STAMP: {"1": {"ns": stamp}}},
                                              ensure_ascii=True, separators=(",", ":")).encode(), fsync=False)
            self._dirty.add(path)
        for row in changes.audit:
            self._append_audit_line(row, replaying)
        for queued in changes.mails:
            if self.outbox is not None:
                path = self.outbox.deposit(queued["key"], Mail(**queued["mail"]))
                if path is not None:
                    self._dirty.add(path)

    @staticmethod
    def _stamp(path: Path) -> int:
        try:
            return int(json.loads(path.read_bytes())[STAMP]["1"]["ns"])
        except (OSError, ValueError, KeyError, TypeError):
            return -1

    def _append_audit_line(self, row: dict[str, Any], replaying: bool) -> None:
        """One line at the end of the day's file: the cost of an entry never grows with the trail."""
        day = time.strftime("%Y-%m-%d", time.gmtime(row["entry"]["at"]))
        path = self._audit_dir(audit_key(row["entry"])) / f"{day}.jsonl"
        line = json.dumps(row, ensure_ascii=True, separators=(",", ":")).encode() + b"\n"
        if path not in self._audit_checked:  # a line cut short by a kill must not swallow the next one
            if not path.parent.is_dir():
                private_dir(path.parent)
            if path.exists() and path.stat().st_size and not path.read_bytes().endswith(b"\n"):
                line = b"\n" + line
            self._audit_checked.add(path)
        if replaying and path.exists() and f'"id":"{row["id"]}"'.encode() in path.read_bytes():
            return
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(descriptor, line)
        finally:
            os.close(descriptor)
        self._dirty.add(path)

    # Durability.

    async def durable(self) -> None:
        """Every event committed so far is on disk for good: one fsync serves all who wait at once."""
        target = self._appended
        while self.fsync and self._synced < target:
            if self._syncing is None or self._syncing.done():
                self._syncing = asyncio.ensure_future(asyncio.to_thread(self._sync))
            await asyncio.shield(self._syncing)

    def _sync(self) -> None:
        with self._lock:
            upto, wal = self._appended, self._log
        if wal is not None:
            wal.sync()
            if wal.size > SEGMENT_BYTES:
                self.checkpoint()
        self._synced = max(self._synced, upto)

    def checkpoint(self, closing: bool = False) -> None:
        """The files are made durable, then the log segments that described them are deleted; while
        an event's files could not be written (a full disk), every segment stays: the next checkpoint
        that finds everything written deletes them, or the next start applies them."""
        with self._lock:
            if self._log is None:
                return
            try:
                self._retry_unwritten()
            except OSError:
                pass  # still not written: the log keeps it
            self._retired += self._log.close() if closing else self._log.rotate()
            if closing:
                self._log = None
            dirty, self._dirty = self._dirty, set()
            unwritten = len(self._unwritten)
        try:
            if self.fsync:
                for path in {*dirty, *(path.parent for path in dirty)}:
                    fsync_path(path)
        except OSError as error:
            self._dirty |= dirty
            log.error("the store's files could not be made durable (%s): the write-ahead log is kept",
                      errno.errorcode.get(error.errno or 0, error))
            return
        if unwritten:
            log.error("%d event(s) could not be written to their files: the write-ahead log is kept, "
                      "the next start applies it", unwritten)
            return
        retired, self._retired = self._retired, []
        for segment in retired:
            try:
                segment.unlink(missing_ok=True)
            except OSError as error:  # applied again at the next start, harmlessly
                log.warning("a write-ahead log segment could not be deleted (%s)",
                            errno.errorcode.get(error.errno or 0, error))

    def close(self) -> None:
        """A clean stop leaves no log behind, unless events still wait to be written."""
        self.checkpoint(closing=True)

    def recover(self) -> None:
        """Applies what killed processes logged, oldest first; a version already overtaken is skipped."""
        directory = self.root / "wal"
        leftovers = segments(directory) if directory.is_dir() else []
        if not leftovers:
            return
        count = 0
        for record in read_segments(leftovers):
            stamp = int(record["stamp"])
            self._apply(Changes.from_dict(record), stamp, replaying=True)
            self._last_stamp = max(self._last_stamp, stamp)
            count += 1
        if self.fsync:
            for path in {*self._dirty, *(path.parent for path in self._dirty)}:
                fsync_path(path)
        self._dirty.clear()
        for segment in leftovers:
            segment.unlink()
        log.warning("applied %d logged event(s) a previous run had not finished writing", count)


def _lines(data: bytes) -> list[Any]:
    """The JSON lines of an audit file, parsed in one go; when one is cut short by a kill (its event
    is applied again from the log), line by line without it."""
    try:
        return list(json.loads(b"[" + data.rstrip(b"\n").replace(b"\n", b",") + b"]")) if data.strip() else []
    except ValueError:
        rows = []
        for line in data.splitlines():
            try:
                rows.append(json.loads(line))
            except ValueError:
                continue
        return rows
