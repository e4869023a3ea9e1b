"""Two `flexbot run` processes behind one webhook port, sharing one PostgreSQL database, one of them
SIGKILLed and restarted again and again while administrators go through the journey."""

import asyncio
import random
import signal

from bot.app import build_toolkit
from bot.config import Settings
from flows.offer import MOBILE_DATA
from tests.bot_process import start_bot, stop_bot, wait_webhook, webhook_environment
from tests.conftest import TEST_KEY, free_port
from tests.fake_bot_api import FakeBotAPI
from tests.telegram_user import TelegramUser
from tests.test_webhook_process import behind, codes, journey, last_acknowledged, next_kill_point

ADMINISTRATORS = 50  # as the production issue asks
KILLS = 4
FIRST_CHAT = 9_000


async def test_two_processes_on_one_database_one_killed_again_and_again(bot_api: FakeBotAPI,
                                                                        pg_settings: Settings) -> None:
    opened = codes(pg_settings, bot_api.username, ADMINISTRATORS)
    environment = {**webhook_environment(free_port()), "FLEXBOT_SECRET_KEY": TEST_KEY.decode(),
                   "DATABASE_URL": pg_settings.database_url.get_secret_value()}  # type: ignore[union-attr]
    data = pg_settings.flexbot_data_dir  # shared: on PostgreSQL the processes keep nothing there
    steady = start_bot(bot_api, data, environment=environment)
    await wait_webhook(bot_api, steady)
    killed = start_bot(bot_api, data, environment=environment)
    await wait_webhook(bot_api, killed)
    admins = [TelegramUser(bot_api, FIRST_CHAT + n) for n in range(ADMINISTRATORS)]
    journeys = asyncio.gather(*(journey(admin, code) for admin, code in zip(admins, opened)))
    chooser, kills, lost_acknowledged = random.Random(11), 0, 0
    try:
        while kills < KILLS and not journeys.done():
            await next_kill_point(bot_api, journeys, kills, KILLS, ADMINISTRATORS, chooser)
            if journeys.done():
                break
            await stop_bot(killed, signal.SIGKILL)
            kills += 1
            lost_acknowledged += len(behind(pg_settings, last_acknowledged(bot_api)))
            killed = start_bot(bot_api, data, environment=environment)
            await wait_webhook(bot_api, killed)
        await asyncio.wait_for(journeys, 120)
        assert await stop_bot(killed) == 0 and await stop_bot(steady) == 0
    finally:
        for process in (steady, killed):
            if process.poll() is None:
                process.kill()
    assert kills >= 3, "the journeys ended before a process could be killed enough"
    assert lost_acknowledged == 0
    assert not behind(pg_settings, last_acknowledged(bot_api))
    toolkit = build_toolkit(pg_settings)
    try:
        for admin in admins:
            conversation = toolkit.store.load_conversation(admin.id)
            subscription = toolkit.store.load_subscription(conversation.subscription_number)  # type: ignore[union-attr]
            assert subscription.admin.email == "jean.dupont@garage-dupont.fr"  # type: ignore[union-attr]
            assert len(subscription.users) == 1  # type: ignore[union-attr]  # the own user, created once
            assert subscription.services[MOBILE_DATA]  # type: ignore[union-attr]  # toggled once, not twice
            assert subscription.setup_completed_at is not None  # type: ignore[union-attr]
    finally:
        toolkit.store.close()
    statuses = [status for _, status in bot_api.webhook.attempts]
    print(f"\nwebhook on PostgreSQL, 2 processes, {kills} kills: {len(bot_api.webhook.acknowledged)} updates, "
          f"{len(statuses)} deliveries, {sum(s != 200 for s in statuses)} not answered 200")
