"""Webhook mode: the real Application behind its own HTTP server, fed by the fake Bot API the way
Telegram's webhook delivers (one update per chat in flight, retried until a 2xx)."""

import asyncio
import io
import json

import aiohttp
import pytest
from pydantic import ValidationError

from bot.app import ALLOWED_UPDATES, build_toolkit
from bot.config import Settings
from bot.send_retry import RETRY_WAITS
from bot.telegram_transport import TelegramTransport
from bot.webhook import SECRET_HEADER, WebhookRefused
from flows.assistant import Assistant
from flows.boundary import Event, Outcome
from flows.ports import StoreUnavailable
from flows.subscriptions import open_subscription
from tests.api_server import raw_request
from tests.conftest import running_bot, webhook_settings
from tests.fake_bot_api import FakeBotAPI
from tests.telegram_user import TelegramUser

PASSWORD = "Tournesol2026"
SECRET = "s3cret-token_for_tests"


def subscription_code(settings: Settings, username: str) -> str:
    toolkit = build_toolkit(settings, username)
    try:
        return open_subscription(toolkit, "achat@garage-dupont.fr", "comptabilite", 1).code
    finally:
        toolkit.store.close()


def stored_conversation(settings: Settings, chat_id: int):
    toolkit = build_toolkit(settings)
    try:
        return toolkit.store.load_conversation(chat_id)
    finally:
        toolkit.store.close()


def start_update(update_id: int, chat_id: int, text: str) -> dict:
    user = {"id": chat_id, "is_bot": False, "first_name": "Jean", "language_code": "fr"}
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": 1, "from": user, "chat": {"id": chat_id, "type": "private"},
        "text": text, "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]}}


async def post(settings: Settings, body: bytes | dict, secret: str | None = SECRET) -> int:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    data = io.BytesIO(json.dumps(body).encode() if isinstance(body, dict) else body)
    async with aiohttp.ClientSession() as session:
        async with session.post(settings.webhook_url, data=data, headers=headers) as answer:
            return answer.status


async def test_a_journey_by_webhook_registers_it_and_every_update_is_acknowledged_once(
        bot_api: FakeBotAPI, settings: Settings) -> None:
    settings = webhook_settings(settings, webhook_max_connections=7)
    code = subscription_code(settings, bot_api.username)
    admin = TelegramUser(bot_api, 701)
    async with running_bot(settings, bot_api):
        [registered] = bot_api.answered_calls("setWebhook")
        assert registered["url"] == settings.webhook_url
        assert registered["allowed_updates"] == ALLOWED_UPDATES and registered["max_connections"] == 7
        assert len(registered["secret_token"]) >= 32  # random, WEBHOOK_SECRET being unset
        await admin.send(f"/start {code}")
        await admin.press("CRÉER mon compte Administrateur")
        await admin.send("Dupont")
        await admin.send("Jean")
        await admin.send("jean.dupont@garage-dupont.fr")
        review = await admin.send(PASSWORD)
        assert "Nom\u202f: Dupont" in review.text and "Adresse e-mail\u202f: jean.dupont@garage-dupont.fr" in review.text
        sent = bot_api.webhook.attempts
    assert [status for _, status in sent] == [200] * 6
    assert bot_api.method_calls("getUpdates") == [] and bot_api.method_calls("deleteWebhook") == []
    assert stored_conversation(settings, 701).state == "reviewing_admin"


