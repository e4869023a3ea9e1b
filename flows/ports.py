"""What the conversation needs from the outside world, as small protocols the adapters implement."""

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from flows.records import AgentSession, AuditEntry, Code, Conversation, HelpQueue, Order, Subscription, Throttle


class RecordUnavailable(Exception):
    """A record the store cannot give back (unreadable: set aside for the operator; or missing)."""

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} record {key} is unavailable")
        self.kind, self.key = kind, key


class Store(Protocol):
    """Durable storage, one commit per event.

    Inside `with store.event():` every save, audit entry and mail is held back and committed
    together when the block ends, or dropped if it raises; loads see the event's own saves. A save
    outside an event is an event of its own. A commit survives a kill once it returns, and a power
    cut once `durable()` has returned: a transport sends its reply only after that.
    A record that cannot be read raises `RecordUnavailable` and is set aside, never lost.
    """

    def event(self) -> AbstractContextManager[None]: ...

    async def durable(self) -> None: ...

    def close(self) -> None: ...

    def load_conversation(self, chat_id: int) -> Conversation | None: ...

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

    def queue_mail(self, mail: "Mail") -> None: ...

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
