"""What crosses between the conversation and its transports: plain frozen values, no Telegram types."""

from dataclasses import dataclass, replace
from enum import Enum

CALLBACK_DATA_LIMIT = 64  # Telegram refuses callback_data longer than 64 bytes.


class EventKind(Enum):
    TEXT = "text"
    BUTTON = "button"
    COMMAND = "command"
    OTHER = "other"  # a sticker, a photo, anything the assistant cannot read as an answer
    EDITED = "edited"  # a message sent earlier, edited: never an answer to the current question
    WITHHELD = "withheld"  # a message that came during a restart, its text not kept (it may be a password)


CHATTER = frozenset({EventKind.TEXT, EventKind.OTHER, EventKind.EDITED})  # what passes between people


@dataclass(frozen=True)
class Event:
    """Something a person did in a chat, as the conversation sees it."""

    kind: EventKind
    text: str = ""
    language: str | None = None
    update_id: int | None = None
    sender_id: int | None = None
    sender_name: str = ""
    agent: bool = False  # the transport checked the sender against the configured agents
    message_id: int | None = None  # lets a transport copy a photo or a document elsewhere
    thread_id: int | None = None  # the forum topic the message was written in

    @classmethod
    def typed(cls, text: str, **extra) -> "Event":
        return cls(EventKind.TEXT, text, **extra)

    @classmethod
    def pressed(cls, data: str, **extra) -> "Event":
        return cls(EventKind.BUTTON, data, **extra)

    @classmethod
    def command(cls, line: str, **extra) -> "Event":
        return cls(EventKind.COMMAND, line, **extra)

    @classmethod
    def other(cls, **extra) -> "Event":
        return cls(EventKind.OTHER, **extra)

    @classmethod
    def edited(cls, text: str, **extra) -> "Event":
        return cls(EventKind.EDITED, text, **extra)


@dataclass(frozen=True)
class Button:
    """A button under a message: either it sends `data` back, or it opens `url`."""

    label: str
    data: str | None = None
    url: str | None = None

    def __post_init__(self) -> None:
        if (self.data is None) == (self.url is None):
            raise ValueError("a button has either data or a url")
        if self.data is not None and len(self.data.encode()) > CALLBACK_DATA_LIMIT:
            raise ValueError(f"callback data over {CALLBACK_DATA_LIMIT} bytes: {self.data!r}")


@dataclass(frozen=True)
class Reply:
    """One message from the assistant; `secret_answer` says the expected answer must not be shown,
    `typed_answer` that the question takes a typed answer (otherwise only its buttons answer it)."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    secret_answer: bool = False
    typed_answer: bool = False

    def led_by(self, lead: str) -> "Reply":
        """The same question after `lead`, what is said about the person's last message."""
        return replace(self, text=f"{lead}\n\n{self.text}")


@dataclass(frozen=True)
class Outcome:
    """Everything a transport must do after one event, in order."""

    replies: tuple[Reply, ...] = ()
    delete_incoming: bool = False
    notice: str | None = None  # a short toast for a button press
    duplicate: bool = False  # the event was already handled; the replies only repeat the question
    in_place: bool = True  # a button's reply replaces its message, unless the button was stale
    deliveries: tuple["Delivery", ...] = ()


@dataclass(frozen=True)
class Delivery:
    """A message for another chat: a text, or a copy of the event's message with `text` as caption.

    When it cannot be delivered, `failure_notice` is said in the chat the event came from.
    """

    chat_id: int
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    copy_message_id: int | None = None
    thread_id: int | None = None
    failure_notice: str | None = None
    topic: "Topic | None" = None


@dataclass(frozen=True)
class Topic:
    """Open a forum topic named `name` for help request `ticket` first, and post the message in it."""

    name: str
    ticket: int
