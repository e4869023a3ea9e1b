"""Drive the assistant like a person would, without Telegram: type, press a button by its label."""

from dataclasses import dataclass, field

from flows.assistant import Assistant
from flows.boundary import Event, Outcome, Reply
from flows.ports import Mail
from flows.records import Subscription, UserAccount
from flows.steps.base import AssistantSettings, Toolkit
from flows.subscriptions import OpenedSubscription, open_subscription
from storage.memory_store import MemoryStore


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
        """The reply, or an empty one when the message went to the agents in the conversation instead."""
        self.update_id += 1
        args = () if value is None else (value,)
        outcome = self.deliver(event_factory(*args, language=self.language, update_id=self.update_id))
        return outcome.replies[-1] if outcome.replies else Reply("")

    def deliver(self, event: Event) -> Outcome:
        """Hand one event to the assistant as the transport would, and keep what it decided."""
        outcome = self.assistant.handle(self.chat_id, event)
        self.outcomes.append(outcome)
        return outcome

    @property
    def last(self) -> Reply:
        return next(o.replies[-1] for o in reversed(self.outcomes) if o.replies)

    def type(self, text: str) -> Reply:
        return self._send(Event.typed, text)

    def command(self, line: str) -> Reply:
        return self._send(Event.command, line)

    def edit(self, text: str) -> Reply:
        """Edit a message sent earlier so that it now reads `text`."""
        return self._send(Event.edited, text)

    def sticker(self) -> Reply:
        return self._send(Event.other)

    def press(self, label: str, reply: Reply | None = None) -> Reply:
        """Press the button whose label contains `label`, on the given reply or the last one."""
        return self._send(Event.pressed, self.button_data(label, reply))

    def press_data(self, data: str) -> Reply:
        """Send raw callback data, as an old message's button or a forged callback would."""
        return self._send(Event.pressed, data)

    def deliver_press(self, reply: Reply, label: str) -> Outcome:
        """Press a button of a message delivered to this chat (not a reply), keeping the whole outcome."""
        self.update_id += 1
        data = self.button_data(label, reply)
        return self.deliver(Event.pressed(data, language=self.language, update_id=self.update_id))

    def forge(self, trigger: str, arg: str = "") -> Reply:
        """Press a button the current question does not show, numbered as the current question."""
        question_id = self.button_data("Parler à un conseiller").split("|")[0]
        return self.press_data(f"{question_id}|{trigger}|{arg}")

    def button_data(self, label: str, reply: Reply | None = None) -> str:
        buttons = [b for row in (reply or self.last).buttons for b in row if b.data and label in b.label]
        assert buttons, f"no button {label!r} in {self.labels(reply)}"
        return buttons[0].data  # type: ignore[return-value]

    def labels(self, reply: Reply | None = None) -> list[str]:
        return [b.label for row in (reply or self.last).buttons for b in row]


ON_CALL = 999_001  # an agent configured by default, so the help desk is open; no test speaks as them


def make_toolkit(agents: frozenset[int] = frozenset({ON_CALL})) -> tuple[Toolkit, MemoryStore, Clock]:
    """The toolkit, its store (whose `mails` are the e-mails committed) and the clock."""
    store, clock = MemoryStore(), Clock()
    toolkit = Toolkit(store, PlainHasher(), AssistantSettings(bot_username="TestBot", agent_ids=agents), clock)
    return toolkit, store, clock


def open_account(toolkit: Toolkit, product: str = "comptabilite", seats: int = 1) -> OpenedSubscription:
    return open_subscription(toolkit, "achat@entreprise.fr", product, seats)


ADMIN_PASSWORD = "Tournesol2026"
PURCHASE_EMAIL = "achat@entreprise.fr"


