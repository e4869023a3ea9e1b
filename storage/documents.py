"""The typed side of every store, written once: records in and out as JSON documents by kind and key."""

from abc import ABC, abstractmethod
from typing import Any

from flows.records import AgentSession, Code, Conversation, HelpQueue, Subscription, Throttle


class DocumentStore(ABC):
    """A store only has to keep documents by (kind, key); this turns them into records."""

    @abstractmethod
    def _load(self, kind: str, key: str) -> dict[str, Any] | None: ...

    @abstractmethod
    def _save(self, kind: str, key: str, document: dict[str, Any]) -> None: ...

    def load_conversation(self, chat_id: int) -> Conversation | None:
        document = self._load("conversations", str(chat_id))
        return Conversation.from_dict(document) if document else None

    def save_conversation(self, conversation: Conversation) -> None:
        self._save("conversations", str(conversation.chat_id), conversation.to_dict())

    def load_subscription(self, number: str) -> Subscription | None:
        document = self._load("subscriptions", number) if safe_key(number) else None
        return Subscription.from_dict(document) if document else None

    def save_subscription(self, subscription: Subscription) -> None:
        self._save("subscriptions", checked_key(subscription.number), subscription.to_dict())

    def load_code(self, value: str) -> Code | None:
        document = self._load("codes", value) if safe_key(value) else None
        return Code.from_dict(document) if document else None

    def save_code(self, code: Code) -> None:
        self._save("codes", checked_key(code.value), code.to_dict())

    def load_queue(self) -> HelpQueue:
        document = self._load("helpdesk", "queue")
        return HelpQueue.from_dict(document) if document else HelpQueue()

    def save_queue(self, queue: HelpQueue) -> None:
        self._save("helpdesk", "queue", queue.to_dict())

    def load_agent(self, agent_id: int) -> AgentSession | None:
        document = self._load("agents", str(agent_id))
        return AgentSession.from_dict(document) if document else None

    def save_agent(self, session: AgentSession) -> None:
        self._save("agents", str(session.agent_id), session.to_dict())

    def load_throttle(self, key: str) -> Throttle:
        """An unknown key has sent nothing yet."""
        document = self._load("throttles", checked_key(key))
        return Throttle.from_dict(document) if document else Throttle(key)

    def save_throttle(self, throttle: Throttle) -> None:
        self._save("throttles", checked_key(throttle.key), throttle.to_dict())


def safe_key(key: str) -> bool:
    """Keys may become file names: refuse anything that could leave the store's directory."""
    return bool(key) and key.isascii() and key.replace("-", "").replace("_", "").isalnum()


def checked_key(key: str) -> str:
    """The key itself; ValueError for one that could not safely be a file name."""
    if not safe_key(key):
        raise ValueError(f"unsafe store key: {key!r}")
    return key
