"""The report's figures, tallied one subscription at a time: nothing kept per subscription, so memory
stays flat however many there are (comments aside: the newest `COMMENTS_KEPT` of each kind)."""

import bisect
import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flows.journey import STEP_COUNT, step_of
from flows.ports import History
from flows.records import AuditEntry, Subscription
from flows.report.durations import Durations
from flows.report.period import Period

STEPS = tuple(range(1, STEP_COUNT + 1))
HELP_PLACES = (*(str(step) for step in STEPS), "other")  # "other": the menu, an invited user's chat
FOLLOW_WINDOW = 48 * 3600.0  # a reminder brought the person back when their chat moved within this
RATINGS = range(1, 6)
TOPICS = {"assistant": "assistant", "help": "advisor"}  # the feedback's topic, the report's name for it
COMMENTS_KEPT = 100
FEEDBACK_ACTIONS = frozenset({"feedback_rated", "feedback_commented"})
HELP_ACTIONS = frozenset({"help_requested", "agent_joined", "help_resolved", "help_cancelled"})


class Funnel:
    """How far each subscription got, and how long after it was opened it reached each step."""

    def __init__(self) -> None:
        self.opened = self.unknown = self.finished = 0
        self.reached = dict.fromkeys(STEPS, 0)
        self.time_to = {**{step: Durations() for step in STEPS}, "finished": Durations()}

    def add(self, subscription: Subscription, trail: tuple[AuditEntry, ...]) -> None:
        self.opened += 1
        shown = subscription.steps_reached_at
        done = subscription.setup_completed_at
        if shown is None:  # opened before steps were recorded: only what the record proves
            self.unknown += 1
            furthest = STEP_COUNT if done is not None else int(subscription.admin is not None or any(
                entry.action == "chat_bound" for entry in trail))
        else:  # a step skipped (step 2 with one seat) counts as passed
            furthest = max([int(step) for step in shown if step.isdigit()] + [STEP_COUNT if done is not None else 0])
            for step, at in shown.items():
                if step.isdigit() and int(step) in self.time_to:
                    self.time_to[int(step)].add(at - subscription.created_at)
        for step in STEPS:
            self.reached[step] += furthest >= step
        if done is not None:
            self.finished += 1
            self.time_to["finished"].add(done - subscription.created_at)

    def to_dict(self) -> dict[str, Any]:
        return {"funnel": {"opened": self.opened, **{f"step_{s}": self.reached[s] for s in STEPS},
                           "finished": self.finished, "steps_unknown": self.unknown},
                "time_to": {(f"step_{key}" if key != "finished" else key): durations.to_dict()
                            for key, durations in self.time_to.items()}}


@dataclass
class _Ticket:
    """One help request as its audit entries tell it."""

    requested: float
    place: str
    joined: float | None = None
    resolved: float | None = None
    cancelled: float | None = None


class HelpPlace:
    """The help requests made at one step: how many, answered or not, and how long each phase took."""

    def __init__(self) -> None:
        self.requested = self.joined = self.cancelled = self.open = 0
        self.wait, self.handling = Durations(), Durations()

    def add(self, ticket: _Ticket) -> None:
        self.requested += 1
        if ticket.joined is not None:
            self.joined += 1
            self.wait.add(ticket.joined - ticket.requested)
            if ticket.resolved is not None:
                self.handling.add(ticket.resolved - ticket.joined)
        elif ticket.cancelled is not None:
            self.cancelled += 1
        elif ticket.resolved is None:
            self.open += 1

    def to_dict(self) -> dict[str, Any]:
        return {"requested": self.requested, "joined": self.joined, "cancelled": self.cancelled, "open": self.open,
                "wait": self.wait.to_dict(), "handling": self.handling.to_dict()}


class Help:
    """Help requests by the step they were asked at: request → an agent joined → closed."""

    def __init__(self) -> None:
        self.places = {place: HelpPlace() for place in HELP_PLACES}
        self.all = HelpPlace()

    def add(self, subscription: Subscription, trail: tuple[AuditEntry, ...]) -> None:
        tickets: dict[object, _Ticket] = {}
        for entry in trail:
            if entry.action not in HELP_ACTIONS:
                continue
            number = entry.details.get("ticket")
            ticket = tickets.get(number)
            if entry.action == "help_requested":
                tickets[number] = _Ticket(entry.at, str(step_of(str(entry.details.get("state", ""))) or "other"))
            elif ticket is None:
                continue
            elif entry.action == "agent_joined" and ticket.joined is None:
                ticket.joined = entry.at
            elif entry.action == "help_resolved" and ticket.resolved is None:
                ticket.resolved = entry.at
            elif entry.action == "help_cancelled" and ticket.cancelled is None:
                ticket.cancelled = entry.at
        for ticket in tickets.values():
            self.places[ticket.place].add(ticket)
            self.all.add(ticket)

    def to_dict(self) -> dict[str, Any]:
        return {"help": {"by_step": {place: figures.to_dict() for place, figures in self.places.items()},
                         "all": self.all.to_dict()}}


