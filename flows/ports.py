"""What the conversation needs from the outside world, as small protocols the adapters implement."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from flows.records import AgentSession, AuditEntry, Code, Conversation, HelpQueue, Subscription, Throttle


class Store(Protocol):
    """Durable storage: a save returns only once the change would survive a kill."""

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


@dataclass(frozen=True)
class Mail:
    """An e-mail to send: a plain-text part and an HTML part.

    `notify_chat` is the chat to tell when delivery stalls; a `secret` mail (a password) is
    emptied from the outbox once delivered.
    """

    to: str
    subject: str
    text: str
    html: str | None = None
    notify_chat: int | None = None
    secret: bool = False


class Outbox(Protocol):
    """Where e-mails wait until they are delivered."""

    def put(self, mail: Mail) -> str: ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...
