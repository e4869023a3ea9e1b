"""The stored facts: subscriptions with their accounts, conversations, codes and the audit trail."""

from dataclasses import dataclass, field, fields
from enum import Enum
from functools import cache
from typing import Any, Self

from flows.journey import STATES
from flows.offer import Product

KNOWN_STATES = frozenset(STATES)


class UserStatus(str, Enum):
    PENDING = "pending"  # entered by the administrator, not yet activated
    INVITED = "invited"
    ACTIVE = "active"
    DEACTIVATED = "deactivated"


class CodeKind(str, Enum):
    ACTIVATION = "activation"  # the Commencer deep link, or the code e-mailed to a chat
    INVITATION = "invitation"  # an invited user's personal link
    EMAIL_CHANGE = "email_change"  # proves a user owns the new address they typed


class Record:
    """Round-trips a dataclass through the JSON documents the stores keep."""

    def to_dict(self) -> dict[str, Any]:
        """Like `dataclasses.asdict`, without its deep copy: the result is serialised at once."""
        return {name: _plain(getattr(self, name)) for name in _field_names(type(self))}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        known = _field_names(cls)
        return cls(**{key: value for key, value in data.items() if key in known})


@cache
def _field_names(record: type) -> tuple[str, ...]:
    """Every save and load walks these; `dataclasses.fields` rebuilds them each time."""
    return tuple(f.name for f in fields(record))


def _plain(value: Any) -> Any:
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


@dataclass
class AdminAccount(Record):
    last_name: str
    first_name: str
    email: str
    password_hash: str
    is_user: bool


@dataclass
class UserAccount(Record):
    id: str
    last_name: str
    first_name: str
    email: str
    status: UserStatus = UserStatus.PENDING
    is_admin: bool = False
    address: str = ""
    password_hash: str | None = None
    chat_id: int | None = None  # the chat that redeemed the invitation: the user's own conversation
    invitation: str | None = None  # the only invitation code that still works; None revokes them all
    mobile_data: bool = False
    declaration_password_hash: str | None = None
    language: str | None = None  # their chat's, once they followed their link: their mails' language
    reminded_at: float | None = None  # when the reminder about their current invitation went

    def __post_init__(self) -> None:
        self.status = UserStatus(self.status)

    @property
    def holds_seat(self) -> bool:
        return self.status is not UserStatus.DEACTIVATED


@dataclass
class Subscription(Record):
    number: str
    email: str
    product: Product
    seats: int
    created_at: float
    services: dict[str, bool] = field(default_factory=dict)
    admin: AdminAccount | None = None
    users: list[UserAccount] = field(default_factory=list)
    setup_completed_at: float | None = None
    time_zone: str | None = None  # IANA name its reminders keep business hours in; None: the configured one
    # When the administrator's chat first showed each step ("1" to "4"), for the report's funnel;
    # None: opened before steps were recorded (the report counts those as unknown).
    steps_reached_at: dict[str, float] | None = None

    def __post_init__(self) -> None:
        self.product = Product(self.product)
        if isinstance(self.admin, dict):
            self.admin = AdminAccount.from_dict(self.admin)
        self.users = [UserAccount.from_dict(u) if isinstance(u, dict) else u for u in self.users]

    @property
    def seats_taken(self) -> int:
        return sum(1 for user in self.users if user.holds_seat)

    @property
    def has_free_seat(self) -> bool:
        return self.seats_taken < self.seats

    def user(self, user_id: str) -> UserAccount | None:
        return next((user for user in self.users if user.id == user_id), None)

    def emails_in_use(self, except_user_id: str | None = None) -> set[str]:
        """Addresses already taken in the account, administrator included."""
        taken = {u.email.lower() for u in self.users if u.id != except_user_id and u.holds_seat}
        if self.admin:
            taken.add(self.admin.email.lower())
        return taken

    def upsert_user(self, user: UserAccount) -> None:
        self.users = [u for u in self.users if u.id != user.id] + [user]


@dataclass
class Code(Record):
    """A random secret that proves access; single-use and expiring."""

    value: str
    kind: str
    subscription_number: str
    expires_at: float
    chat_id: int | None = None  # a code typed in a chat only works in that chat
    user_id: str | None = None
    used_at: float | None = None
    used_by_chat: int | None = None


@dataclass
class Order(Record):
    """A shop's order and the subscription it opened, so the same order opens one however often it
    is sent; `opened` is the answer given the first time, given again to a repeat."""

    order_id: str
    subscription_number: str
    email: str
    product: str
    seats: int
    language: str
    opened: dict[str, Any] = field(default_factory=dict)
    time_zone: str | None = None


