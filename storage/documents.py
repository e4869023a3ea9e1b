"""The typed side of every store, written once: records in and out as JSON documents by kind and key,
and the event that gathers an event's changes so they commit together."""

import hashlib
import json
import logging
import random
import secrets
import threading
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from flows.ports import EventConflict, Mail, RecordUnavailable
from flows.records import (AgentSession, AuditEntry, Code, Conversation, Feedback, HelpQueue, Order, Record, Reminder,
                           Subscription, Throttle)
from flows.report.facts import FOLDED, FactsRow, ReportFacts

log = logging.getLogger(__name__)
R = TypeVar("R", bound=Record)
T = TypeVar("T")
EVENT_ATTEMPTS = 30  # conflicts come from another process committing first: each rerun is likely to win
REMEMBERED_UPDATES = 10_000
FACTS = "report-facts"  # the kind of each subscription's report facts, kept under its number


@dataclass
class Changes:
    """What one event wrote: the documents by (kind, key), the audit entries and the mails, in order."""

    documents: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    audit: list[dict[str, Any]] = field(default_factory=list)  # {"id", "entry"}
    mails: list[dict[str, Any]] = field(default_factory=list)  # {"key", "mail"}
    updates: list[tuple[int, int]] = field(default_factory=list)  # (chat id, update id) handled

    def __bool__(self) -> bool:
        return bool(self.documents or self.audit or self.mails or self.updates)

    def to_dict(self) -> dict[str, Any]:
        return {"documents": [[kind, key, document] for (kind, key), document in self.documents.items()],
                "audit": self.audit, "mails": self.mails}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Changes":
        return cls({(kind, key): document for kind, key, document in data["documents"]},
                   list(data["audit"]), list(data["mails"]))


class DamagedDocument(Exception):
    """The store read a record's bytes and they are no document: the one failure that sets a record
    aside. Anything else a read raises (the database or the disk out of reach) is an outage, which
    fails the event and leaves the record where it is."""


