"""An in-memory store for flow tests: same contract as the TinyDB one, nothing on disk."""

import json
from collections.abc import Iterator
from typing import Any

from flows.records import AuditEntry
from storage.documents import DocumentStore, checked_key


class MemoryStore(DocumentStore):
    """Implements `flows.ports.Store`; keeps JSON text so no caller shares objects with it."""

    def __init__(self) -> None:
        self._documents: dict[tuple[str, str], str] = {}
        self._audit: dict[str, list[str]] = {}

    def _load(self, kind: str, key: str) -> dict[str, Any] | None:
        text = self._documents.get((kind, key))
        return json.loads(text) if text else None

    def _save(self, kind: str, key: str, document: dict[str, Any]) -> None:
        self._documents[(kind, key)] = json.dumps(document)

    def subscription_numbers(self) -> Iterator[str]:
        yield from sorted(key for kind, key in self._documents if kind == "subscriptions")

    def append_audit(self, entry: AuditEntry) -> None:
        if entry.subscription_number:  # an empty number is the trail of chats not bound yet
            checked_key(entry.subscription_number)
        self._audit.setdefault(entry.subscription_number, []).append(json.dumps(entry.to_dict()))

    def audit_trail(self, subscription_number: str) -> list[AuditEntry]:
        return [AuditEntry.from_dict(json.loads(row)) for row in self._audit.get(subscription_number, [])]