@dataclass
class AuditEntry(Record):
    at: float
    subscription_number: str
    actor: str
    action: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Conversation(Record):
    chat_id: int
    state: str
    language: str = "fr"
    subscription_number: str | None = None
    user_id: str | None = None  # set when the chat is an invited user's, not the administrator's
    answers: dict[str, Any] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)
    question_id: int = 0
    last_update_id: int = 0
    failures: int = 0
    locked_until: float = 0.0
    setup_done: bool = False
    secret_asked: bool = False  # the last question shown asks for a password, whatever the state is now
    help_ticket: int | None = None
    helpers: list["Helper"] = field(default_factory=list)
    transcript: list["Line"] = field(default_factory=list)
    secret_answered_at: float = 0.0  # when a password question was last answered: a copy may follow
    feedback_comment: str | None = None  # the feedback whose comment, asked for, the next text is
    comment_rest_until: float = 0.0  # a comment was cut: until then, a text is the rest Telegram split off it

    def __post_init__(self) -> None:
        """A state this release does not know (a rollback after a release that added one) makes the
        record as unreadable as a torn one: set aside for the operator, and the chat starts again."""
        if self.state not in KNOWN_STATES or not all(state in KNOWN_STATES for state in self.history):
            raise ValueError("a conversation in a state this release does not know")
        self.helpers = [Helper.from_dict(h) if isinstance(h, dict) else h for h in self.helpers]
        self.transcript = [Line.from_dict(x) if isinstance(x, dict) else x for x in self.transcript]

    def takes_comment(self, now: float) -> bool:
        """The next text is a comment asked for, or the rest of one too long for one Telegram message."""
        return self.feedback_comment is not None or now < self.comment_rest_until


@dataclass
class Helper(Record):
    """An agent taking part in a conversation; `in_topic` when they follow it in the support group's topic."""

    id: int
    first_name: str
    in_topic: bool = False


@dataclass
class Line(Record):
    """One line of a conversation's transcript; a password is masked before it gets here."""

    at: float
    speaker: str
    text: str


@dataclass
class Ticket(Record):
    """A request for help, from the moment it is asked until it is resolved."""

    number: int
    chat_id: int
    subscription_number: str | None
    requester: str
    requested_at: float
    helpers: list[Helper] = field(default_factory=list)
    thread_id: int | None = None

    def __post_init__(self) -> None:
        self.helpers = [Helper.from_dict(h) if isinstance(h, dict) else h for h in self.helpers]


@dataclass
class HelpQueue(Record):
    """Open tickets, waiting or joined; resolved ones leave it (the audit log keeps them)."""

    next_number: int = 1
    tickets: list[Ticket] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.tickets = [Ticket.from_dict(t) if isinstance(t, dict) else t for t in self.tickets]

    def ticket(self, number: int | None) -> Ticket | None:
        return next((t for t in self.tickets if t.number == number), None)

    def in_topic(self, thread_id: int | None) -> Ticket | None:
        return next((t for t in self.tickets if thread_id and t.thread_id == thread_id), None)

    def waiting(self) -> list[Ticket]:
        return [t for t in self.tickets if not t.helpers]


@dataclass
class AgentSession(Record):
    """Which conversation an agent is in, if any."""

    agent_id: int
    first_name: str
    assisting: int | None = None  # a ticket number


@dataclass
class Throttle(Record):
    """When the recent sends limited under `key` happened (see `flows.limits`); pruned on every save."""

    key: str
    times: list[float] = field(default_factory=list)


@dataclass
class Feedback(Record):
    """The article's closing question, asked once about the assistant (per chat) and once per help
    session (per ticket): when, at which step, about which agents, and what the person answered."""

    key: str
    topic: str  # "assistant" or "help"
    chat_id: int
    subscription_number: str | None
    step: int | None
    asked_at: float
    ticket: int | None = None
    agents: list[int] = field(default_factory=list)
    rating: int | None = None
    rated_at: float | None = None
    comment: str | None = None


@dataclass
class Reminder(Record):
    """A reminder's next round: due when, how many went, and whether they may go at all. An
    administrator's (their chat, `chat_id`), or with `user_id` an invited user's by e-mail (`chat_id`
    is then the administrator's chat, told if the mail stalls)."""

    key: str
    chat_id: int
    subscription_number: str
    due_at: float | None = None
    last_activity: float = 0.0
    round: int = 0  # reminders sent since the last activity
    claimed_at: float | None = None
    claimed_by: str = ""
    sent_at: list[float] = field(default_factory=list)
    stopped: bool = False  # Ne plus me le rappeler
    blocked: bool = False  # the chat blocked the bot
    user_id: str | None = None  # an invited user who has not set their password yet
    language: str | None = None  # the invitation's language, theirs until their chat tells it