class DocumentStore(ABC):
    """A store only has to read documents, commit an event's changes and set a bad record aside."""

    _local = threading.local()  # the open event, per thread: the inbox journal reads from its own

    def __init__(self) -> None:
        self._handled: OrderedDict[tuple[int, int], None] = OrderedDict()

    @abstractmethod
    def _read(self, kind: str, key: str) -> dict[str, Any] | None:
        """The committed document; `DamagedDocument` when its bytes are no document, `StoreUnavailable`
        when the store cannot be reached (the event fails, nothing is set aside)."""

    @abstractmethod
    def _commit(self, changes: Changes) -> None: ...

    @abstractmethod
    def _set_aside(self, kind: str, key: str) -> None:
        """Moves an unreadable record out of the way, where an operator can find it."""

    @abstractmethod
    def _audit_rows(self, subscription_number: str) -> list[dict[str, Any]]: ...

    @abstractmethod
    def _facts_rows(self) -> Iterator[tuple[str, dict[str, Any] | None]]:
        """Each subscription's number and its report facts' document (None: none kept, or unreadable), streamed."""

    @abstractmethod
    def _history(self, number: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """A subscription's document (None: unreadable) and audit rows, read without setting anything
        aside: for the few whose report facts must be rebuilt."""

    def _transaction(self, chat: int | None) -> AbstractContextManager[None]:
        """Around an event's reads and its commit; a store shared by processes opens one there."""
        return nullcontext()

    @contextmanager
    def event(self, chat: int | None = None) -> Iterator[None]:
        """One commit for everything written inside; nothing at all if the block raises."""
        if self._changes() is not None:  # an event inside an event is part of it
            yield
            return
        self._local.__dict__[id(self)] = changes = Changes()
        try:
            with self._transaction(chat):
                yield
                if changes:
                    self._commit(changes)
        finally:
            del self._local.__dict__[id(self)]
        self._remember(changes.updates)

    def run_event(self, work: Callable[[], T], chat: int | None = None) -> T:
        """Reruns the whole event after a conflict, with a short random pause so two processes that
        keep colliding drift apart; inside an event, the outer event is the one rerun."""
        if self._changes() is not None:
            return work()
        attempt = 1
        while True:
            try:
                with self.event(chat):
                    return work()
            except EventConflict:
                if attempt == EVENT_ATTEMPTS:
                    raise
                log.info("chat %s: event conflicted with another process, run again (attempt %d)", chat, attempt)
                time.sleep(random.uniform(0, 0.002 * attempt))
                attempt += 1

    def claim_update(self, chat_id: int, update_id: int) -> bool:
        changes = self._changes()
        if changes is None:
            raise RuntimeError("claim_update outside an event")
        if (chat_id, update_id) in changes.updates or self._was_handled(chat_id, update_id):
            return False
        changes.updates.append((chat_id, update_id))
        return True

    def _was_handled(self, chat_id: int, update_id: int) -> bool:
        """The last updates this process committed, in memory: enough for a store only one process
        writes, whose conversations also remember their last update across restarts."""
        return (chat_id, update_id) in self._handled

    def _remember(self, updates: list[tuple[int, int]]) -> None:
        for update in updates:
            self._handled[update] = None
        while len(self._handled) > REMEMBERED_UPDATES:
            self._handled.popitem(last=False)

    async def durable(self) -> None:
        """Stores without a disk have nothing to wait for."""

    def close(self) -> None:
        """Nothing held open."""

    def _changes(self) -> Changes | None:
        return self._local.__dict__.get(id(self))

    def _load(self, kind: str, key: str, set_aside: bool = True) -> dict[str, Any] | None:
        changes = self._changes()
        if changes is not None and (kind, key) in changes.documents:
            return json.loads(json.dumps(changes.documents[kind, key]))  # never share the pending one
        try:
            return self._read(kind, key)
        except DamagedDocument as error:
            raise (self._unreadable(kind, key, error) if set_aside else RecordUnavailable(kind, key)) from error

    def _save(self, kind: str, key: str, document: dict[str, Any]) -> None:
        with self.event():
            changes = self._changes()
            assert changes is not None
            changes.documents[kind, key] = document

    def _record(self, kind: str, key: str, record_type: type[R], set_aside: bool = True) -> R | None:
        """`set_aside` False: an unreadable record raises `RecordUnavailable` and stays where it is."""
        document = self._load(kind, key, set_aside)
        if document is None:
            return None
        try:
            return record_type.from_dict(document)
        except Exception as error:  # readable JSON, but not the record it should be
            raise (self._unreadable(kind, key, error) if set_aside else RecordUnavailable(kind, key)) from error

    def _unreadable(self, kind: str, key: str, error: Exception) -> RecordUnavailable:
        cause = error.__cause__ if isinstance(error, DamagedDocument) and error.__cause__ else error
        log.error("%s record %s cannot be read (%s): set aside", kind, key, type(cause).__name__)
        try:
            self._set_aside(kind, key)
        except OSError as failure:
            log.error("%s record %s could not be set aside (%s)", kind, key, type(failure).__name__)
        return RecordUnavailable(kind, key)

    def _bookkeeping(self, kind: str, key: str, parse: Callable[[dict[str, Any]], T]) -> T | None:
        """Counters and indexes (throttles, reminder slots) that no event may fail on: one that cannot
        be read is set aside and logged like any record, then read as empty; an outage fails the event."""
        try:
            document = self._load(kind, key)
        except RecordUnavailable:
            return None
        if document is None:
            return None
        try:
            return parse(document)
        except Exception as error:  # readable JSON of the wrong shape
            self._unreadable(kind, key, error)
            return None

    def load_conversation(self, chat_id: int) -> Conversation | None:
        return self._record("conversations", str(chat_id), Conversation)

    def peek_conversation(self, chat_id: int) -> Conversation | None:
        return self._record("conversations", str(chat_id), Conversation, set_aside=False)

    def save_conversation(self, conversation: Conversation) -> None:
        self._save("conversations", str(conversation.chat_id), conversation.to_dict())

    def load_subscription(self, number: str) -> Subscription | None:
        return self._record("subscriptions", number, Subscription) if safe_key(number) else None

    def save_subscription(self, subscription: Subscription) -> None:
        with self.event():
            self._save("subscriptions", checked_key(subscription.number), subscription.to_dict())
            self._keep_facts(subscription.number, lambda facts: facts.take(subscription))

    def load_code(self, value: str) -> Code | None:
        return self._record("codes", code_key(value), Code) if safe_key(value) else None

    def save_code(self, code: Code) -> None:
        self._save("codes", code_key(checked_key(code.value)), code.to_dict())

    def load_queue(self) -> HelpQueue:
        """A queue set aside as unreadable starts again empty, but numbers on from where it stood (a
        copy of its counter is saved beside it), so no new request takes an old request's number."""
        try:
            queue = self._record("helpdesk", "queue", HelpQueue)
        except RecordUnavailable:
            queue = None
        if queue is not None:
            return queue
        return HelpQueue(next_number=self._bookkeeping("helpdesk", "counter", lambda d: int(d["next_number"])) or 1)

    def save_queue(self, queue: HelpQueue) -> None:
        self._save("helpdesk", "queue", queue.to_dict())
        self._save("helpdesk", "counter", {"next_number": queue.next_number})

    def load_agent(self, agent_id: int) -> AgentSession | None:
        return self._record("agents", str(agent_id), AgentSession)

    def save_agent(self, session: AgentSession) -> None:
        self._save("agents", str(session.agent_id), session.to_dict())

    def append_audit(self, entry: AuditEntry) -> None:
        if entry.subscription_number:  # an empty number is the trail of chats not bound yet
            checked_key(entry.subscription_number)
        with self.event():
            changes = self._changes()
            assert changes is not None
            changes.audit.append({"id": secrets.token_hex(8), "entry": entry.to_dict()})
            if entry.subscription_number and entry.action in FOLDED:
                self._keep_facts(entry.subscription_number, lambda facts: facts.fold(entry))

    def _keep_facts(self, number: str, change: Callable[[ReportFacts], None]) -> None:
        """Inside the event that changes what a subscription's report facts come from: `change` them,
        or rebuild them from the record and the whole trail (this event's part included) when there
        are none yet or they cannot be read (set aside: they are only ever derived). Without a
        readable record there is nothing to rebuild from: the report rebuilds them when it can."""
        try:
            facts = self._record(FACTS, number, ReportFacts)
        except RecordUnavailable:
            facts = None
        if facts is None:
            try:
                subscription = self._record("subscriptions", number, Subscription, set_aside=False)
            except RecordUnavailable:
                return
            if subscription is None:
                return
            changes = self._changes()
            assert changes is not None
            pending = [row for row in changes.audit if audit_key(row["entry"]) == number]
            facts = ReportFacts.of(subscription, _trail(self._audit_rows(number) + pending)[0])
            self._save(FACTS, number, facts.to_dict())
            return
        before = facts.to_dict()
        change(facts)
        after = facts.to_dict()
        if after != before:
            self._save(FACTS, number, after)

    def audit_trail(self, subscription_number: str) -> list[AuditEntry]:
        """In the order written; an entry applied twice (a replay after a kill) appears once, an entry
        that cannot be read is logged and left out."""
        entries, unreadable = _trail(self._audit_rows(subscription_number))
        if unreadable:
            log.error("%d audit entries of %s cannot be read: left out", unreadable, subscription_number)
        return entries

    def report_facts(self) -> Iterator[FactsRow]:
        for number, document in self._facts_rows():
            facts = _parsed(ReportFacts, document)
            if facts is not None:
                yield FactsRow(number, facts)
                continue
            subscription_document, rows = self._history(number)
            subscription = _parsed(Subscription, subscription_document)
            entries, unreadable = _trail(rows)
            yield FactsRow(number, ReportFacts.of(subscription, entries) if subscription else None, unreadable)

    def queue_mail(self, mail: Mail) -> None:
        with self.event():
            changes = self._changes()
            assert changes is not None
            changes.mails.append({"key": f"{secrets.token_hex(12)}.flexbot", "mail": asdict(mail)})

    def load_order(self, order_id: str) -> Order | None:
        """Found by a digest of the shop's order id, whatever characters the shop puts in it."""
        return self._record("orders", code_key(order_id), Order)

    def save_order(self, order: Order) -> None:
        self._save("orders", code_key(order.order_id), order.to_dict())

    def save_probe(self, key: str, at: float) -> None:
        self._save("probes", checked_key(key), {"at": at})

    def load_throttle(self, key: str) -> Throttle:
        """An unknown key has sent nothing yet."""
        return self._bookkeeping("throttles", checked_key(key), Throttle.from_dict) or Throttle(key)

    def save_throttle(self, throttle: Throttle) -> None:
        self._save("throttles", checked_key(throttle.key), throttle.to_dict())

    def load_feedback(self, key: str) -> Feedback | None:
        return self._record("feedback", key, Feedback) if safe_key(key) else None

    def save_feedback(self, feedback: Feedback) -> None:
        self._save("feedback", checked_key(feedback.key), feedback.to_dict())

    def load_reminder(self, key: str) -> Reminder | None:
        return self._record("reminders", key, Reminder) if safe_key(key) else None

    def save_reminder(self, reminder: Reminder) -> None:
        self._save("reminders", checked_key(reminder.key), reminder.to_dict())

    def reminder_slot(self, slot: int) -> list[str]:
        """Keys of the reminders that fell due in this hour when they were scheduled (some moved since)."""
        return self._bookkeeping("reminder-slots", str(slot), lambda document: [str(k) for k in document["keys"]]) or []

    def add_to_reminder_slot(self, slot: int, key: str) -> None:
        keys = self.reminder_slot(slot)
        if key not in keys:
            self._save("reminder-slots", str(slot), {"keys": [*keys, key]})

    def reminder_cursor(self) -> int | None:
        return self._bookkeeping("reminder-slots", "cursor", lambda document: int(document["slot"]))

    def save_reminder_cursor(self, slot: int) -> None:
        self._save("reminder-slots", "cursor", {"slot": slot})


def json_document(text: str | bytes) -> dict[str, Any]:
    """A record's JSON object; `DamagedDocument` for bytes that are none (a row or file damaged by hand)."""
    try:
        document = json.loads(text)
    except ValueError as error:
        raise DamagedDocument(type(error).__name__) from error
    if not isinstance(document, dict):
        raise DamagedDocument("not a JSON object")
    return document


def _parsed(record_type: type[R], document: dict[str, Any] | None) -> R | None:
    """The record a document holds; None for no document, or one of another shape."""
    if document is None:
        return None
    try:
        return record_type.from_dict(document)
    except Exception:  # readable JSON, but not this record (damaged by hand, or another release's shape)
        return None


def _trail(rows: list[dict[str, Any]]) -> tuple[list[AuditEntry], int]:
    """The entries of audit rows, each id once, and how many rows could not be read."""
    seen: set[object] = set()
    entries, unreadable = [], 0
    for row in rows:
        if row.get("id") in seen:
            continue
        seen.add(row.get("id"))
        try:
            entry = AuditEntry.from_dict(row["entry"])
        except Exception:  # not an entry (a row damaged by hand, or another release's shape)
            unreadable += 1
            continue
        if isinstance(entry.details, dict) and isinstance(entry.at, (int, float)):
            entries.append(entry)
        else:
            unreadable += 1
    return entries, unreadable


def safe_key(key: str) -> bool:
    """Keys may become file names: refuse anything that could leave the store's directory."""
    return bool(key) and key.isascii() and key.replace("-", "").replace("_", "").isalnum()


def checked_key(key: str) -> str:
    """The key itself; ValueError for one that could not safely be a file name."""
    if not safe_key(key):
        raise ValueError(f"unsafe store key: {key!r}")
    return key


def code_key(value: str) -> str:
    """A code is a secret: its record is found by a digest, so no file name gives a live code away."""
    return hashlib.blake2b(value.encode(), digest_size=16).hexdigest()


def audit_key(entry: dict[str, Any]) -> str:
    """Actions before a chat is bound to a subscription are kept per chat, never in one growing file."""
    return entry["subscription_number"] or "unbound-" + entry["actor"].replace(":", "-")
