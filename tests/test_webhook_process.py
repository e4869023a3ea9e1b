"""`flexbot run` as a real process in webhook mode, stopped and killed while updates are in flight;
and a second long-polling process told apart by Telegram's 409."""

import asyncio
import random
import signal
import subprocess
from pathlib import Path

from bench.journey import steps
from bot.app import CONFLICT_EXIT_STATUS, build_toolkit
from bot.config import Settings
from flows.offer import MOBILE_DATA
from flows.subscriptions import open_subscription
from tests.bot_process import FLEXBOT, bot_process, start_bot, stop_bot, wait_webhook, webhook_environment
from tests.conftest import free_port
from tests.fake_bot_api import FakeBotAPI
from tests.telegram_user import TelegramUser

ADMINISTRATORS = 10
KILLS = 6
FIRST_CHAT = 8_000


def codes(settings: Settings, username: str, count: int) -> list[str]:
    toolkit = build_toolkit(settings, username)
    try:
        return [open_subscription(toolkit, f"achat{n}@garage.fr", "comptabilite", 1).code for n in range(count)]
    finally:
        toolkit.store.close()


async def test_sigterm_finishes_the_update_in_flight_and_leaves_the_webhook_set(
        bot_api: FakeBotAPI, settings: Settings) -> None:
    [code] = codes(settings, bot_api.username, 1)
    environment = webhook_environment(free_port())
    admin = TelegramUser(bot_api, 801)
    bot_api.delays["sendMessage"] = 1.0  # the reply is on its way when SIGTERM comes
    async with bot_process(bot_api, settings.flexbot_data_dir, environment=environment) as process:
        update_id = admin.type(f"/start {code}")
        await bot_api.wait_until(lambda: bool(bot_api.method_calls("sendMessage")))
        assert await stop_bot(process) == 0
    assert [status for u, status in bot_api.webhook.attempts if u == update_id] == [200]
    assert "Bienvenue" in admin.last.text
    assert bot_api.method_calls("deleteWebhook") == []
    later = admin.type("/etat")  # Telegram keeps it while no process listens, and delivers it on restart
    await bot_api.wait_until(lambda: any(u == later for u, _ in bot_api.webhook.attempts))
    url = environment.pop("WEBHOOK_URL")
    process = start_bot(bot_api, settings.flexbot_data_dir, (*FLEXBOT, "--webhook", url), environment)
    try:
        await wait_webhook(bot_api, process)
        await bot_api.wait_until(lambda: later in bot_api.webhook.acknowledged)
        assert await stop_bot(process) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert [s for u, s in bot_api.webhook.attempts if u == later][-1] == 200


async def journey(admin: TelegramUser, code: str) -> None:
    """The whole setup, each step once its update is acknowledged (handled, stored, replied): after a
    kill the reply may be a repeat of the question, so the next step always uses the newest buttons."""
    api = admin.api
    for action, value in steps(code):
        update_id = admin.type(value) if action == "send" else admin.tap(value)
        await api.wait_until(lambda: update_id in api.webhook.acknowledged, timeout=60)


async def next_kill_point(api: FakeBotAPI, journeys: asyncio.Future[object], kill: int, kills: int,
                          administrators: int, chooser: random.Random) -> None:
    """Returns once the journeys have gone about kill/kills+1 of their way (or are over): the kills
    land spread over the journeys however fast the machine runs them."""
    total = administrators * len(steps(""))
    target = total * (kill + chooser.uniform(0.5, 1.0)) / (kills + 1)
    while len(api.webhook.acknowledged) < target and not journeys.done():
        await asyncio.sleep(0.01)


def last_acknowledged(api: FakeBotAPI) -> dict[int, int]:
    """Each chat's newest update answered 200."""
    newest: dict[int, int] = {}
    for update_id in api.webhook.acknowledged:
        chat = api.webhook.chats[update_id]
        newest[chat] = max(update_id, newest.get(chat, 0))
    return newest


def behind(settings: Settings, acknowledged: dict[int, int]) -> dict[int, int]:
    """Chats whose stored conversation has not reached their last acknowledged update."""
    toolkit = build_toolkit(settings)
    try:
        return {chat: update_id for chat, update_id in acknowledged.items()
                if (conversation := toolkit.store.load_conversation(chat)) is None
                or conversation.last_update_id < update_id}
    finally:
        toolkit.store.close()


async def test_killed_again_and_again_every_update_is_handled_once_and_every_acknowledged_one_stored(
        bot_api: FakeBotAPI, settings: Settings) -> None:
    opened = codes(settings, bot_api.username, ADMINISTRATORS)
    environment = webhook_environment(free_port())
    admins = [TelegramUser(bot_api, FIRST_CHAT + n) for n in range(ADMINISTRATORS)]
    chooser = random.Random(10)
    process = start_bot(bot_api, settings.flexbot_data_dir, environment=environment)
    await wait_webhook(bot_api, process)
    journeys = asyncio.gather(*(journey(admin, code) for admin, code in zip(admins, opened)))
    lost_acknowledged, kills = 0, 0
    try:
        while kills < KILLS and not journeys.done():
            await next_kill_point(bot_api, journeys, kills, KILLS, ADMINISTRATORS, chooser)
            if journeys.done():
                break
            await stop_bot(process, signal.SIGKILL)
            kills += 1
            acknowledged = last_acknowledged(bot_api)
            lost_acknowledged += len(behind(settings, acknowledged))
            process = start_bot(bot_api, settings.flexbot_data_dir, environment=environment)
            await wait_webhook(bot_api, process)
        await asyncio.wait_for(journeys, 120)
        assert await stop_bot(process) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert kills >= 3, "the journeys ended before the bot could be killed enough"
    assert lost_acknowledged == 0
    toolkit = build_toolkit(settings)
    try:
        for admin in admins:
            conversation = toolkit.store.load_conversation(admin.id)
            subscription = toolkit.store.load_subscription(conversation.subscription_number)
            assert subscription.admin.email == "jean.dupont@garage-dupont.fr"
            assert len(subscription.users) == 1  # the own user, created once
            assert subscription.services[MOBILE_DATA]  # toggled once: twice would have turned it off
            assert subscription.setup_completed_at is not None
    finally:
        toolkit.store.close()
    attempts = bot_api.webhook.attempts
    unanswered = [u for u, status in attempts if status != 200]
    repeated = sum(1 for admin in admins for m in admin.messages if m.from_bot and "Bon retour" in (m.text or ""))
    print(f"\nwebhook, {kills} kills: {len(bot_api.webhook.acknowledged)} updates, {len(attempts)} deliveries, "
          f"{len(set(unanswered))} delivered more than once, {repeated} answers repeated (question asked again)")
    # Only a delivery a kill cut short after its commit makes the next one repeat the question.
    assert repeated <= len(unanswered)


async def test_a_second_long_polling_process_is_told_by_the_409_and_stops(bot_api: FakeBotAPI,
                                                                          settings: Settings) -> None:
    bot_api.fail_next["getUpdates"] = {"error_code": 409, "description": "Conflict: terminated by other "
                                       "getUpdates request; make sure that only one bot instance is running"}
    process = start_bot(bot_api, settings.flexbot_data_dir, stderr=subprocess.PIPE)
    try:
        _, stderr = await asyncio.to_thread(process.communicate, timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == CONFLICT_EXIT_STATUS
    assert b"another process is polling with this bot token" in stderr
    assert len(bot_api.method_calls("getUpdates")) <= 2  # the refused one, and the last one at shutdown