@dataclass
class Desk:
    """One assistant with its fakes: the store, the mails sent and the clock, shared by every chat."""

    toolkit: Toolkit
    outbox: MemoryStore  # its `mails`
    clock: Clock
    assistant: Assistant

    @classmethod
    def build(cls, agents: frozenset[int] = frozenset({ON_CALL})) -> "Desk":
        """`agents` empty: no help desk configured."""
        toolkit, outbox, clock = make_toolkit(agents)
        return cls(toolkit, outbox, clock, Assistant(toolkit))

    def chat(self, chat_id: int = 7, language: str = "fr") -> Chat:
        return Chat(self.assistant, chat_id, language)

    def open(self, product: str = "comptabilite", seats: int = 1) -> OpenedSubscription:
        return open_account(self.toolkit, product, seats)

    def account(self, number: str) -> Subscription:
        subscription = self.toolkit.store.load_subscription(number)
        assert subscription is not None
        return subscription

    def seat_users(self, number: str, *emails: str) -> None:
        """Pending users entered meanwhile from another chat on the same account."""
        account = self.account(number)
        for index, email in enumerate(emails):
            account.upsert_user(UserAccount(f"other{index}", "Autre", "Personne", email))
        self.toolkit.store.save_subscription(account)

    def mails_to(self, address: str) -> list[Mail]:
        return [mail for mail in self.outbox.mails if mail.to == address]

    def emailed_code(self) -> str:
        """The code in the last e-mail sent to the purchase address."""
        return self.mails_to(PURCHASE_EMAIL)[-1].text.split(" : ")[1].split()[0]

    def opened_chat(self, product: str = "comptabilite", seats: int = 1, chat_id: int = 7,
                    language: str = "fr") -> tuple[Chat, OpenedSubscription]:
        """A chat that followed the Commencer link of a fresh subscription."""
        opened = self.open(product, seats)
        chat = self.chat(chat_id, language)
        chat.command(f"/start {opened.code}")
        return chat, opened


def fill_admin(chat: Chat, last_name: str = "Dupont", first_name: str = "Jean",
               email: str = "jean.dupont@entreprise.fr", password: str = ADMIN_PASSWORD) -> Reply:
    """From the welcome to the administrator's review."""
    chat.press("CRÉER mon compte Administrateur")
    chat.type(last_name)
    chat.type(first_name)
    chat.type(email)
    return chat.type(password)


def claim(chat: Chat, number: str, email: str) -> str:
    """The no-e-mail path: a subscription number and a purchase address; returns the reply's text."""
    chat.command("/start")
    chat.press("I did not get the e-mail" if chat.language == "en" else "Je n'ai pas reçu l'e-mail")
    chat.type(number)
    return chat.type(email).text


def add_user(chat: Chat, last_name: str, first_name: str, email: str) -> Reply:
    """From the users' list, one new user up to Valider."""
    chat.press("Créer un nouvel utilisateur")
    chat.type(last_name)
    chat.type(first_name)
    chat.type(email)
    return chat.press("Valider")


def admin_through_step_1(chat: Chat, *, own_user: bool = False) -> Reply:
    """Administrator created and confirmed: the reply is step 2 or step 3."""
    fill_admin(chat)
    tick_own_user(chat, own_user)
    return chat.press("✅ Confirm")  # Confirmer, Confirm


def tick_own_user(chat: Chat, wanted: bool) -> Reply:
    """Leave the own-user box of the review as `wanted` (one seat ticks it by default)."""
    if any(label.startswith("☑ Créer automatiquement") for label in chat.labels()) != wanted:
        chat.press("Créer automatiquement mon compte utilisateur")
    return chat.last


@dataclass
class Agent:
    """A configured help-desk agent in their private chat with the bot (the transport vouched for them)."""

    assistant: Assistant
    id: int
    first_name: str
    outcomes: list[Outcome] = field(default_factory=list)
    update_id: int = 1_000_000

    def _send(self, event_factory, value: str) -> Outcome:
        self.update_id += 1
        outcome = self.assistant.handle(self.id, event_factory(
            value, sender_id=self.id, sender_name=self.first_name, agent=True, update_id=self.update_id))
        self.outcomes.append(outcome)
        return outcome

    def command(self, line: str) -> Outcome:
        return self._send(Event.command, line)

    def type(self, text: str) -> Outcome:
        return self._send(Event.typed, text)

    def press(self, label: str, reply: Reply | None = None) -> Outcome:
        """Press the button whose label contains `label`, on the given reply or the last one."""
        reply = reply or next(o.replies[-1] for o in reversed(self.outcomes) if o.replies)
        data = next((b.data for row in reply.buttons for b in row if b.data and label in b.label), None)
        assert data, f"no button {label!r} in {[b.label for row in reply.buttons for b in row]}"
        return self._send(Event.pressed, data)

    def press_data(self, data: str) -> Outcome:
        """Send raw callback data, as an old card's button or a forged callback would."""
        return self._send(Event.pressed, data)


def delivered_to(outcome: Outcome, chat_id: int) -> Reply:
    """The last message an outcome delivers to another chat, as that chat sees it (with its buttons)."""
    delivery = next(d for d in reversed(outcome.deliveries) if d.chat_id == chat_id)
    return Reply(delivery.text, delivery.buttons)


def said_to(outcome: Outcome, chat_id: int) -> list[str]:
    """What an outcome delivers to another chat."""
    return [delivery.text for delivery in outcome.deliveries if delivery.chat_id == chat_id]