async def test_without_the_right_secret_token_nothing_is_handled_nor_stored(
        bot_api: FakeBotAPI, settings: Settings) -> None:
    settings = webhook_settings(settings, SECRET)
    code = subscription_code(settings, bot_api.username)
    async with running_bot(settings, bot_api):
        assert bot_api.answered_calls("setWebhook")[0]["secret_token"] == SECRET
        assert await post(settings, start_update(1, 702, f"/start {code}"), secret="wrong") == 403
        assert await post(settings, start_update(2, 702, f"/start {code}"), secret=None) == 403
        assert await post(settings, start_update(3, 702, f"/start {code}"), secret=SECRET[:-1]) == 403
        body = json.dumps(start_update(5, 702, f"/start {code}")).encode()
        raw = (b"POST /telegram HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"X-Telegram-Bot-Api-Secret-Token: \xff\xfe\r\nConnection: close\r\n"
               b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        assert await raw_request(settings.webhook_url.rsplit("/", 1)[0], raw) == 403  # bytes that are no UTF-8
        assert bot_api.method_calls("sendMessage") == []
    assert stored_conversation(settings, 702) is None
    async with running_bot(settings, bot_api):  # the same update with the secret: handled
        assert await post(settings, start_update(4, 702, f"/start {code}")) == 200
        assert bot_api.method_calls("sendMessage")[0]["chat_id"] == 702
    assert stored_conversation(settings, 702).state == "welcoming"


async def test_what_is_no_update_is_refused_and_an_unreadable_update_is_dropped(
        bot_api: FakeBotAPI, settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    settings = webhook_settings(settings, SECRET)
    async with running_bot(settings, bot_api):
        assert await post(settings, b"{not json") == 400
        assert await post(settings, b"[" * 500_000) == 400  # Python's parser: a RecursionError, no ValueError
        assert await post(settings, {"message": {"text": "hello"}}) == 400
        assert await post(settings, {"update_id": True}) == 400
        # An update id python-telegram-bot cannot read: a retry would never read better.
        assert await post(settings, {"update_id": 41, "message": {"chat": "Mot de passe secret"}}) == 200
        assert await post(settings, b"x" * (2 * 1024 * 1024)) == 413
        assert bot_api.method_calls("sendMessage") == []
    assert "update 41 cannot be read" in caplog.text and "Mot de passe secret" not in caplog.text


async def test_a_failed_handler_answers_500_and_the_redelivered_update_is_handled_once(
        bot_api: FakeBotAPI, settings: Settings) -> None:
    settings = webhook_settings(settings)
    code = subscription_code(settings, bot_api.username)
    admin = TelegramUser(bot_api, 703)
    async with running_bot(settings, bot_api):
        await admin.send(f"/start {code}")
        await admin.press("CRÉER mon compte Administrateur")
        # More failures than a send is tried: the update fails, and Telegram brings it back.
        bot_api.fail_in_chat[admin.id] = [{"error_code": 500, "description": "Internal Server Error"}] * (
            len(RETRY_WAITS) + 1)
        update_id = admin.type("Dupont")
        await bot_api.wait_until(lambda: update_id in bot_api.webhook.acknowledged)
        asked = admin.last
        assert [s for u, s in bot_api.webhook.attempts if u == update_id] == [500, 200]
        assert "votre prénom" in asked.text  # the question after the last name: it moved on once
        await admin.send("Jean")
        await admin.send("jean.dupont@garage-dupont.fr")
        review = await admin.send(PASSWORD)
    assert "Nom\u202f: Dupont" in review.text and "Prénom\u202f: Jean" in review.text
    texts = [m.text or "" for m in admin.messages if m.from_bot]
    assert not any("erreur" in text.lower() for text in texts)  # retried, so no error notice per try
    assert sum("Quel est votre prénom" in text for text in texts) == 1


async def test_an_update_that_always_fails_is_given_up_after_a_few_attempts_and_its_chat_told(
        bot_api: FakeBotAPI, settings: Settings, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """A defect that fails one message every time must not hold up its chat for Telegram's 24 hours."""
    settings = webhook_settings(settings, webhook_give_up_after=3)
    code = subscription_code(settings, bot_api.username)
    admin, other = TelegramUser(bot_api, 705), TelegramUser(bot_api, 706)
    handle = Assistant._handle

    def defective(self: Assistant, chat_id: int, event: Event) -> Outcome:
        if event.text == "Dupont":
            raise RuntimeError("Dupont")  # a defect whose message quotes what was typed
        return handle(self, chat_id, event)

    monkeypatch.setattr(Assistant, "_handle", defective)
    async with running_bot(settings, bot_api):
        await admin.send(f"/start {code}")
        await admin.press("CRÉER mon compte Administrateur")
        update_id = admin.type("Dupont")
        await bot_api.wait_until(lambda: update_id in bot_api.webhook.acknowledged)
        told = admin.last
        asked = await admin.send("Durand")  # the chat is not held up: its next message is handled
        await other.send("/start")
    assert [s for u, s in bot_api.webhook.attempts if u == update_id] == [500, 500, 200]
    assert "erreur" in told.text.lower()
    assert "votre prénom" in asked.text and other.last is not None
    said = [record.getMessage() for record in caplog.records]  # the traceback is checked in test_json_logs
    assert any(f"update {update_id} failed 3 times" in line for line in said)
    assert not any("Dupont" in line for line in said)


async def test_a_reply_refused_until_given_up_asks_the_current_question_never_try_again(
        bot_api: FakeBotAPI, settings: Settings) -> None:
    """The last name was saved but its reply never left: "try again" would file the name again as
    the first name. The chat is told it was kept, with the question it stands at."""
    settings = webhook_settings(settings, webhook_give_up_after=2)
    code = subscription_code(settings, bot_api.username)
    admin = TelegramUser(bot_api, 708)
    async with running_bot(settings, bot_api):
        await admin.send(f"/start {code}")
        await admin.press("CRÉER mon compte Administrateur")
        bot_api.fail_in_chat[708] = [{"error_code": 400, "description": "Bad Request: refused"}] * 2
        update_id = admin.type("Dupont")
        await bot_api.wait_until(lambda: update_id in bot_api.webhook.acknowledged)
        told = admin.last
        asked = await admin.send("Jean")
    assert [s for u, s in bot_api.webhook.attempts if u == update_id] == [500, 200]
    assert "pris en compte" in told.text and "votre prénom" in told.text and "réessayez" not in told.text
    assert "adresse e-mail" in asked.text  # Jean went where it belongs
    draft = stored_conversation(settings, 708).answers["admin"]
    assert (draft["last_name"], draft["first_name"]) == ("Dupont", "Jean")


async def test_copies_of_an_update_waiting_for_one_attempt_count_as_one_attempt(
        bot_api: FakeBotAPI, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = webhook_settings(settings, SECRET, webhook_give_up_after=2)

    async def slow_defect(self: TelegramTransport, chat_id: int, event: Event) -> Outcome:
        await asyncio.sleep(0.3)  # Telegram sends a copy meanwhile
        raise RuntimeError("defect")

    monkeypatch.setattr(TelegramTransport, "_handle_typed", slow_defect)
    async with running_bot(settings, bot_api):
        update = start_update(21, 709, "bonjour")
        assert await asyncio.gather(post(settings, update), post(settings, update)) == [500, 500]
        assert await post(settings, update) == 200  # the second attempt: given up, the chat told
    assert len(bot_api.method_calls("sendMessage")) == 1


async def test_a_database_outage_is_never_given_up_on(bot_api: FakeBotAPI, settings: Settings,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    settings = webhook_settings(settings, webhook_give_up_after=2)
    admin = TelegramUser(bot_api, 707)
    outage = {"left": 4}

    def unavailable(self: Assistant, chat_id: int, event: Event) -> Outcome:
        if outage["left"]:
            outage["left"] -= 1
            raise StoreUnavailable("the database is unavailable (OperationalError)")
        return handle(self, chat_id, event)

    handle = Assistant._handle
    monkeypatch.setattr(Assistant, "_handle", unavailable)
    async with running_bot(settings, bot_api):
        update_id = admin.type("/start")
        await bot_api.wait_until(lambda: update_id in bot_api.webhook.acknowledged)
    assert [s for u, s in bot_api.webhook.attempts if u == update_id] == [500, 500, 500, 500, 200]
    assert not any("erreur" in (m.text or "").lower() for m in admin.messages if m.from_bot)


async def test_an_update_sent_again_while_it_is_handled_runs_once(bot_api: FakeBotAPI, settings: Settings) -> None:
    """Telegram sends an update again when the answer is slow; the copy waits for the first one."""
    settings = webhook_settings(settings, SECRET)
    code = subscription_code(settings, bot_api.username)
    bot_api.delays["sendMessage"] = 0.5
    async with running_bot(settings, bot_api):
        statuses = await asyncio.gather(*(post(settings, start_update(9, 704, f"/start {code}")) for _ in range(3)))
        assert statuses == [200, 200, 200]
        assert len(bot_api.method_calls("sendMessage")) == 1


@pytest.mark.parametrize("setting", [{"webhook_secret": "with space"}, {"webhook_secret": "x" * 257},
                                     {"webhook_listen": "8443"}, {"webhook_listen": "host:99999"},
                                     {"webhook_max_connections": 101}, {"webhook_url": "bot.example.com/tg"}])
def test_a_webhook_setting_telegram_would_refuse_is_said_at_start(setting: dict) -> None:
    with pytest.raises(ValidationError):
        Settings(_env_file=None, **setting)


async def test_a_webhook_telegram_refuses_stops_the_start_with_its_reason(bot_api: FakeBotAPI,
                                                                          settings: Settings) -> None:
    settings = webhook_settings(settings)
    bot_api.fail_next["setWebhook"] = {"error_code": 400, "description": "Bad Request: bad webhook: "
                                       "Webhook can be set up only on ports 80, 88, 443 or 8443"}
    with pytest.raises(WebhookRefused, match="only on ports"):
        async with running_bot(settings, bot_api):
            pass
