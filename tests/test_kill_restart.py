"""Kill -9 in the middle of a setup: a new process on the same data picks the chat up exactly there."""

import signal
from pathlib import Path

from bot.app import build_toolkit
from bot.config import Settings
from flows.subscriptions import open_subscription
from tests.bot_process import bot_process, stop_bot
from tests.fake_bot_api import FakeBotAPI
from tests.telegram_user import TelegramUser

PASSWORD = "Tournesol2026"


async def test_a_killed_bot_resumes_the_chat_at_the_same_question(bot_api: FakeBotAPI, settings: Settings,
                                                                  tmp_path: Path) -> None:
    toolkit = build_toolkit(settings, bot_api.username)
    opened = open_subscription(toolkit, "achat@garage-dupont.fr", "comptabilite", 1)
    admin = TelegramUser(bot_api, 601)
    async with bot_process(bot_api, settings.flexbot_data_dir) as process:
        await admin.send(f"/start {opened.code}")
        await admin.press("CRÉER mon compte Administrateur")
        await admin.send("Dupont")
        asked = await admin.send("Jean")
        assert "Quelle adresse e-mail" in asked.text
        assert await stop_bot(process, signal.SIGKILL) == -signal.SIGKILL
    # The batch holding "Jean" may still be in the inbox journal (its removal was cut short by the
    # kill): the restart then shows the e-mail question once more. So wait for each answer's own text,
    # not for the next message.
    async with bot_process(bot_api, settings.flexbot_data_dir) as process:
        await admin.send("/start")
        resumed = await admin.sees("Bon retour")
        assert "Quelle adresse e-mail" in resumed.text
        await admin.send("jean@garage-dupont.fr")
        await admin.sees("votre mot de passe")
        await admin.send(PASSWORD)
        review = await admin.sees("Nom : ")
        assert "Nom : Dupont" in review.text and "Prénom : Jean" in review.text
        assert "Adresse e-mail : jean@garage-dupont.fr" in review.text
        assert await stop_bot(process) == 0
