"""Reminders to administrators who stopped mid-setup, driven by the injected clock (no sleeps)."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from bot.config import Settings
from flows import reminder_slots, reminders
from flows.boundary import Reply
from flows.reminder_settings import ReminderSettings
from tests.flow_harness import Chat, Desk, admin_through_step_1, delivered_to

PARIS = ZoneInfo("Europe/Paris")


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS).timestamp()


def run_due(desk: Desk) -> list:
    """What a runner would send now: every due reminder it could claim."""
    return [d for key in reminder_slots.Walk(desk.toolkit.store, desk.clock.now).keys()
            if (d := reminders.claim(desk.toolkit, key, "test")) is not None]


def stopped_at_step_3(desk: Desk, when: str = "2027-03-01T10:00") -> Chat:  # a Monday
    desk.clock.now = at(when)
    chat, _ = desk.opened_chat()
    admin_through_step_1(chat)
    return chat


def test_business_hours_in_the_time_zone_push_a_night_or_weekend_reminder_to_the_morning() -> None:
    hours = ReminderSettings()
    assert hours.business_time(at("2027-03-01T10:00")) == at("2027-03-01T10:00")
    assert hours.business_time(at("2027-03-01T22:30")) == at("2027-03-02T09:00")
    assert hours.business_time(at("2027-03-02T06:00")) == at("2027-03-02T09:00")
    assert hours.business_time(at("2027-03-05T19:00")) == at("2027-03-08T09:00")  # Friday evening: Monday
    assert ReminderSettings(time_zone="America/New_York").business_time(at("2027-03-01T10:00")) == at(
        "2027-03-01T15:00")  # 09:00 in New York
    assert hours.business_time(at("2027-03-01T10:00"), "America/New_York") == at("2027-03-01T15:00")
    assert hours.zone("Nowhere/Atlantis") == hours.zone(None) == PARIS  # a name no longer known: the default


def test_a_first_reminder_after_24_hours_and_a_second_after_72_then_no_more(desk: Desk) -> None:
    chat = stopped_at_step_3(desk)
    desk.clock.now = at("2027-03-02T09:59")
    assert run_due(desk) == []

    desk.clock.now = at("2027-03-02T10:01")
    [first] = run_due(desk)
    assert first.chat_id == chat.chat_id and "étape 3/4 — Services connectés" in first.text
    assert "Téléchargement" in first.text or "4" in first.text
    assert [b.label for row in first.buttons for b in row] == ["▶️ Reprendre", "🔕 Ne plus me le rappeler"]
    assert run_due(desk) == []  # claimed: never twice

    desk.clock.now = at("2027-03-04T10:01")
    assert len(run_due(desk)) == 1
    desk.clock.now = at("2027-03-20T10:00")
    assert run_due(desk) == []


@pytest.mark.parametrize(("stopped", "found", "sent"), [
    ("2027-03-01T18:30", "2027-03-02T23:00", "2027-03-03T09:00"),  # due 18:30, the runner back at 23:00
    ("2027-03-01T18:59", "2027-03-02T19:00", "2027-03-03T09:00"),  # found a minute after closing
    ("2027-03-04T18:00", "2027-03-05T22:00", "2027-03-08T09:00"),  # due Friday 18:00, found at night: Monday
])
def test_a_reminder_found_after_closing_waits_for_the_next_opening(desk: Desk, stopped: str, found: str,
                                                                   sent: str) -> None:
    stopped_at_step_3(desk, stopped)
    desk.clock.now = at(found)
    assert run_due(desk) == []
    desk.clock.now = at(sent) - 60
    assert run_due(desk) == []
    desk.clock.now = at(sent)
    assert len(run_due(desk)) == 1
    assert run_due(desk) == []  # nor the second with it


@pytest.mark.parametrize(("stopped", "first", "quiet", "second"), [
    # on time: 24 h, then 72 h of silence
    ("2027-03-01T10:00", "2027-03-02T10:00", "2027-03-04T09:59", "2027-03-04T10:00"),
    # Friday evening: Monday's opening, and not again that Monday at 18:00 (72 h of silence)
    ("2027-03-05T18:00", "2027-03-08T09:00", "2027-03-08T18:00", "2027-03-10T09:00"),
    # 72 h of silence fall on a Sunday: Monday's opening
    ("2027-03-04T12:00", "2027-03-05T12:00", "2027-03-05T18:59", "2027-03-08T09:00"),
])
def test_the_second_reminder_comes_48_hours_after_the_first_went_at_the_earliest(
        desk: Desk, stopped: str, first: str, quiet: str, second: str) -> None:
    stopped_at_step_3(desk, stopped)
    desk.clock.now = at(first)
    assert len(run_due(desk)) == 1
    desk.clock.now = at(quiet)
    assert run_due(desk) == []
    desk.clock.now = at(second)
    assert len(run_due(desk)) == 1


def test_after_an_outage_the_second_reminder_is_neither_lost_nor_sent_right_after_the_first(desk: Desk) -> None:
    stopped_at_step_3(desk, "2027-03-01T10:00")
    desk.clock.now = at("2027-03-05T10:00")  # the runner was down from Monday to Friday: both were due
    assert len(run_due(desk)) == 1
    desk.clock.now = at("2027-03-05T10:01")
    assert run_due(desk) == []
    desk.clock.now = at("2027-03-08T09:00")  # 48 h after the first fall on Sunday: Monday's opening
    assert len(run_due(desk)) == 1
    desk.clock.now = at("2027-03-20T10:00")
    assert run_due(desk) == []


def test_a_reminder_found_late_keeps_to_its_subscriptions_time_zone(desk: Desk) -> None:
    from flows.orders import place_order

    desk.clock.now = at("2027-03-01T19:55")
    new_york = place_order(desk.toolkit, "CMD-NY", "achat@ny.example.com", "comptabilite", 1, "en", "America/New_York")
    admin_of(desk, new_york.opened["code"], 21, "2027-03-01T20:00")  # 14:00 in New York: due Tuesday 14:00 there
    desk.clock.now = at("2027-03-03T04:00")  # found Tuesday 22:00 in New York
    assert run_due(desk) == []
    desk.clock.now = at("2027-03-03T15:00")  # Wednesday 09:00 in New York
    assert [d.chat_id for d in run_due(desk)] == [21]


def test_what_is_left_names_only_the_steps_the_subscription_goes_through(desk: Desk) -> None:
    """One seat: no user accounts to create (step 2 is skipped), so the reminder never says it is left."""
    desk.clock.now = at("2027-03-01T10:00")
    desk.opened_chat(seats=1)  # both stopped at the welcome, step 1
    desk.opened_chat(seats=3, chat_id=8)
    desk.clock.now = at("2027-03-02T10:01")
    one_seat, three_seats = sorted(run_due(desk), key=lambda d: d.chat_id)
    assert "Il reste\u202f: Compte administrateur, Services connectés, Téléchargement de Sage 50." in one_seat.text
    assert ("Il reste\u202f: Compte administrateur, Comptes utilisateurs, Services connectés, Téléchargement de "
            "Sage 50.") in three_seats.text


def test_reprendre_shows_the_current_question_and_activity_starts_the_count_again(desk: Desk) -> None:
    chat = stopped_at_step_3(desk)
    desk.clock.now = at("2027-03-02T10:01")
    [first] = run_due(desk)
    resumed = chat.press("Reprendre", Reply(first.text, first.buttons))
    assert "Étape 3/4" in resumed.text
    desk.clock.now = at("2027-03-03T10:00")  # the second one would count from the first activity: not now
    assert run_due(desk) == []
    desk.clock.now = at("2027-03-03T10:02")
    assert len(run_due(desk)) == 1  # 24 h after Reprendre


def test_ne_plus_me_le_rappeler_stops_them_for_good(desk: Desk) -> None:
    chat = stopped_at_step_3(desk)
    desk.clock.now = at("2027-03-02T10:01")
    [first] = run_due(desk)
    assert "plus de rappel" in chat.press("Ne plus me le rappeler", Reply(first.text, first.buttons)).text
    chat.command("/etat")
    desk.clock.now = at("2027-03-10T10:00")
    assert run_due(desk) == []


def test_none_after_setup_done_nor_with_a_help_request_open_nor_to_a_chat_that_blocked_the_bot(desk: Desk) -> None:
    done = stopped_at_step_3(desk)
    done.press("Télécharger mon logiciel")
    helped = desk.chat(8)
    helped.command(f"/start {desk.open().code}")
    helped.press("Parler à un conseiller")
    blocked = desk.chat(9)
    blocked.command(f"/start {desk.open().code}")
    reminders.not_delivered(desk.toolkit, reminders.key_of(9), blocked=True)

    desk.clock.now = at("2027-03-10T10:00")

    assert run_due(desk) == []


def test_a_reminder_held_back_while_help_was_open_counts_again_from_the_end_of_the_help(desk: Desk) -> None:
    """Nobody answers the request until Tuesday; the agent leaves and the administrator says nothing more."""
    from tests.test_flows_helpdesk import agent

    chat = stopped_at_step_3(desk, "2027-03-01T10:00")
    chat.press("Parler à un conseiller")
    desk.clock.now = at("2027-03-02T10:30")  # due for 30 minutes, but the request is open
    assert run_due(desk) == []
    desk.clock.now = at("2027-03-02T11:00")
    marie = agent(desk)
    marie.command("/rejoindre 1")
    desk.clock.now = at("2027-03-02T11:10")
    marie.command("/quitter")
    desk.clock.now = at("2027-03-03T11:09")
    assert run_due(desk) == []
    desk.clock.now = at("2027-03-03T11:10")  # 24 hours after the help ended
    assert [d.chat_id for d in run_due(desk)] == [chat.chat_id]


def test_a_reminder_held_back_while_an_agent_was_in_waits_for_the_last_one_to_leave(desk: Desk) -> None:
    from tests.test_flows_helpdesk import MARIE, agent

    chat = stopped_at_step_3(desk, "2027-03-01T10:00")
    chat.press("Parler à un conseiller")
    marie, paul = agent(desk), agent(desk, MARIE + 1, "Paul")
    marie.command("/rejoindre 1")
    paul.command("/rejoindre 1")
    desk.clock.now = at("2027-03-02T10:30")  # due, but two agents are in
    assert run_due(desk) == []
    marie.command("/quitter")
    desk.clock.now = at("2027-03-03T12:00")
    assert run_due(desk) == []  # Paul is still in
    paul.command("/quitter")
    desk.clock.now = at("2027-03-04T12:00")
    assert len(run_due(desk)) == 1


def test_a_reminder_held_back_while_help_was_open_counts_again_once_the_request_is_cancelled(desk: Desk) -> None:
    chat = stopped_at_step_3(desk, "2027-03-01T10:00")
    chat.press("Parler à un conseiller")
    desk.clock.now = at("2027-03-02T10:30")
    assert run_due(desk) == []
    desk.clock.now = at("2027-03-02T15:00")
    chat.press("Annuler la demande d'aide")
    desk.clock.now = at("2027-03-03T15:00")
    assert len(run_due(desk)) == 1


def test_no_reminder_while_a_help_request_waits_however_long(desk: Desk) -> None:
    stopped_at_step_3(desk, "2027-03-01T10:00").press("Parler à un conseiller")
    for day in range(2, 20):
        desk.clock.now = at(f"2027-03-{day:02d}T12:00")
        assert run_due(desk) == []


async def test_the_runner_sends_over_the_bot_api_once_even_twice_polled_and_stops_at_a_blocked_chat(
        bot_api, tmp_path) -> None:
    from telegram import Bot

    from bot import reminder_runner
    from flows.assistant import Assistant
    from storage.tinydb_store import TinyDBStore
    from tests.flow_harness import Clock, PlainHasher, make_toolkit
    toolkit, _, clock = make_toolkit()
    toolkit = type(toolkit)(TinyDBStore(tmp_path / "db", fsync=False), PlainHasher(), toolkit.settings, clock)
    desk = Desk(toolkit, None, clock, Assistant(toolkit))  # type: ignore[arg-type]
    stopped_at_step_3(desk)
    blocked = desk.chat(9)
    blocked.command(f"/start {desk.open().code}")
    bot_api.blocked.add(9)
    clock.now = at("2027-03-02T11:00")
    async with Bot(bot_api.token, base_url=bot_api.base_url) as bot:
        assert await reminder_runner.send_due(bot, toolkit) == 1
        assert await reminder_runner.send_due(bot, toolkit) == 0  # a second pass, or process, finds it taken
    assert sum("Votre configuration Flex vous attend" in (m.text or "") for m in bot_api.chats[7]) == 1
    assert toolkit.store.load_reminder(reminders.key_of(9)).blocked  # type: ignore[union-attr]
    toolkit.store.close()


def stopped_at_step_3_each_hour(desk: Desk, chat_ids: tuple[int, ...], first: str = "2027-03-01T09:00") -> None:
    """Administrators who stopped at step 3 an hour apart: their reminders fall in different slots."""
    for hour, chat_id in enumerate(chat_ids):
        desk.clock.now = at(first) + hour * 3600
        admin_of(desk, desk.open().code, chat_id, datetime.fromtimestamp(desk.clock.now, PARIS).isoformat())


def test_a_pass_killed_before_its_claims_loses_no_due_reminder(desk: Desk) -> None:
    """The cursor moves past an hour only once its reminders were dealt with, not when they are listed."""
    stopped_at_step_3_each_hour(desk, (7, 8, 9))
    desk.clock.now = at("2027-03-02T12:30")  # all three due since 09:00, 10:00 and 11:00: the runner was down
    walk = reminder_slots.Walk(desk.toolkit.store, desk.clock.now).keys()
    reminders.claim(desk.toolkit, next(walk), "killed")  # the first is claimed, then the process is killed
    desk.clock.now = at("2027-03-02T12:31")  # restarted, or another process
    assert sorted(d.chat_id for d in run_due(desk)) == [8, 9]


async def test_a_claim_that_fails_loses_neither_the_others_of_the_pass_nor_itself(
        bot_api, desk: Desk, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from telegram import Bot

    from bot import reminder_runner
    from flows.ports import StoreUnavailable

    stopped_at_step_3_each_hour(desk, (7, 8, 9))
    store, read = desk.toolkit.store, desk.toolkit.store.load_reminder

    def blip(key: str) -> object:
        if key == reminders.key_of(8):
            raise StoreUnavailable("the database is unavailable (OperationalError)")
        return read(key)
    monkeypatch.setattr(store, "load_reminder", blip)
    desk.clock.now = at("2027-03-02T12:00")
    async with Bot(bot_api.token, base_url=bot_api.base_url) as bot:
        assert await reminder_runner.send_due(bot, desk.toolkit) == 2  # 7's and 9's
        monkeypatch.undo()
        desk.clock.now = at("2027-03-02T13:00")  # the next pass looks at 10:00 again
        assert await reminder_runner.send_due(bot, desk.toolkit) == 1
        assert await reminder_runner.send_due(bot, desk.toolkit) == 0
    assert {chat: sum("Votre configuration Flex vous attend" in (m.text or "") for m in bot_api.chats[chat])
            for chat in (7, 8, 9)} == {7: 1, 8: 1, 9: 1}
    [failure] = [r for r in caplog.records if r.name == "bot.reminder_runner"]
    assert failure.getMessage() == ("an administrator's reminder could not be dealt with in this pass "
                                    "(StoreUnavailable): its hour is looked at again")


def test_a_chat_recorded_as_blocked_is_reminded_again_once_the_administrator_writes(desk: Desk) -> None:
    """Writing to the bot proves they unblocked it."""
    chat = stopped_at_step_3(desk, "2027-03-01T10:00")
    desk.clock.now = at("2027-03-02T10:01")
    assert len(run_due(desk)) == 1
    reminders.not_delivered(desk.toolkit, reminders.key_of(chat.chat_id), blocked=True)  # Telegram said 403
    desk.clock.now = at("2027-03-10T10:00")
    assert run_due(desk) == []
    chat.command("/etat")
    desk.clock.now = at("2027-03-11T10:00")
    assert [d.chat_id for d in run_due(desk)] == [chat.chat_id]


def test_a_chat_recorded_as_blocked_that_had_stopped_the_reminders_keeps_them_stopped(desk: Desk) -> None:
    chat = stopped_at_step_3(desk, "2027-03-01T10:00")
    desk.clock.now = at("2027-03-02T10:01")
    [first] = run_due(desk)
    chat.press("Ne plus me le rappeler", Reply(first.text, first.buttons))
    reminders.not_delivered(desk.toolkit, reminders.key_of(chat.chat_id), blocked=True)
    desk.clock.now = at("2027-03-10T10:00")
    chat.command("/etat")
    assert not desk.toolkit.store.load_reminder(reminders.key_of(chat.chat_id)).blocked  # type: ignore[union-attr]
    desk.clock.now = at("2027-03-20T10:00")
    assert run_due(desk) == []


def test_a_chat_that_opens_another_subscriptions_link_is_reminded_of_that_one(desk: Desk) -> None:
    """The old subscription's reminder record (its number, its « Ne plus me le rappeler ») is not the new one's."""
    from flows.orders import place_order

    chat = stopped_at_step_3(desk, "2027-03-01T10:00")
    desk.clock.now = at("2027-03-02T10:01")
    [first] = run_due(desk)
    chat.press("Ne plus me le rappeler", Reply(first.text, first.buttons))
    new_york = place_order(desk.toolkit, "CMD-NY", "achat@ny.example.com", "comptabilite", 1, "fr", "America/New_York")
    desk.clock.now = at("2027-03-02T20:00")  # 14:00 in New York
    chat.command(f"/start {new_york.opened['code']}")
    chat.press("Ouvrir ce lien ici")
    number = desk.toolkit.store.load_conversation(chat.chat_id).subscription_number  # type: ignore[union-attr]
    assert number == new_york.opened["number"]
    desk.clock.now = at("2027-03-03T20:01")  # 24 hours on: open in New York, closed in Paris
    assert [d.chat_id for d in run_due(desk)] == [chat.chat_id]
    assert "reminder_sent" in [e.action for e in desk.toolkit.store.audit_trail(number)]


def test_the_operators_metrics_count_the_reminders_due_and_not_sent(desk: Desk) -> None:
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.parser import text_string_to_metric_families

    from bot.metrics import StateCollector

    def scraped() -> float:
        registry = CollectorRegistry()
        registry.register(StateCollector(desk.toolkit.store, None, clock=lambda: desk.clock.now))
        families = text_string_to_metric_families(generate_latest(registry).decode())
        return next(s.value for f in families for s in f.samples if s.name == "flexbot_reminders_due")

    stopped_at_step_3(desk)
    assert scraped() == 0
    desk.clock.now = at("2027-03-02T11:00")  # 25 hours later, a Tuesday morning
    assert scraped() == 1 and scraped() == 1  # a scrape claims nothing
    assert len(run_due(desk)) == 1
    assert scraped() == 0


def admin_of(desk: Desk, code: str, chat_id: int, when: str) -> Chat:
    """An administrator who followed `code`'s Commencer link and stopped at step 3 at `when` (Paris)."""
    desk.clock.now = at(when)
    chat = desk.chat(chat_id)
    chat.command(f"/start {code}")
    admin_through_step_1(chat)
    return chat


