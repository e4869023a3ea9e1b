"""The one e-mail reminding an invited user of their link before it expires, driven by the injected
clock (no sleeps): when it goes, what it says, when it must not go, and that it goes once."""

import re
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from bot.stores import build_store
from bot.console_transport import render
from bot.config import Settings
from flows import invitations, reminder_slots, reminders
from flows.assistant import Assistant
from flows.offer import Product
from flows.ports import Mail
from flows.records import Code, CodeKind, Reminder, Subscription, UserAccount, UserStatus
from flows.reminder_settings import ReminderSettings
from flows.steps.base import AssistantSettings, Toolkit
from storage.postgres_store import PostgresStore, connect
from tests.conftest import TEST_CIPHER
from tests.flow_harness import Chat, Clock, Desk, PlainHasher, add_user, admin_through_step_1, make_toolkit
from tests.test_telegram_journey import outbox, plain_text
from tests.test_reminders import at, run_due

MARIE = ("Curie", "Marie", "marie@entreprise.fr")
DAY = 86400.0


def invited(desk: Desk, when: str = "2027-03-03T10:00", language: str = "fr") -> tuple[Chat, str]:
    """An administrator who invited Marie at `when` (Paris time; a Wednesday by default, so her link
    expires on Wednesday 10 March at 10:00 and the reminder is due on Monday 8 March at 10:00)."""
    desk.clock.now = at(when)
    chat, opened = desk.opened_chat(seats=3, language=language)
    admin_through_step_1(chat, own_user=True)
    add_user(chat, *MARIE)
    chat.press("VALIDER ET ACTIVER")
    chat.press("Confirm")
    return chat, opened.subscription.number


def link(mail: Mail) -> str:
    match = re.search(r"\?start=([A-Za-z0-9_-]+)", mail.text)
    assert match, mail.text
    return match.group(1)


def invitation_of(desk: Desk) -> Mail:
    return next(m for m in reversed(desk.mails_to(MARIE[2])) if "invite" in m.subject)


def reminders_to_marie(desk: Desk) -> list[Mail]:
    return [m for m in desk.mails_to(MARIE[2]) if "invite" not in m.subject]


def test_it_goes_48_hours_before_the_link_expires_not_before_and_once(desk: Desk) -> None:
    invited(desk)
    desk.clock.now = at("2027-03-08T09:59")
    run_due(desk)
    assert reminders_to_marie(desk) == []
    desk.clock.now = at("2027-03-08T10:01")
    assert all(d.chat_id == 7 for d in run_due(desk))  # the administrator's own; Marie's is a mail
    (reminder,) = reminders_to_marie(desk)
    desk.clock.now = at("2027-03-09T10:00")
    run_due(desk)
    assert reminders_to_marie(desk) == [reminder]


def test_the_mail_carries_the_same_link_in_french_signed_and_saying_how_long_it_still_works(desk: Desk) -> None:
    invited(desk)
    desk.clock.now = at("2027-03-08T10:01")
    run_due(desk)
    (reminder,) = reminders_to_marie(desk)
    assert link(reminder) == link(invitation_of(desk))
    assert reminder.subject == "Rappel\u202f: votre compte Sage 50 Comptabilité attend votre mot de passe"
    assert reminder.text.startswith("Bonjour Marie,") and "Jean Dupont a créé votre compte" in reminder.text
    assert "Ce lien fonctionne encore pendant 47 heures." in reminder.text  # 47 h 59: never said longer
    assert reminder.text.endswith("L'équipe Sage Flex")
    assert reminder.html and "Définir mon mot de passe</a>" in reminder.html
    assert reminder.notify_chat == 7  # the administrator's chat hears of a mail that stalls


def test_in_english_for_an_english_administrator(desk: Desk) -> None:
    invited(desk, language="en")
    desk.clock.now = at("2027-03-08T10:01")
    run_due(desk)
    (reminder,) = reminders_to_marie(desk)
    assert reminder.subject == "Reminder: your Sage 50 Comptabilité account is waiting for your password"
    assert reminder.text.startswith("Hello Marie,") and "This link works for 47 hours more." in reminder.text
    assert reminder.text.endswith("The Sage Flex team")


