"""Report facts: what the store folds in, entry by entry and each time through its JSON document, is
what a fold of the whole trail gives at once; and the tally counts what the facts say."""

import json
import math
import statistics

from hypothesis import given
from hypothesis import strategies as st

from flows.offer import Product
from flows.records import AuditEntry, Subscription
from flows.report import FactsRow, Period, ReportFacts, report
from flows.report import durations as durations_module
from flows.report.durations import RELATIVE_ACCURACY, Durations

NUMBER = "FLX00000001"
CHATS = ("chat:7", "chat:8")
ACTORS = (*CHATS, "agent:1", "reminders", "operator")
ACTIONS = ("chat_bound", "help_requested", "agent_joined", "help_resolved", "help_cancelled", "reminder_sent",
           "reminder_not_delivered", "reminder_followed", "feedback_rated", "feedback_commented", "admin_saved",
           "text")
SENT_AT = (100.0, 200.0, 300.0)


def details() -> st.SearchStrategy[dict]:
    """Details drawn from the values the actions really carry, often colliding so that entries meet."""
    return st.fixed_dictionaries({}, optional={
        "ticket": st.sampled_from([1, 2, None]),
        "state": st.sampled_from(["asking_admin_email", "managing_users", "choosing_services", "showing_downloads",
                                  "menu", ""]),
        "round": st.sampled_from([1, 2]),
        "chat": st.sampled_from([7, 8]),
        "sent_at": st.sampled_from(SENT_AT),
        "topic": st.sampled_from(["assistant", "help", "other"]),
        "rating": st.sampled_from([1, 3, 5, 0, "5"]),
        "step": st.sampled_from([1, 4, None]),
        "comment": st.text(max_size=20)})


entries = st.lists(st.builds(AuditEntry, at=st.sampled_from(SENT_AT + (150.0, 400.0, 1e6)),
                             subscription_number=st.just(NUMBER), actor=st.sampled_from(ACTORS),
                             action=st.sampled_from(ACTIONS), details=details()), max_size=25)


def opened() -> Subscription:
    return Subscription(NUMBER, "achat@entreprise.fr", Product.PAYE, 2, 50.0, steps_reached_at={"1": 60.0})


@given(entries)
def test_facts_folded_one_stored_entry_at_a_time_are_the_facts_of_the_whole_trail(trail: list[AuditEntry]) -> None:
    kept = ReportFacts.of(opened(), [])
    for entry in trail:  # each event loads the stored document, folds one entry, saves it again
        kept = ReportFacts.from_dict(json.loads(json.dumps(kept.to_dict())))
        kept.fold(entry)
    assert kept == ReportFacts.of(opened(), trail)


def test_a_return_counts_for_the_reminder_it_followed_not_for_an_earlier_one() -> None:
    day = 86400.0
    facts = ReportFacts.of(opened(), [
        AuditEntry(day, NUMBER, "reminders", "reminder_sent", {"round": 1, "chat": 7}),
        AuditEntry(2 * day, NUMBER, "reminders", "reminder_sent", {"round": 2, "chat": 7}),
        AuditEntry(2 * day + 3600, NUMBER, "chat:7", "reminder_followed", {"sent_at": 2 * day, "round": 2})])
    figures = report([FactsRow(NUMBER, facts)], Period())
    assert figures["reminders"]["by_round"] == {"1": {"sent": 1, "followed_within_48h": 0},
                                                "2": {"sent": 1, "followed_within_48h": 1}}


def test_a_help_request_made_again_under_the_same_number_replaces_the_first() -> None:
    facts = ReportFacts.of(opened(), [
        AuditEntry(10.0, NUMBER, "chat:7", "help_requested", {"ticket": 3, "state": "managing_users"}),
        AuditEntry(20.0, NUMBER, "chat:7", "help_requested", {"ticket": 3, "state": "choosing_services"}),
        AuditEntry(30.0, NUMBER, "agent:1", "agent_joined", {"ticket": 3}),
        AuditEntry(40.0, NUMBER, "agent:1", "agent_joined", {"ticket": 3}),  # a second agent: the wait is the first's
        AuditEntry(50.0, NUMBER, "agent:1", "help_resolved", {"ticket": 9})])  # no such request: nothing
    assert [(t.place, t.requested_at, t.joined_at, t.resolved_at) for t in facts.tickets] == [("3", 20.0, 30.0, None)]


def test_a_few_durations_give_the_quantiles_a_spreadsheet_gives() -> None:
    durations = Durations()
    for seconds in (3600, 10_800):
        durations.add(seconds)
    assert durations.to_dict() == {"count": 2, "median_s": 7200.0, "p90_s": 10_080.0}
    more = Durations()
    for seconds in (60, 120, 180, 240, 3600):
        more.add(seconds)
    assert more.to_dict() == {"count": 5, "median_s": 180.0,
                              "p90_s": statistics.quantiles([60, 120, 180, 240, 3600], n=10, method="inclusive")[8]}


def test_past_the_exact_count_the_durations_go_into_the_sketch_within_one_percent(monkeypatch) -> None:
    monkeypatch.setattr(durations_module, "EXACT_UP_TO", 50)
    durations = Durations()
    values = [float(n * n) for n in range(1, 1001)]
    for seconds in values:
        durations.add(seconds)
    figures = durations.to_dict()
    assert durations._exact is None  # nothing kept per duration any more
    for key, q in (("median_s", 0.5), ("p90_s", 0.9)):
        exact = values[math.floor(q * (len(values) - 1))]
        assert abs(figures[key] - exact) <= RELATIVE_ACCURACY * exact + 0.1
