"""What the report needs is recorded where it happens: the first time each step is shown, and the
chat coming back after a reminder."""

from flows.boundary import Reply
from tests.flow_harness import Desk, add_user, admin_through_step_1
from tests.test_reminders import at, run_due, stopped_at_step_3


def test_each_step_is_noted_the_first_time_the_administrators_chat_shows_it(desk: Desk) -> None:
    desk.clock.now = 1000.0
    opened = desk.open(seats=2)
    assert desk.account(opened.subscription.number).steps_reached_at == {}
    chat = desk.chat()
    desk.clock.now = 1060.0
    chat.command(f"/start {opened.code}")
    desk.clock.now = 1200.0
    admin_through_step_1(chat)
    desk.clock.now = 1500.0
    add_user(chat, "Curie", "Marie", "marie@entreprise.fr")
    chat.press("VALIDER ET ACTIVER")
    chat.press("Confirmer")
    desk.clock.now = 1800.0
    chat.press("Retour")  # back at step 2 for a moment: its first time stays
    chat.press("VALIDER ET ACTIVER")
    desk.clock.now = 2000.0
    chat.press("Télécharger mon logiciel")
    account = desk.account(opened.subscription.number)
    assert account.steps_reached_at == {"1": 1060.0, "2": 1200.0, "3": 1500.0, "4": 2000.0}
    assert account.setup_completed_at == 2000.0


def test_one_seat_skips_step_2_and_it_is_not_noted(desk: Desk) -> None:
    chat, opened = desk.opened_chat(seats=1)
    admin_through_step_1(chat)
    assert set(desk.account(opened.subscription.number).steps_reached_at or {}) == {"1", "3"}


def test_a_subscription_opened_before_steps_were_noted_stays_unnoted(desk: Desk) -> None:
    opened = desk.open(seats=1)
    account = desk.account(opened.subscription.number)
    account.steps_reached_at = None  # as a record written by the previous release reads
    desk.toolkit.store.save_subscription(account)
    chat = desk.chat()
    chat.command(f"/start {opened.code}")
    admin_through_step_1(chat)
    assert desk.account(opened.subscription.number).steps_reached_at is None


def test_the_first_activity_after_a_reminder_is_in_the_audit_trail_once(desk: Desk) -> None:
    chat = stopped_at_step_3(desk)
    number = chat.assistant.toolkit.store.load_conversation(chat.chat_id).subscription_number  # type: ignore[union-attr]
    desk.clock.now = at("2027-03-02T10:01")
    [first] = run_due(desk)
    desk.clock.now = at("2027-03-02T12:00")
    chat.press("Reprendre", Reply(first.text, first.buttons))
    chat.command("/etat")
    followed = [e for e in desk.toolkit.store.audit_trail(number) if e.action == "reminder_followed"]
    assert [(e.at, e.actor, e.details) for e in followed] == [
        (at("2027-03-02T12:00"), f"chat:{chat.chat_id}", {"sent_at": at("2027-03-02T10:01"), "round": 1, "step": 3})]
    sent = next(e for e in desk.toolkit.store.audit_trail(number) if e.action == "reminder_sent")
    assert sent.details["chat"] == chat.chat_id


def test_ne_plus_me_le_rappeler_counts_as_coming_back_once(desk: Desk) -> None:
    chat = stopped_at_step_3(desk)
    number = chat.assistant.toolkit.store.load_conversation(chat.chat_id).subscription_number  # type: ignore[union-attr]
    desk.clock.now = at("2027-03-02T10:01")
    [first] = run_due(desk)
    chat.press("Ne plus me le rappeler", Reply(first.text, first.buttons))
    chat.command("/etat")
    assert [e.action for e in desk.toolkit.store.audit_trail(number)].count("reminder_followed") == 1
