"""Per-chat order through the real Application: one chat's updates one at a time, chats side by side."""

import asyncio
from collections import Counter, defaultdict
from pathlib import Path

from telegram import Update
from telegram.ext import ContextTypes, MessageHandler, filters

from bot.app import build_application
from bot.config import Settings
from bot.inbox_journal import InboxJournal
from tests.fake_bot_api import FakeBotAPI

CHATS, MESSAGES = 6, 8


class Recorder:
    """A handler that notes which updates run at the same time, and yields mid-way so others could."""

    def __init__(self) -> None:
        self.running: Counter[int] = Counter()
        self.most_at_once_in_a_chat = 0
        self.most_chats_at_once = 0
        self.order: dict[int, list[int]] = defaultdict(list)

    async def handle(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat.id
        self.running[chat] += 1
        self.order[chat].append(update.update_id)
        self.most_at_once_in_a_chat = max(self.most_at_once_in_a_chat, self.running[chat])
        self.most_chats_at_once = max(self.most_chats_at_once, sum(1 for n in self.running.values() if n))
        await asyncio.sleep(0.01)
        await context.bot.send_message(chat, update.effective_message.text)
        self.running[chat] -= 1


async def test_each_chat_in_order_while_chats_run_concurrently(bot_api: FakeBotAPI, settings: Settings, tmp_path: Path):
    recorder = Recorder()
    application = build_application(settings, InboxJournal(tmp_path / "inbox"))
    application.add_handler(MessageHandler(filters.TEXT, recorder.handle))
    sent: dict[int, list[int]] = defaultdict(list)
    for n in range(MESSAGES):
        for chat in range(700, 700 + CHATS):
            user = {"id": chat, "is_bot": False, "first_name": "U"}
            sent[chat].append(bot_api.user_message(user, text=f"message {n}")[0])
    async with application:
        await application.start()
        await application.updater.start_polling()
        await bot_api.wait_until(lambda: len(bot_api.method_calls("sendMessage")) == CHATS * MESSAGES)
        await application.updater.stop()
        await application.stop()
    assert recorder.order == sent
    assert recorder.most_at_once_in_a_chat == 1
    assert recorder.most_chats_at_once > 1
