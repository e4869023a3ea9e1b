"""What the conversation needs from the outside world, as small protocols the adapters implement."""

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol, TypeVar

from flows.records import (AgentSession, AuditEntry, Code, Conversation, Feedback, HelpQueue, Order, Reminder,
                           Subscription, Throttle)
from flows.report.facts import FactsRow


class RecordUnavailable(Exception):
    """A record the store cannot give back (unreadable: set aside for the operator; or missing)."""

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} record {key} is unavailable")
        self.kind, self.key = kind, key


class EventConflict(Exception):
    """Another process changed a record this event read (or the database broke a deadlock) before it
    committed: nothing of the event was kept, and it must run again from the start."""


class StoreUnavailable(Exception):
    """The store cannot be reached (a database outage): nothing of the event was kept. A transport
    must not acknowledge the update, so that it comes again; it deletes the incoming message first
    when `delete_incoming` says it may be a password (the update it comes again in still holds it)."""

    delete_incoming = False


T = TypeVar("T")


class Store(Protocol):
    """Durable storage, one commit per event.

    Inside `with store.event():` every save, audit entry and mail is held back and committed
    together when the block ends, or dropped if it raises; loads see the event's own saves. A save
    outside an event is an event of its own. A commit survives a kill once it returns, and a power
    cut once `durable()` has returned: a transport sends its reply only after that.
    A record whose bytes are no record raises `RecordUnavailable` and is set aside, never lost; a store
    that cannot be reached (a connection lost, a disk error) raises `StoreUnavailable` and sets nothing aside.

    Several processes may share a store (PostgreSQL): `event(chat=...)` then also keeps that chat's
    events one at a time across processes, and a commit raises `EventConflict` when a record it read
    was changed meanwhile; `run_event` runs an event again until it commits.

    Each subscription's report facts follow its record and its audit trail in the same commit: a
    save of the one or an entry of the other folds into them (`flows.report.facts`), so a report
    reads one small record per subscription.
    """

    def event(self, chat: int | None = None) -> AbstractContextManager[None]: ...

    def run_event(self, work: Callable[[], T], chat: int | None = None) -> T:
        """`work()` as one event, run again from the start after each `EventConflict`."""
        ...

    def claim_update(self, chat_id: int, update_id: int) -> bool:
        """Inside an event: False when this update was already handled (a redelivery), else it is
        recorded as handled when the event commits."""
        ...

    async def durable(self) -> None: ...

    def close(self) -> None: ...

    def load_conversation(self, chat_id: int) -> Conversation | None: ...

    def peek_conversation(self, chat_id: int) -> Conversation | None:
        """A look from outside the chat's events (the inbox journal's): an unreadable record raises
        `RecordUnavailable` but stays where it is, for the chat's next event to set aside and say so."""
        ...

    def save_conversation(self, conversation: Conversation) -> None: ...

    def load_subscription(self, number: str) -> Subscription | None: ...

    def save_subscription(self, subscription: Subscription) -> None: ...

    def subscription_numbers(self) -> Iterator[str]: ...

    def load_code(self, value: str) -> Code | None: ...

    def save_code(self, code: Code) -> None: ...

    def load_queue(self) -> HelpQueue: ...

    def save_queue(self, queue: HelpQueue) -> None: ...

    def load_agent(self, agent_id: int) -> AgentSession | None: ...

    def save_agent(self, session: AgentSession) -> None: ...

    def append_audit(self, entry: AuditEntry) -> None: ...

    def load_throttle(self, key: str) -> Throttle: ...

    def save_throttle(self, throttle: Throttle) -> None: ...

    def audit_trail(self, subscription_number: str) -> list[AuditEntry]: ...

    def report_facts(self) -> Iterator[FactsRow]:
        """Every subscription's report facts, one at a time and in no set order: those kept with it
        (see `flows.report.facts`), or for one that has none or whose facts cannot be read, facts
        rebuilt from its record and trail. Memory stays flat however many there are, nothing is changed
        (nothing is set aside), and one that cannot be read never stops the stream."""
        ...

    def queue_mail(self, mail: "Mail") -> None: ...

    def load_feedback(self, key: str) -> Feedback | None: ...

    def save_feedback(self, feedback: Feedback) -> None: ...

    def load_reminder(self, key: str) -> Reminder | None: ...

    def save_reminder(self, reminder: Reminder) -> None: ...

    def reminder_slot(self, slot: int) -> list[str]: ...

    def add_to_reminder_slot(self, slot: int, key: str) -> None: ...

    def reminder_cursor(self) -> int | None: ...

    def save_reminder_cursor(self, slot: int) -> None: ...

    def load_order(self, order_id: str) -> Order | None: ...

    def save_order(self, order: Order) -> None: ...

    def save_probe(self, key: str, at: float) -> None:
        """A tiny record a health check writes to prove the store takes writes."""
        ...


@dataclass(frozen=True)
class Mail:
    """An e-mail to send: a plain-text part and an HTML part.

    `notify_chat` is the chat to tell when delivery stalls; a `secret` mail (a password) is
    emptied from the outbox once delivered. Mail is queued through the store, so it leaves only
    if the event that wrote it commits.
    """

    to: str
    subject: str
    text: str
    html: str | None = None
    notify_chat: int | None = None
    secret: bool = False


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...
