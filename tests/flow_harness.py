"""Drive the assistant like a person would, without Telegram: type, press a button by its label."""

from dataclasses import dataclass, field

from flows.assistant import Assistant
from flows.boundary import Event, Outcome, Reply
from flows.ports import Mail
from flows.steps.base import AssistantSettings, Toolkit
from flows.subscriptions import OpenedSubscription, open_subscription
from storage.memory_store import MemoryStore


class ListOutbox:
    """Keeps the e-mails so a test can read them."""

    def __init__(self) -> None:
        self.mails: list[Mail] = []

    def put(self, mail: Mail) -> str:
        self.mails.append(mail)
        return str(len(self.mails))


class PlainHasher:
    """Reversible on purpose so a test can see what would have been hashed; never used by the bot."""

    def hash(self, password: str) -> str:
        return "hashed:" + password[::-1]

    def verify(self, password_hash: str, password: str) -> bool:
        return password_hash == self.hash(password)


@dataclass
class Clock:
    now: float = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Chat:
    """One person's private chat with the assistant."""

    assistant: Assistant
    chat_id: int
    language: str = "fr"
    outcomes: list[Outcome] = field(default_factory=list)
    update_id: int = 0

    def _send(self, event_factory, value: str | None = None) -> Reply:
        self.update_id += 1
        args = () if value is None else (value,)
        outcome = self.assistant.handle(
            self.chat_id, event_factory(*args, language=self.language, update_id=self.update_id))
        self.outcomes.append(outcome)
        return outcome.replies[-1]

    @property
    def last(self) -> Reply:
        return next(o.replies[-1] for o in reversed(self.outcomes) if o.replies)

    def type(self, text: str) -> Reply:
        return self._send(Event.typed, text)

    def command(self, line: str) -> Reply:
        return self._send(Event.command, line)

    def sticker(self) -> Reply:
        return self._send(Event.other)

    def press(self, label: str, reply: Reply | None = None) -> Reply:
        """Press the button whose label contains `label`, on the given reply or the last one."""
        return self._send(Event.pressed, self.button_data(label, reply))

    def button_data(self, label: str, reply: Reply | None = None) -> str:
        buttons = [b for row in (reply or self.last).buttons for b in row if b.data and label in b.label]
        assert buttons, f"no button {label!r} in {self.labels(reply)}"
        return buttons[0].data  # type: ignore[return-value]

    def labels(self, reply: Reply | None = None) -> list[str]:
        return [b.label for row in (reply or self.last).buttons for b in row]


def make_toolkit(store=None) -> tuple[Toolkit, ListOutbox, Clock]:
    outbox, clock = ListOutbox(), Clock()
    toolkit = Toolkit(store or MemoryStore(), outbox, PlainHasher(), AssistantSettings(bot_username="TestBot"), clock)
    return toolkit, outbox, clock


def open_account(toolkit: Toolkit, product: str = "comptabilite", seats: int = 1) -> OpenedSubscription:
    return open_subscription(toolkit, "achat@entreprise.fr", product, seats)
