"""Reminders to administrators who stopped mid-setup, driven by the injected clock (no sleeps)."""

from datetime import datetime
from zoneinfo import ZoneInfo

from flows import reminder_slots, reminders
from flows.boundary import Reply
from flows.reminder_settings import ReminderSettings
from tests.flow_harness import Chat, Desk, admin_through_step_1, delivered_to

PARIS = ZoneInfo("Europe/Paris")


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS).timestamp()


def run_due(desk: Desk) -> list:
    """What a runner would send now: every due reminder it could claim."""
    return [d for key in reminder_slots.due(desk.toolkit.store, desk.clock.now)
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
    reminders.blocked(desk.toolkit.store, reminders.key_of(9))

    desk.clock.now = at("2027-03-10T10:00")

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
