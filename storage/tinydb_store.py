"""The durable store: many small TinyDB files, one per record, so a save costs the same at any size.

TinyDB re-reads and rewrites its whole file on every operation, so one big file gets slower with
every customer. Here each conversation, subscription and code is its own file, spread over 256
folders by a hash of its key and written atomically; each subscription's audit trail is a file too.
"""

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.table import Document

from flows.records import AuditEntry
from storage.atomic_json import AtomicJSONStorage
from storage.documents import DocumentStore, checked_key, safe_key

RECORD = "record"
AUDIT = "audit"


class TinyDBStore(DocumentStore):
    """Implements `flows.ports.Store` on a directory of TinyDB files."""

    def __init__(self, root: str | Path, fsync: bool = True) -> None:
        self.root = Path(root)
        self.fsync = fsync

    def _path(self, kind: str, key: str) -> Path:
        shard = hashlib.blake2b(checked_key(key).encode(), digest_size=1).hexdigest()
        return self.root / kind / shard / f"{key}.json"

    def _database(self, kind: str, key: str) -> TinyDB:
        return TinyDB(self._path(kind, key), storage=AtomicJSONStorage, fsync=self.fsync)

    def _load(self, kind: str, key: str) -> dict[str, Any] | None:
        if not self._path(kind, key).exists():
            return None
        with self._database(kind, key) as database:
            return database.table(RECORD).get(doc_id=1)

    def _save(self, kind: str, key: str, document: dict[str, Any]) -> None:
        with self._database(kind, key) as database:
            database.table(RECORD).upsert(Document(document, doc_id=1))  # one record per file

    def subscription_numbers(self) -> Iterator[str]:
        for path in sorted((self.root / "subscriptions").glob("*/*.json")):
            yield path.stem

    def append_audit(self, entry: AuditEntry) -> None:
        with self._database("audit", _audit_key(entry)) as database:
            database.table(AUDIT).insert(entry.to_dict())

    def audit_trail(self, subscription_number: str) -> list[AuditEntry]:
        if not safe_key(subscription_number) or not self._path("audit", subscription_number).exists():
            return []
        with self._database("audit", subscription_number) as database:
            return [AuditEntry.from_dict(row) for row in database.table(AUDIT).all()]


def _audit_key(entry: AuditEntry) -> str:
    """Actions before a chat is bound to a subscription are kept per chat, never in one growing file."""
    return entry.subscription_number or "unbound-" + entry.actor.replace(":", "-")
