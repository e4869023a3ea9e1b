"""What the report needs of one subscription, folded from its record and its audit trail as they are
written, so that a report reads one small record per subscription instead of every trail.

The store keeps these facts in the same commit as the record or the entry they come from (see
`storage.documents`), and builds them from scratch, with `ReportFacts.of`, for a subscription that
has none yet (written by an earlier release) or whose facts cannot be read: both ways run the same
fold, entry by entry, so facts kept along the way equal facts rebuilt from the whole trail.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flows.journey import step_of
from flows.records import AuditEntry, Record, Subscription

TOPICS = {"assistant": "assistant", "help": "advisor"}  # the feedback's topic, the report's name for it
KINDS = frozenset(TOPICS.values())
HELP_ACTIONS = frozenset({"help_requested", "agent_joined", "help_resolved", "help_cancelled"})
REMINDER_ACTIONS = frozenset({"reminder_sent", "reminder_not_delivered", "reminder_followed"})
FEEDBACK_ACTIONS = frozenset({"feedback_rated", "feedback_commented"})
FOLDED = HELP_ACTIONS | REMINDER_ACTIONS | FEEDBACK_ACTIONS | {"chat_bound"}


@dataclass
class HelpTicket(Record):
    """One help request: asked at a step ("1" to "4", or "other"), then joined, closed or withdrawn."""

    ticket: Any
    place: str
    requested_at: float
    joined_at: float | None = None
    resolved_at: float | None = None
    cancelled_at: float | None = None

    def times(self) -> tuple[tuple[str, float | None], ...]:
        return (("requested_at", self.requested_at), ("joined_at", self.joined_at),
                ("resolved_at", self.resolved_at), ("cancelled_at", self.cancelled_at))


@dataclass
class SentReminder(Record):
    """A reminder that reached its chat (one Telegram refused is taken back), and when that chat next moved."""

    chat: Any
    round: int
    sent_at: float
    followed_at: float | None = None


@dataclass
class Mark(Record):
    """A rating: `about` tells whose rating of what (the actor, the topic, the help request)."""

    kind: str  # "assistant" or "advisor"
    about: str
    rating: Any


@dataclass
class Comment(Record):
    kind: str
    at: float
    step: Any
    rating: Any  # the mark given just before, on the same question
    text: str


@dataclass
class ReportFacts(Record):
    number: str
    created_at: float
    steps_reached_at: dict[str, float] | None = None  # None: opened before steps were recorded
    setup_completed_at: float | None = None
    admin_saved: bool = False  # what proves progress for a subscription without steps recorded...
    chat_bound: bool = False  # ...with a chat_bound entry
    tickets: list[HelpTicket] = field(default_factory=list)
    reminders: list[SentReminder] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)

    def __post_init__(self) -> None:
        """Facts of another shape (a hand edit, another release) raise here, so that the store sets them
        aside and rebuilds them, and the report rebuilds them, instead of an event or the tally failing.
        (Most lists are empty: checked only when not, the report reads 100,000 of these.)"""
        steps = self.steps_reached_at
        _check(_is_time(self.created_at) and (self.setup_completed_at is None or _is_time(self.setup_completed_at))
               and (steps is None or isinstance(steps, dict) and all(_is_time(at) for at in steps.values()))
               and type(self.tickets) is type(self.reminders) is type(self.marks) is type(self.comments) is list)
        if self.tickets:
            self.tickets = _records(HelpTicket, self.tickets)
            _check(all(isinstance(t.place, str) and all(_is_time(at) or at is None and name != "requested_at"
                                                          for name, at in t.times()) for t in self.tickets))
        if self.reminders:
            self.reminders = _records(SentReminder, self.reminders)
            _check(all(r.round in (1, 2) and _is_time(r.sent_at)
                       and (r.followed_at is None or _is_time(r.followed_at)) for r in self.reminders))
        if self.marks:
            self.marks = _records(Mark, self.marks)
            _check(all(mark.kind in KINDS for mark in self.marks))
        if self.comments:
            self.comments = _records(Comment, self.comments)
            _check(all(c.kind in KINDS and _is_time(c.at) and isinstance(c.text, str) for c in self.comments))

    @classmethod
    def of(cls, subscription: Subscription, trail: Iterable[AuditEntry]) -> "ReportFacts":
        """From scratch: the record, then every entry of the trail in the order written."""
        facts = cls(subscription.number, subscription.created_at)
        facts.take(subscription)
        for entry in trail:
            facts.fold(entry)
        return facts

    def take(self, subscription: Subscription) -> None:
        """The record's part, as it now stands."""
        self.created_at = subscription.created_at
        self.steps_reached_at = dict(subscription.steps_reached_at) if subscription.steps_reached_at is not None else None
        self.setup_completed_at = subscription.setup_completed_at
        self.admin_saved = subscription.admin is not None

    def fold(self, entry: AuditEntry) -> None:
        """One more entry of the trail; an action the report does not read changes nothing."""
        action, details = entry.action, entry.details
        if action == "chat_bound":
            self.chat_bound = True
        elif action in HELP_ACTIONS:
            self._fold_help(entry)
        elif action == "reminder_sent":
            self.reminders.append(SentReminder(details.get("chat"), 1 if details.get("round") == 1 else 2, entry.at))
        elif action == "reminder_not_delivered":  # it concerns the last one sent to that chat in that round
            round_ = 1 if details.get("round") == 1 else 2
            sent = [r for r in self.reminders if r.chat == details.get("chat") and r.round == round_]
            if sent:
                self.reminders.remove(sent[-1])
        elif action == "reminder_followed":  # the chat's first move after the reminder sent at `sent_at`
            chat = entry.actor.removeprefix("chat:")
            for reminder in self.reminders:
                if str(reminder.chat) == chat and reminder.sent_at == details.get("sent_at") \
                        and reminder.followed_at is None:
                    reminder.followed_at = entry.at
        elif action in FEEDBACK_ACTIONS and str(details.get("topic")) in TOPICS:
            self._fold_feedback(entry)

    def _fold_help(self, entry: AuditEntry) -> None:
        number = entry.details.get("ticket")
        if entry.action == "help_requested":
            place = str(step_of(str(entry.details.get("state", ""))) or "other")
            self.tickets = [t for t in self.tickets if t.ticket != number] + [HelpTicket(number, place, entry.at)]
            return
        ticket = next((t for t in self.tickets if t.ticket == number), None)
        if ticket is None:
            return
        if entry.action == "agent_joined" and ticket.joined_at is None:
            ticket.joined_at = entry.at
        elif entry.action == "help_resolved" and ticket.resolved_at is None:
            ticket.resolved_at = entry.at
        elif entry.action == "help_cancelled" and ticket.cancelled_at is None:
            ticket.cancelled_at = entry.at

    def _fold_feedback(self, entry: AuditEntry) -> None:
        kind = TOPICS[str(entry.details.get("topic"))]
        about = f"{entry.actor}|{entry.details.get('topic')}|{entry.details.get('ticket')}"
        if entry.action == "feedback_rated":
            self.marks.append(Mark(kind, about, entry.details.get("rating")))
            return
        rated = [mark.rating for mark in self.marks if mark.about == about]
        self.comments.append(Comment(kind, entry.at, entry.details.get("step"), rated[-1] if rated else None,
                                     str(entry.details.get("comment", ""))))


R = TypeVar("R", bound=Record)


def _records(record_type: type[R], items: list[Any]) -> list[R]:
    return [item if isinstance(item, record_type) else record_type.from_dict(item) for item in items]


def _is_time(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check(holds: bool) -> None:
    if not holds:
        raise ValueError("report facts of another shape")


@dataclass(frozen=True)
class FactsRow:
    """One subscription as `Store.report_facts` streams it: `facts` is None when neither its facts nor
    its record can be read; `unreadable_entries` counts the trail's entries that could not be, when
    its facts had to be rebuilt from the trail."""

    number: str
    facts: ReportFacts | None
    unreadable_entries: int = 0