def _delivered(trail: tuple[AuditEntry, ...]) -> list[AuditEntry]:
    """The reminders sent, less those Telegram refused (claimed, so audited as sent, then reported
    not delivered: each such report concerns the last one sent to its chat in its round)."""
    sent: list[AuditEntry] = []
    last: dict[tuple[object, object], AuditEntry] = {}
    for entry in trail:
        key = (entry.details.get("chat"), entry.details.get("round"))
        if entry.action == "reminder_sent":
            sent.append(entry)
            last[key] = entry
        elif entry.action == "reminder_not_delivered" and key in last:
            sent.remove(last.pop(key))
    return sent


class Reminders:
    """Reminders sent, and those the chat answered within 48 h (any activity of that chat)."""

    def __init__(self) -> None:
        self.sent = {1: 0, 2: 0}
        self.followed = {1: 0, 2: 0}

    def add(self, subscription: Subscription, trail: tuple[AuditEntry, ...]) -> None:
        moves: dict[object, list[float]] = {}
        for entry in _delivered(trail):
            chat = entry.details.get("chat")  # older entries name no chat: any chat of the subscription
            if chat not in moves:
                moves[chat] = sorted(e.at for e in trail if e.actor == f"chat:{chat}"
                                     or chat is None and e.actor.startswith("chat:"))
            moved = moves[chat]
            index = bisect.bisect_right(moved, entry.at)
            round_ = 1 if entry.details.get("round") == 1 else 2
            self.sent[round_] += 1
            self.followed[round_] += index < len(moved) and moved[index] <= entry.at + FOLLOW_WINDOW

    def to_dict(self) -> dict[str, Any]:
        return {"reminders": {"sent": sum(self.sent.values()), "followed_within_48h": sum(self.followed.values()),
                              "by_round": {str(r): {"sent": self.sent[r], "followed_within_48h": self.followed[r]}
                                           for r in self.sent}}}


class Rating:
    """One kind of rating: average, how many of each mark, and the newest comments."""

    def __init__(self) -> None:
        self.distribution = dict.fromkeys(RATINGS, 0)
        self.comments_count = 0
        self._comments: list[tuple[float, int, dict[str, Any]]] = []  # a heap: the oldest first out

    def rate(self, rating: object) -> None:
        if rating in self.distribution:
            self.distribution[rating] += 1  # type: ignore[index]

    def comment(self, comment: dict[str, Any]) -> None:
        self.comments_count += 1
        heapq.heappush(self._comments, (comment["at"], self.comments_count, comment))
        if len(self._comments) > COMMENTS_KEPT:
            heapq.heappop(self._comments)

    def to_dict(self) -> dict[str, Any]:
        count = sum(self.distribution.values())
        total = sum(mark * n for mark, n in self.distribution.items())
        newest = [comment for _, _, comment in sorted(self._comments, reverse=True)]
        return {"count": count, "average": round(total / count, 2) if count else None,
                "distribution": {str(mark): n for mark, n in self.distribution.items()},
                "comments_count": self.comments_count, "comments": newest}


class Ratings:
    def __init__(self) -> None:
        self.kinds = {name: Rating() for name in TOPICS.values()}

    def add(self, subscription: Subscription, trail: tuple[AuditEntry, ...]) -> None:
        marks: dict[tuple[str, object, object], object] = {}
        for entry in trail:
            if entry.action not in FEEDBACK_ACTIONS:
                continue
            kind = self.kinds.get(TOPICS.get(str(entry.details.get("topic")), ""))
            about = (entry.actor, entry.details.get("topic"), entry.details.get("ticket"))
            if kind is not None and entry.action == "feedback_rated":
                marks[about] = entry.details.get("rating")
                kind.rate(entry.details.get("rating"))
            elif kind is not None and entry.action == "feedback_commented":
                kind.comment({"at": entry.at, "subscription": subscription.number, "step": entry.details.get("step"),
                              "rating": marks.get(about), "comment": str(entry.details.get("comment", ""))})

    def to_dict(self) -> dict[str, Any]:
        return {"ratings": {name: rating.to_dict() for name, rating in self.kinds.items()}}


class Tally:
    """Every figure of the report, fed one history at a time."""

    def __init__(self, period: Period) -> None:
        self.period = period
        self.parts = (Funnel(), Help(), Reminders(), Ratings())
        self.unreadable = self.unreadable_entries = 0

    def add(self, history: History) -> bool:
        """False for a subscription opened outside the period: neither its figures nor its damaged
        entries are the report's (an unreadable subscription has no date: always counted)."""
        subscription = history.subscription
        if subscription is None:
            self.unreadable += 1
            return True
        if not self.period.holds(subscription.created_at):
            return False
        self.unreadable_entries += history.unreadable_entries
        for part in self.parts:
            part.add(subscription, history.trail)
        return True

    def to_dict(self) -> dict[str, Any]:
        figures: dict[str, Any] = {"period": self.period.to_dict(),
                                   "unreadable": {"subscriptions": self.unreadable,
                                                  "audit_entries": self.unreadable_entries}}
        for part in self.parts:
            figures.update(part.to_dict())
        return figures


def report(histories: Iterable[History], period: Period,
           unreadable: Callable[[History], None] = lambda history: None) -> dict[str, Any]:
    """The figures as JSON-ready data (keys documented in the README); `unreadable` hears of each
    history that could not be read whole, as it goes."""
    tally = Tally(period)
    for history in histories:
        if tally.add(history) and (history.subscription is None or history.unreadable_entries):
            unreadable(history)
    return tally.to_dict()
