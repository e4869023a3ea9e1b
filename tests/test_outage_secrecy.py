"""A password typed while the store cannot save it never stays in the chat: a full disk (the event is
answered "not saved") and a database that is down (the webhook answers 500 and the update comes
back) delete any typed text, for the question it answered may have been the password's."""

import errno

import pytest

from bot.config import Settings
from storage import write_ahead_log
from tests.conftest import running_bot, webhook_settings
from tests.fake_bot_api import FakeBotAPI
from tests.postgres_server import PostgresServer
from tests.telegram_user import TelegramUser
from tests.test_telegram_journey import PASSWORD
from tests.test_webhook import subscription_code


async def up_to_the_password(admin: TelegramUser, code: str) -> None:
    await admin.send(f"/start {code}")
    await admin.press("CRÉER mon compte Administrateur")
    for answer in ("Dupont", "Jean", "jean.dupont@garage-dupont.fr"):
        await admin.send(answer)


def typed(api: FakeBotAPI, chat_id: int, text: str):
    return next(m for m in api.chats[chat_id] if m.text == text and not m.from_bot)


async def test_a_password_typed_on_a_full_disk_is_deleted_and_can_be_typed_again(
        bot_api: FakeBotAPI, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    code = subscription_code(settings, bot_api.username)
    admin = TelegramUser(bot_api, 761)
    real_append = write_ahead_log.WriteAheadLog.append

    def no_space(self, record) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    async with running_bot(settings, bot_api):
        await up_to_the_password(admin, code)
        monkeypatch.setattr(write_ahead_log.WriteAheadLog, "append", no_space)
        said = await admin.send(PASSWORD)
        assert "pas pu être enregistré" in said.text
        await bot_api.wait_until(lambda: typed(bot_api, 761, PASSWORD).deleted)
        monkeypatch.setattr(write_ahead_log.WriteAheadLog, "append", real_append)
        review = await admin.send(PASSWORD)
    assert "Vérifiez votre compte administrateur" in review.text


async def test_a_password_typed_while_the_database_is_down_is_deleted_and_handled_once_it_is_back(
        bot_api: FakeBotAPI, pg_settings: Settings, postgres_server: PostgresServer) -> None:
    settings = webhook_settings(pg_settings)
    code = subscription_code(settings, bot_api.username)
    admin = TelegramUser(bot_api, 762)
    async with running_bot(settings, bot_api):
        await up_to_the_password(admin, code)
        postgres_server.stop("immediate")
        try:
            update_id = admin.type(PASSWORD)
            await bot_api.wait_until(lambda: (update_id, 500) in bot_api.webhook.attempts, 20)
            assert typed(bot_api, 762, PASSWORD).deleted
        finally:
            postgres_server.start()
        await bot_api.wait_until(lambda: update_id in bot_api.webhook.acknowledged, 30)
        await admin.sees("Vérifiez votre compte administrateur")