def test_a_shop_orders_time_zone_decides_when_its_administrators_reminder_is_due(desk: Desk) -> None:
    from flows.orders import place_order

    desk.clock.now = at("2027-03-01T19:55")
    new_york = place_order(desk.toolkit, "CMD-NY", "achat@ny.example.com", "comptabilite", 1, "en", "America/New_York")
    paris = place_order(desk.toolkit, "CMD-FR", "achat@entreprise.fr", "comptabilite", 1)
    admin_of(desk, new_york.opened["code"], 21, "2027-03-01T20:00")  # 14:00 in New York
    admin_of(desk, paris.opened["code"], 22, "2027-03-01T20:00")
    desk.clock.now = at("2027-03-02T20:01")  # 24 hours on: open in New York, closed in Paris
    assert [d.chat_id for d in run_due(desk)] == [21]
    desk.clock.now = at("2027-03-03T09:00")
    assert [d.chat_id for d in run_due(desk)] == [22]


def test_the_time_zone_given_to_subscription_add_decides_when_the_reminder_is_due(tmp_path, capsys) -> None:
    import json

    from bot.cli import main as flexbot
    from bot.config import Settings
    from bot.stores import build_store
    from flows.assistant import Assistant
    from flows.steps.base import Toolkit
    from tests.flow_harness import Clock, PlainHasher

    settings = Settings(_env_file=None, flexbot_data_dir=tmp_path / "data", bot_username="FlexCliBot",
                        flexbot_fsync=False, reminder_time_zone="Asia/Tokyo")
    common = ["subscription", "add", "--email", "achat@entreprise.fr", "--product", "paye", "--seats", "1", "--json"]
    assert flexbot([*common, "--time-zone", "Europe/Paris"], settings) == 0
    in_paris = json.loads(capsys.readouterr().out)
    assert flexbot(common, settings) == 0  # the configured zone: Tokyo, where 20:00 in Paris is 04:00
    in_tokyo = json.loads(capsys.readouterr().out)
    assert in_paris["time_zone"] == "Europe/Paris" and in_tokyo["time_zone"] is None
    clock = Clock()
    toolkit = Toolkit(build_store(settings, owner=True), PlainHasher(), settings.assistant_settings(), clock)
    desk = Desk(toolkit, None, clock, Assistant(toolkit))  # type: ignore[arg-type]
    today = datetime.now(PARIS).date()  # the CLI's codes are dated by the real clock: the next Monday
    monday = today + timedelta(days=7 - today.weekday())
    admin_of(desk, in_paris["code"], 31, f"{monday}T12:00")  # 20:00 in Tokyo (19:00 in summer): closed
    admin_of(desk, in_tokyo["code"], 32, f"{monday}T12:00")
    tuesday = monday + timedelta(days=1)
    desk.clock.now = at(f"{tuesday}T12:01")  # 24 hours on: open in Paris, not in Tokyo
    assert [d.chat_id for d in run_due(desk)] == [31]
    desk.clock.now = datetime.combine(tuesday + timedelta(days=1), time(9, 1), ZoneInfo("Asia/Tokyo")).timestamp()
    assert [d.chat_id for d in run_due(desk)] == [32]  # Wednesday's opening in Tokyo, the night in Paris
    toolkit.store.close()


