"""SIGTERM to `flexbot run` in long polling, with updates in flight: they are finished (reply sent,
stored, out of the inbox journal), and the process exits 0."""

import time

from bot.app import build_toolkit
from bot.config import Settings
from bot.inbox_journal import InboxJournal
from flows.subscriptions import open_subscription
from tests.bot_process import bot_process, stop_bot
from tests.fake_bot_api import FakeBotAPI
from tests.telegram_user import TelegramUser

ADMINISTRATORS = 6


async def test_sigterm_finishes_every_update_in_flight_and_exits_0(bot_api: FakeBotAPI, settings: Settings) -> None:
    toolkit = build_toolkit(settings, bot_api.username)
    codes = [open_subscription(toolkit, f"achat{n}@garage.fr", "comptabilite", 1).code for n in range(ADMINISTRATORS)]
    toolkit.store.close()
    admins = [TelegramUser(bot_api, 7_000 + n) for n in range(ADMINISTRATORS)]
    bot_api.delays["sendMessage"] = 1.0  # every reply is on its way when SIGTERM comes
    async with bot_process(bot_api, settings.flexbot_data_dir) as process:
        sent = {admin.id: admin.type(f"/start {code}") for admin, code in zip(admins, codes)}
        await bot_api.wait_until(lambda: len(bot_api.method_calls("sendMessage")) == ADMINISTRATORS)
        assert not bot_api.answered_calls("sendMessage")  # all in flight
        assert await stop_bot(process) == 0
    assert len(bot_api.answered_calls("sendMessage")) == ADMINISTRATORS
    assert all("Bienvenue" in admin.last.text for admin in admins)
    toolkit = build_toolkit(settings)
    try:
        for chat, update_id in sent.items():
            conversation = toolkit.store.load_conversation(chat)
            assert conversation is not None and conversation.last_update_id == update_id
    finally:
        toolkit.store.close()
    journal = InboxJournal(settings.inbox_dir)
    assert journal.replay(None) == []  # nothing left to handle again at the next start


async def test_an_update_stuck_past_the_stop_bound_is_left_for_the_next_start(
        bot_api: FakeBotAPI, settings: Settings) -> None:
    toolkit = build_toolkit(settings, bot_api.username)
    code = open_subscription(toolkit, "achat@garage.fr", "comptabilite", 1).code
    toolkit.store.close()
    admin = TelegramUser(bot_api, 7_100)
    bot_api.delays["sendMessage"] = 4.0  # a Bot API that hangs past the 1 s the stop allows
    environment = {"WEBHOOK_STOP_SECONDS": "1"}
    async with bot_process(bot_api, settings.flexbot_data_dir, environment=environment) as process:
        admin.type(f"/start {code}")
        await bot_api.wait_until(lambda: bool(bot_api.method_calls("sendMessage")))
        started = time.monotonic()
        assert await stop_bot(process) == 0
        assert time.monotonic() - started < 3.5
    assert InboxJournal(settings.inbox_dir).replay(None)  # kept for the next start
    del bot_api.delays["sendMessage"]
    async with bot_process(bot_api, settings.flexbot_data_dir) as process:
        await admin.sees("Bienvenue")
        assert await stop_bot(process) == 0
