"""The report's figures, tallied one subscription's facts at a time: nothing kept per subscription, so
memory stays flat however many there are (comments aside: the newest `COMMENTS_KEPT` of each kind)."""

import heapq
from collections.abc import Callable, Iterable
from typing import Any

from flows.journey import STEP_COUNT
from flows.report.durations import Durations
from flows.report.facts import TOPICS, FactsRow, HelpTicket, ReportFacts
from flows.report.period import Period

STEPS = tuple(range(1, STEP_COUNT + 1))
HELP_PLACES = (*(str(step) for step in STEPS), "other")  # "other": the menu, an invited user's chat
FOLLOW_WINDOW = 48 * 3600.0  # a reminder brought the person back when their chat moved within this
RATINGS = range(1, 6)
COMMENTS_KEPT = 100


class Funnel:
    """How far each subscription got, and how long after it was opened it reached each step."""

    def __init__(self) -> None:
        self.opened = self.unknown = self.finished = 0
        self.reached = dict.fromkeys(STEPS, 0)
        self.time_to = {**{step: Durations() for step in STEPS}, "finished": Durations()}

    def add(self, facts: ReportFacts) -> None:
        self.opened += 1
        shown = facts.steps_reached_at
        done = facts.setup_completed_at
        if shown is None:  # opened before steps were recorded: only what the record proves
            self.unknown += 1
            furthest = STEP_COUNT if done is not None else int(facts.admin_saved or facts.chat_bound)
        else:  # a step skipped (step 2 with one seat) counts as passed
            furthest = max([int(step) for step in shown if step.isdigit()] + [STEP_COUNT if done is not None else 0])
            for step, at in shown.items():
                if step.isdigit() and int(step) in self.time_to:
                    self.time_to[int(step)].add(at - facts.created_at)
        for step in STEPS:
            self.reached[step] += furthest >= step
        if done is not None:
            self.finished += 1
            self.time_to["finished"].add(done - facts.created_at)

    def to_dict(self) -> dict[str, Any]:
        return {"funnel": {"opened": self.opened, **{f"step_{s}": self.reached[s] for s in STEPS},
                           "finished": self.finished, "steps_unknown": self.unknown},
                "time_to": {(f"step_{key}" if key != "finished" else key): durations.to_dict()
                            for key, durations in self.time_to.items()}}


class HelpPlace:
    """The help requests made at one step: how many, answered or not, and how long each phase took."""

    def __init__(self) -> None:
        self.requested = self.joined = self.cancelled = self.open = 0
        self.wait, self.handling = Durations(), Durations()

    def add(self, ticket: HelpTicket) -> None:
        self.requested += 1
        if ticket.joined_at is not None:
            self.joined += 1
            self.wait.add(ticket.joined_at - ticket.requested_at)
            if ticket.resolved_at is not None:
                self.handling.add(ticket.resolved_at - ticket.joined_at)
        elif ticket.cancelled_at is not None:
            self.cancelled += 1
        elif ticket.resolved_at is None:
            self.open += 1

    def to_dict(self) -> dict[str, Any]:
        return {"requested": self.requested, "joined": self.joined, "cancelled": self.cancelled, "open": self.open,
                "wait": self.wait.to_dict(), "handling": self.handling.to_dict()}


class Help:
    """Help requests by the step they were asked at: request → an agent joined → closed."""

    def __init__(self) -> None:
        self.places = {place: HelpPlace() for place in HELP_PLACES}
        self.all = HelpPlace()

    def add(self, facts: ReportFacts) -> None:
        for ticket in facts.tickets:
            self.places.get(ticket.place, self.places["other"]).add(ticket)
            self.all.add(ticket)

    def to_dict(self) -> dict[str, Any]:
        return {"help": {"by_step": {place: figures.to_dict() for place, figures in self.places.items()},
                         "all": self.all.to_dict()}}


class Reminders:
    """Reminders that reached their chat, and those the chat answered within 48 h."""

    def __init__(self) -> None:
        self.sent = {1: 0, 2: 0}
        self.followed = {1: 0, 2: 0}

    def add(self, facts: ReportFacts) -> None:
        for reminder in facts.reminders:
            self.sent[reminder.round] += 1
            self.followed[reminder.round] += reminder.followed_at is not None \
                and reminder.followed_at <= reminder.sent_at + FOLLOW_WINDOW

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

    def add(self, facts: ReportFacts) -> None:
        for mark in facts.marks:
            self.kinds[mark.kind].rate(mark.rating)
        for comment in facts.comments:
            self.kinds[comment.kind].comment({"at": comment.at, "subscription": facts.number, "step": comment.step,
                                              "rating": comment.rating, "comment": comment.text})

    def to_dict(self) -> dict[str, Any]:
        return {"ratings": {name: rating.to_dict() for name, rating in self.kinds.items()}}


class Tally:
    """Every figure of the report, fed one subscription's facts at a time."""

    def __init__(self, period: Period) -> None:
        self.period = period
        self.parts = (Funnel(), Help(), Reminders(), Ratings())
        self.unreadable = self.unreadable_entries = 0

    def add(self, row: FactsRow) -> bool:
        """False for a subscription opened outside the period: neither its figures nor its damaged
        entries are the report's (an unreadable subscription has no date: always counted)."""
        facts = row.facts
        if facts is None:
            self.unreadable += 1
            return True
        if not self.period.holds(facts.created_at):
            return False
        self.unreadable_entries += row.unreadable_entries
        for part in self.parts:
            part.add(facts)
        return True

    def to_dict(self) -> dict[str, Any]:
        figures: dict[str, Any] = {"period": self.period.to_dict(),
                                   "unreadable": {"subscriptions": self.unreadable,
                                                  "audit_entries": self.unreadable_entries}}
        for part in self.parts:
            figures.update(part.to_dict())
        return figures


def report(rows: Iterable[FactsRow], period: Period,
           unreadable: Callable[[FactsRow], None] = lambda row: None) -> dict[str, Any]:
    """The figures as JSON-ready data (keys documented in the README); `unreadable` hears of each
    subscription whose facts could not all be read, as it goes."""
    tally = Tally(period)
    for row in rows:
        if tally.add(row) and (row.facts is None or row.unreadable_entries):
            unreadable(row)
    return tally.to_dict()
