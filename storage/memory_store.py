"""An in-memory store for flow tests: same contract as the TinyDB one, nothing on disk."""

import json
from collections.abc import Iterator
from typing import Any

from flows.ports import Mail
from storage.documents import FACTS, Changes, DamagedDocument, DocumentStore, audit_key, json_document


class MemoryStore(DocumentStore):
    """Implements `flows.ports.Store`; keeps JSON text so no caller shares objects with it.

    `mails` are the e-mails committed, in order, so a test can read them."""

    def __init__(self) -> None:
        super().__init__()
        self._documents: dict[tuple[str, str], str] = {}
        self._audit: dict[str, list[str]] = {}
        self.set_aside: dict[tuple[str, str], str] = {}
        self.mails: list[Mail] = []

    def _read(self, kind: str, key: str) -> dict[str, Any] | None:
        text = self._documents.get((kind, key))
        return json_document(text) if text is not None else None

    def _commit(self, changes: Changes) -> None:
        for (kind, key), document in changes.documents.items():
            self._documents[kind, key] = json.dumps(document)
        for row in changes.audit:
            self._audit.setdefault(audit_key(row["entry"]), []).append(json.dumps(row))
        self.mails.extend(Mail(**queued["mail"]) for queued in changes.mails)

    def _set_aside(self, kind: str, key: str) -> None:
        self.set_aside[kind, key] = self._documents.pop((kind, key))

    def _audit_rows(self, subscription_number: str) -> list[dict[str, Any]]:
        return [json.loads(row) for row in self._audit.get(subscription_number, [])]

    def subscription_numbers(self) -> Iterator[str]:
        yield from sorted(key for kind, key in self._documents if kind == "subscriptions")

    def _facts_rows(self) -> Iterator[tuple[str, dict[str, Any] | None]]:
        for number in list(self.subscription_numbers()):
            yield number, self._document(FACTS, number)

    def _history(self, number: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        return self._document("subscriptions", number), self._audit_rows(number)

    def _document(self, kind: str, key: str) -> dict[str, Any] | None:
        try:
            return json_document(self._documents[kind, key])
        except (KeyError, DamagedDocument):
            return None