def test_in_the_users_own_language_once_their_chat_told_it(desk: Desk) -> None:
    invited(desk)
    marie = desk.chat(300, language="en")
    marie.command(f"/start {link(invitation_of(desk))}")  # she opened it, and set no password
    desk.clock.now = at("2027-03-08T10:01")
    run_due(desk)
    (reminder,) = reminders_to_marie(desk)
    assert reminder.text.startswith("Hello Marie,")
    resumed = marie.command(f"/start {link(reminder)}")  # the same link: it resumes in her chat
    assert "Welcome back" in resumed.text and "password" in resumed.text


def test_an_administrators_chat_that_became_an_invited_users_is_no_longer_reminded_of_its_setup(desk: Desk) -> None:
    from tests.test_reminders import admin_of

    desk.clock.now = at("2027-03-03T10:00")
    marie = admin_of(desk, desk.open().code, 30, "2027-03-03T10:00")  # her own setup stopped at step 3
    invited(desk)  # another administrator invites Marie
    marie.command(f"/start {link(invitation_of(desk))}")
    marie.press("Ouvrir ce lien ici")
    desk.clock.now = at("2027-03-04T10:01")  # the first setup's reminder would be due
    assert 30 not in [d.chat_id for d in run_due(desk)]


def test_not_sent_once_the_password_is_set(desk: Desk) -> None:
    invited(desk)
    marie = desk.chat(300)
    marie.command(f"/start {link(invitation_of(desk))}")
    marie.type("Marguerite77x")
    desk.clock.now = at("2027-03-08T10:01")
    run_due(desk)
    assert reminders_to_marie(desk) == []


def reviewing_marie(chat: Chat) -> None:
    chat.press("Télécharger mon logiciel")
    chat.press("Menu")
    chat.press("Utilisateurs")
    chat.press("Marie")


def test_not_sent_to_a_deactivated_user(desk: Desk) -> None:
    chat, _ = invited(desk)
    reviewing_marie(chat)
    chat.press("Désactiver cet utilisateur")
    chat.press("Confirmer la désactivation")
    desk.clock.now = at("2027-03-08T10:01")
    assert reminder_slots.waiting(desk.toolkit.store, desk.clock.now) == 0
    run_due(desk)
    assert reminders_to_marie(desk) == []


def test_not_sent_for_a_revoked_invitation_even_if_its_reminder_was_left_due(desk: Desk) -> None:
    """The claim itself checks the invitation: a reminder left due (an older release, a bug) never
    mails a link that no longer works."""
    _, number = invited(desk)
    account = desk.account(number)
    user = next(u for u in account.users if u.first_name == "Marie")
    user.invitation = None
    desk.toolkit.store.save_subscription(account)
    desk.clock.now = at("2027-03-08T10:01")
    run_due(desk)
    assert reminders_to_marie(desk) == []


def test_a_resent_invitation_moves_the_reminder_to_the_new_links_expiry(desk: Desk) -> None:
    chat, _ = invited(desk)
    first = link(invitation_of(desk))
    desk.clock.now = at("2027-03-05T11:00")  # a Friday: the new link expires Friday 12 March 11:00
    reviewing_marie(chat)
    chat.press("Renvoyer l'invitation")
    second = link(invitation_of(desk))
    assert second != first
    desk.clock.now = at("2027-03-08T10:01")  # the first link's reminder would be due
    run_due(desk)
    assert reminders_to_marie(desk) == []
    desk.clock.now = at("2027-03-10T11:01")
    run_due(desk)
    (reminder,) = reminders_to_marie(desk)
    assert link(reminder) == second


@pytest.mark.parametrize(("language", "said"), [("fr", "Marie Curie <marie@entreprise.fr> — invitation envoyée, "
                                                        "relancé le 8 mars 2027"),
                                               ("en", "Marie Curie <marie@entreprise.fr> — invitation sent, "
                                                      "reminded on March 8, 2027")])
def test_the_administrators_lists_say_when_the_user_was_reminded(desk: Desk, language: str, said: str) -> None:
    chat, _ = invited(desk, language=language)
    assert "relancé" not in chat.command("/etat").text and "reminded" not in chat.last.text
    desk.clock.now = at("2027-03-08T10:01")
    run_due(desk)
    assert said in chat.command("/etat").text
    chat.press("⬇️")
    chat.press("Menu")
    listed = chat.press("👥")  # the users' list, in the chat and as the terminal prints it
    assert said in listed.text and said in render(listed)[0]
    assert said in chat.press("Marie").text  # her card