def test_an_unknown_time_zone_is_refused_by_subscription_add_and_nothing_written(tmp_path, capsys) -> None:
    from bot.cli import main as flexbot
    from bot.config import Settings

    settings = Settings(_env_file=None, flexbot_data_dir=tmp_path / "data", bot_username="FlexCliBot")
    assert flexbot(["subscription", "add", "--email", "achat@entreprise.fr", "--product", "paye", "--seats", "1",
                    "--time-zone", "Europe/Atlantis"], settings) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "unknown time zone 'Europe/Atlantis'" in err
    assert not settings.flexbot_data_dir.exists() or not any(p.is_file() for p in settings.flexbot_data_dir.rglob("*"))


def test_the_reminder_settings_come_from_the_environment_and_a_misspelt_zone_stops_the_start(
        monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("REMINDER_INVITED_HOURS_BEFORE", "24")
    monkeypatch.setenv("REMINDER_TIME_ZONE", "Europe/Brussels")
    hours = Settings(_env_file=None, flexbot_data_dir=tmp_path).assistant_settings().reminders
    assert (hours.invited_hours_before, hours.time_zone) == (24, "Europe/Brussels")
    monkeypatch.setenv("REMINDER_TIME_ZONE", "Paris")
    with pytest.raises(ValidationError, match="REMINDER_TIME_ZONE must be an IANA time zone name"):
        Settings(_env_file=None, flexbot_data_dir=tmp_path)


def test_the_business_days_come_from_the_environment_as_days_and_ranges(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("REMINDER_BUSINESS_DAYS", "Sun-Thu")  # a range may run over the weekend
    hours = Settings(_env_file=None, flexbot_data_dir=tmp_path).assistant_settings().reminders
    assert hours.weekdays == {6, 0, 1, 2, 3}
    assert hours.business_time(at("2027-03-05T10:00")) == at("2027-03-07T09:00")  # Friday: Sunday morning
    monkeypatch.setenv("REMINDER_BUSINESS_DAYS", "mon, wed-thu,sat")
    assert Settings(_env_file=None, flexbot_data_dir=tmp_path).reminder_business_days == {0, 2, 3, 5}
    assert Settings(_env_file=None, flexbot_data_dir=tmp_path, reminder_business_days="fri").reminder_business_days == {4}


@pytest.mark.parametrize(("variables", "said"), [
    ({"REMINDER_OPENS_HOUR": "19", "REMINDER_CLOSES_HOUR": "9"}, "REMINDER_CLOSES_HOUR must be an hour up to 24, "
                                                                 "after REMINDER_OPENS_HOUR"),
    ({"REMINDER_OPENS_HOUR": "9", "REMINDER_CLOSES_HOUR": "9"}, "after REMINDER_OPENS_HOUR"),
    ({"REMINDER_OPENS_HOUR": "30"}, "REMINDER_OPENS_HOUR must be an hour from 0 to 23"),
    ({"REMINDER_CLOSES_HOUR": "25"}, "REMINDER_CLOSES_HOUR must be an hour up to 24"),
    ({"REMINDER_FIRST_HOURS": "-5"}, "REMINDER_FIRST_HOURS must be more than 0"),
    ({"REMINDER_FIRST_HOURS": "72", "REMINDER_SECOND_HOURS": "72"}, "REMINDER_SECOND_HOURS must be more than "
                                                                     "REMINDER_FIRST_HOURS"),
    ({"REMINDER_SECOND_HOURS": "12"}, "REMINDER_SECOND_HOURS must be more than REMINDER_FIRST_HOURS"),
    ({"REMINDER_BUSINESS_DAYS": "lundi-vendredi"}, "REMINDER_BUSINESS_DAYS must be days among mon, tue"),
    ({"REMINDER_BUSINESS_DAYS": "mon-"}, "REMINDER_BUSINESS_DAYS must be days among"),
    ({"REMINDER_BUSINESS_DAYS": " , "}, "REMINDER_BUSINESS_DAYS must name at least one day"),
    ({"REMINDER_POLL_SECONDS": "0"}, "REMINDER_POLL_SECONDS must be more than 0"),
    ({"REMINDER_INVITED_HOURS_BEFORE": "-1"}, "REMINDER_INVITED_HOURS_BEFORE must be more than 0"),
])
def test_reminder_settings_that_leave_no_time_to_remind_in_stop_the_start(
        monkeypatch, tmp_path, variables: dict[str, str], said: str) -> None:
    """Accepted, they would fail every administrator's event with a ValueError once running."""
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=said):
        Settings(_env_file=None, flexbot_data_dir=tmp_path)


def test_events_within_the_hour_leave_its_slot_alone_and_a_later_hour_lists_the_reminder_again(desk: Desk) -> None:
    """The hour's slot lists every reminder due then: a busy chat must not read it at every event."""
    chat = stopped_at_step_3(desk, "2027-03-01T10:00")
    store = desk.toolkit.store
    slot_reads: list[int] = []
    read_slot = store.reminder_slot
    store.reminder_slot = lambda slot: slot_reads.append(slot) or read_slot(slot)  # type: ignore[method-assign]
    desk.clock.now = at("2027-03-01T10:20")
    chat.command("/etat")
    assert slot_reads == []
    desk.clock.now = at("2027-03-01T11:05")  # due an hour later now: listed in that hour's slot
    chat.command("/etat")
    assert slot_reads == [int(at("2027-03-02T11:05") // reminder_slots.SLOT)]
    desk.clock.now = at("2027-03-02T11:06")
    assert len(run_due(desk)) == 1
