"""Telegram's 429s: the chat they concern waits (never for long), every other chat goes on."""

import asyncio
import time

import pytest

from bot.app import build_toolkit
from bot.config import Settings
from flows.subscriptions import open_subscription
from tests.conftest import running_bot
from tests.fake_bot_api import FakeBotAPI, too_many_requests
from tests.telegram_user import TelegramUser


async def test_a_429_in_one_chat_pauses_that_chat_only_and_is_waited_out(bot_api: FakeBotAPI, settings: Settings) -> None:
    a, b = TelegramUser(bot_api, 711), TelegramUser(bot_api, 712)
    async with running_bot(settings, bot_api):
        bot_api.fail_in_chat[a.id] = [too_many_requests(2)]
        started = time.monotonic()
        a.type("/start")
        await bot_api.wait_until(lambda: len(bot_api.method_calls("sendMessage")) >= 1)
        await b.send("/start")
        assert time.monotonic() - started < 1.5  # B did not wait for A's pause
        await bot_api.wait_until(lambda: bot_api.outputs(a.id) == 1)
        assert time.monotonic() - started >= 2  # A's reply was sent once the pause was over


async def test_a_429_asking_for_longer_than_the_limit_fails_at_once_and_says_which_chat(
        bot_api: FakeBotAPI, settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    a, b = TelegramUser(bot_api, 711), TelegramUser(bot_api, 712)
    settings = settings.model_copy(update={"telegram_retry_after_limit_seconds": 5})
    with caplog.at_level("WARNING", logger="bot.rate_limiter"):
        async with running_bot(settings, bot_api):
            bot_api.fail_in_chat[a.id] = [too_many_requests(3600)]
            a.type("/start")
            started = time.monotonic()
            await b.send("/start")
            assert time.monotonic() - started < 2
            await asyncio.sleep(0.3)
            # A's reply (and the failure notice after it) was refused at once: Telegram was asked once.
            assert len([c for c in bot_api.method_calls("sendMessage") if c["chat_id"] == a.id]) == 1
            assert bot_api.outputs(a.id) == 0
    said = [record.getMessage() for record in caplog.records if record.name == "bot.rate_limiter"]
    assert any("3600 s" in line and str(a.id) in line and "not waited" in line for line in said)
    assert not any("/start" in line for line in said)


async def test_a_429_on_a_call_without_a_chat_holds_up_that_call_only(bot_api: FakeBotAPI, settings: Settings) -> None:
    """answerCallbackQuery names no chat: its 429 must not pause every chat's button presses."""
    a, b = TelegramUser(bot_api, 713), TelegramUser(bot_api, 714)
    async with running_bot(settings, bot_api):
        await a.send("/start")
        await b.send("/start")
        bot_api.fail_next["answerCallbackQuery"] = too_many_requests(3)
        started = time.monotonic()
        pressed = asyncio.ensure_future(a.press("Je n'ai pas reçu l'e-mail"))
        await bot_api.wait_until(lambda: len(bot_api.method_calls("answerCallbackQuery")) >= 1)
        await b.press("Je n'ai pas reçu l'e-mail")
        assert time.monotonic() - started < 1.5  # B's press went on
        assert "numéro" in (await pressed).text.lower()  # A's, once its 3 s were over
        assert time.monotonic() - started >= 3


async def test_a_secret_message_in_a_chat_paused_for_long_is_deleted_once_the_pause_is_over(
        bot_api: FakeBotAPI, settings: Settings) -> None:
    """The reply may fail at once, the password must not stay in the chat."""
    a = TelegramUser(bot_api, 715)
    settings = settings.model_copy(update={"telegram_retry_after_limit_seconds": 1})
    toolkit = build_toolkit(settings, bot_api.username)
    code = open_subscription(toolkit, "achat@garage-dupont.fr", "comptabilite", 1).code
    toolkit.store.close()
    async with running_bot(settings, bot_api):
        await a.send(f"/start {code}")
        await a.press("CRÉER mon compte Administrateur")
        await a.send("Dupont")
        await a.send("Jean")
        await a.send("jean.dupont@garage-dupont.fr")
        bot_api.fail_in_chat[a.id] = [too_many_requests(2)]  # the deletion of the password is asked to wait
        _, message_id = bot_api.user_message(a.user, text="Tournesol2026")
        await bot_api.wait_until(lambda: any(c["message_id"] == message_id
                                             for c in bot_api.answered_calls("deleteMessage")), timeout=6)