def test_a_resent_invitation_is_no_longer_reminded_until_its_own_reminder_goes(desk: Desk) -> None:
    chat, _ = invited(desk)
    desk.clock.now = at("2027-03-08T10:01")
    run_due(desk)
    reviewing_marie(chat)
    card = chat.press("Renvoyer l'invitation")
    assert "relancé" not in card.text and "invitation envoyée" in card.text


def test_the_reminder_waits_for_business_hours_when_that_leaves_half_the_notice(desk: Desk) -> None:
    invited(desk, when="2027-03-04T20:00")  # Thursday evening: due Tuesday 20:00, after closing
    desk.clock.now = at("2027-03-09T20:01")
    run_due(desk)
    assert reminders_to_marie(desk) == []
    desk.clock.now = at("2027-03-10T09:00")  # Wednesday's opening, 35 hours before the link expires
    run_due(desk)
    assert len(reminders_to_marie(desk)) == 1


def test_found_after_closing_it_waits_for_the_opening_when_that_leaves_half_the_notice(desk: Desk) -> None:
    invited(desk)  # due Monday 10:00, the link expires on Wednesday at 10:00
    desk.clock.now = at("2027-03-08T22:00")  # the runner was down all Monday
    run_due(desk)
    assert reminders_to_marie(desk) == []
    desk.clock.now = at("2027-03-09T09:00")  # Tuesday's opening: 25 hours left
    run_due(desk)
    (reminder,) = reminders_to_marie(desk)
    assert "25 heures" in reminder.text


def test_found_after_closing_too_close_to_the_expiry_it_goes_at_once(desk: Desk) -> None:
    invited(desk)
    desk.clock.now = at("2027-03-09T22:00")  # found on Tuesday night: Wednesday's opening is an hour before
    run_due(desk)
    (reminder,) = reminders_to_marie(desk)
    assert "12 heures" in reminder.text


def test_on_a_weekend_it_goes_at_its_due_time_rather_than_too_late(desk: Desk) -> None:
    invited(desk, when="2027-03-01T10:00")  # a Monday: due Saturday 10:00; Monday 09:00 is 1 hour before
    desk.clock.now = at("2027-03-06T10:01")
    run_due(desk)
    (reminder,) = reminders_to_marie(desk)
    assert "47 heures" in reminder.text


def test_the_due_time_keeps_to_the_subscriptions_time_zone() -> None:
    hours = ReminderSettings()
    expires = at("2027-03-11T20:00")  # due Tuesday 9 March 20:00 Paris, 14:00 in New York
    assert invitations.due_time(hours, at("2027-03-04T20:00"), expires, None) == at("2027-03-10T09:00")
    assert invitations.due_time(hours, at("2027-03-04T20:00"), expires, "America/New_York") == at("2027-03-09T20:00")


def test_no_reminder_for_a_link_that_does_not_outlive_the_notice() -> None:
    toolkit, outbox, clock = make_toolkit()
    toolkit = replace(toolkit, settings=replace(toolkit.settings, invitation_ttl=DAY))
    desk = Desk(toolkit, outbox, clock, Assistant(toolkit))
    _, number = invited(desk)
    user = next(u for u in desk.account(number).users if u.first_name == "Marie")
    reminder = desk.toolkit.store.load_reminder(invitations.key_of(number, user.id))
    assert isinstance(reminder, Reminder) and reminder.due_at is None
    desk.clock.now = at("2027-03-04T09:59")
    run_due(desk)
    assert reminders_to_marie(desk) == []


def test_the_operators_metric_counts_it_while_due(desk: Desk) -> None:
    invited(desk)
    assert reminder_slots.waiting(desk.toolkit.store, at("2027-03-08T09:59")) == 1  # the administrator's
    assert reminder_slots.waiting(desk.toolkit.store, at("2027-03-08T10:01")) == 2
    desk.clock.now = at("2027-03-08T10:01")
    run_due(desk)
    assert reminder_slots.waiting(desk.toolkit.store, desk.clock.now) == 0


# Durable and once: a real TinyDB store restarted, a claim that fails half-way, two PostgreSQL claimants.

def tinydb_desk(settings: Settings, clock: Clock) -> Desk:
    """The bot's own TinyDB store and maildir outbox on `settings`' data dir, as after a start."""
    store = build_store(settings, owner=True)
    toolkit = Toolkit(store, PlainHasher(), settings.assistant_settings("TestBot"), clock)
    return Desk(toolkit, None, clock, Assistant(toolkit))  # type: ignore[arg-type]


def reminders_in_outbox(settings: Settings) -> list[str]:
    return [plain_text(m) for m in outbox(settings) if m["To"] == MARIE[2] and "invite" not in m["Subject"]]


def test_a_restart_loses_no_reminder_and_sends_none_twice(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, flexbot_data_dir=tmp_path / "data", flexbot_fsync=False)
    clock = Clock()
    before = tinydb_desk(settings, clock)
    invited(before)
    before.toolkit.store.close()  # stopped before the reminder is due

    clock.now = at("2027-03-08T10:01")
    after = tinydb_desk(settings, clock)
    run_due(after)
    after.toolkit.store.close()
    (sent,) = reminders_in_outbox(settings)
    assert "Bonjour Marie," in sent

    clock.now = at("2027-03-09T10:00")
    again = tinydb_desk(settings, clock)
    run_due(again)
    assert reminders_in_outbox(settings) == [sent]
    again.toolkit.store.close()


def test_a_claim_that_fails_before_its_commit_leaves_the_reminder_due_and_no_mail(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The claim and the mail are one commit: either both are kept, or neither and the next pass
    sends it (a kill at any point is one of these two cases, the write-ahead log sees to it)."""
    settings = Settings(_env_file=None, flexbot_data_dir=tmp_path / "data", flexbot_fsync=False)
    clock = Clock()
    desk = tinydb_desk(settings, clock)
    _, number = invited(desk)
    clock.now = at("2027-03-08T10:01")
    store = desk.toolkit.store

    def broken(mail: Mail) -> None:
        raise OSError("disk full")
    monkeypatch.setattr(store, "queue_mail", broken)
    with pytest.raises(OSError):
        run_due(desk)
    monkeypatch.undo()
    store.close()
    assert reminders_in_outbox(settings) == []

    restarted = tinydb_desk(settings, clock)
    user = next(u for u in restarted.account(number).users if u.first_name == "Marie")
    left = restarted.toolkit.store.load_reminder(invitations.key_of(number, user.id))
    assert left is not None and left.claimed_at is None and user.reminded_at is None
    run_due(restarted)
    assert len(reminders_in_outbox(settings)) == 1
    restarted.toolkit.store.close()


def test_two_processes_claiming_on_postgresql_send_each_reminder_once(postgres_store, postgres_url) -> None:
    other = PostgresStore(connect(postgres_url, 4, migrate=False), "Sage Flex <bot@flex.example>", TEST_CIPHER)
    clock = Clock(at("2027-03-08T10:01"))
    toolkits = [Toolkit(store, PlainHasher(), AssistantSettings(bot_username="TestBot"), clock)
                for store in (postgres_store, other)]
    rounds = 15
    try:
        for round_ in range(rounds):
            number, key = f"FLX{round_:08d}", invitations.key_of(f"FLX{round_:08d}", "u1")
            code = Code(f"invitation{round_}", CodeKind.INVITATION.value, number, at("2027-03-10T10:00"), user_id="u1")
            user = UserAccount("u1", "Curie", "Marie", f"marie{round_}@entreprise.fr", UserStatus.INVITED,
                               invitation=code.value)
            with postgres_store.event():
                postgres_store.save_subscription(Subscription(number, "achat@entreprise.fr", Product.COMPTABILITE, 3,
                                                              clock(), users=[user]))
                postgres_store.save_code(code)
                postgres_store.save_reminder(Reminder(key, 7, number, due_at=clock() - 60, user_id="u1",
                                                      language="fr"))
            start = threading.Barrier(2)

            def claim(toolkit: Toolkit) -> None:
                start.wait()
                reminders.claim(toolkit, key, f"process-{id(toolkit)}")
            threads = [threading.Thread(target=claim, args=(toolkit,)) for toolkit in toolkits]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
        with postgres_store.pool.connection() as connection:
            counts = connection.execute("SELECT recipient, count(*) FROM mail GROUP BY recipient").fetchall()
        assert sorted(counts) == sorted((f"marie{n}@entreprise.fr", 1) for n in range(rounds))
        reminded = [postgres_store.load_subscription(f"FLX{n:08d}").users[0].reminded_at  # type: ignore[union-attr]
                    for n in range(rounds)]
        assert reminded == [clock()] * rounds
    finally:
        other.close()
