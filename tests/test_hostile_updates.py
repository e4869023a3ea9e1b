"""One bad update, journal file or disk never stops the bot answering the other chats, nor leaks a text to the log."""

import errno
import json
import logging
from pathlib import Path

import pytest

import bot.inbox_journal
from bot.app import ALLOWED_UPDATES, build_toolkit
from bot.config import Settings
from flows.assistant import Assistant
from flows.subscriptions import open_subscription
from tests.conftest import running_bot
from tests.fake_bot_api import REPLY_METHODS, FakeBotAPI
from tests.telegram_user import TelegramUser

SECRET = "Tournesol2026"
GROUP = -100500


def journal_writes(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """The update ids of each journal file written, in order."""
    written: list[list[int]] = []
    real = bot.inbox_journal.write_atomically

    def spy(path: Path, data: bytes) -> None:
        written.append([update["update_id"] for update in json.loads(data)])
        real(path, data)
    monkeypatch.setattr(bot.inbox_journal, "write_atomically", spy)
    return written


def assert_no_text_logged(caplog: pytest.LogCaptureFixture, *texts: str) -> None:
    for text in (SECRET, *texts):
        assert text not in caplog.text


async def is_answered(user: TelegramUser) -> bool:
    """The person asks for help and gets an answer, not the apology for an internal error."""
    return "erreur inattendue" not in (await user.send("/aide")).text


def private_message(user: TelegramUser, text: str, update_id: int) -> dict:
    chat = {"id": user.id, "type": "private", "first_name": "Jean"}
    return {"update_id": update_id, "message": {"message_id": update_id, "date": 0, "from": user.user,
                                                 "chat": chat, "text": text}}


async def test_an_unreadable_update_is_dropped_and_the_other_chats_are_answered(
        settings: Settings, bot_api: FakeBotAPI, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    written = journal_writes(monkeypatch)
    anne, paul = TelegramUser(bot_api, 701), TelegramUser(bot_api, 702)
    async with running_bot(settings, bot_api):
        bad = bot_api.push_update({"poll": {"id": "1", "question": SECRET}})  # no persistent fields: PTB cannot parse it
        assert await is_answered(anne)
        assert await is_answered(paul)
    ids = [update_id for batch in written for update_id in batch]
    assert bad not in ids and len(ids) == len(set(ids))
    assert any(f"update {bad} cannot be read (TypeError)" in r.getMessage() for r in caplog.records)
    async with running_bot(settings, bot_api):  # nothing of it is left to replay
        assert await is_answered(anne)
    assert not list(settings.inbox_dir.glob("*.json"))
    assert_no_text_logged(caplog)


async def test_a_lone_surrogate_in_a_message_is_stored_as_a_replacement_character(
        settings: Settings, bot_api: FakeBotAPI, caplog: pytest.LogCaptureFixture):
    opened = open_subscription(build_toolkit(settings, bot_api.username), "achat@garage-dupont.fr", "comptabilite", 1)
    admin = TelegramUser(bot_api, 703)
    async with running_bot(settings, bot_api):
        await admin.send(f"/start {opened.code}")
        await admin.press("CRÉER mon compte Administrateur")
        assert "Ce nom ne semble pas valide" in (await admin.send("Dupont\ud83d")).text
        assert "votre prénom" in (await admin.send("Dupont")).text
    stored = build_toolkit(settings).store.load_conversation(admin.id)
    assert "Dupont\ufffd" in [line.text for line in stored.transcript]
    assert_no_text_logged(caplog, "Dupont")


@pytest.mark.parametrize("content", [b"", b'[{"update_id": 5, "mess', b"\x00\xffgarbage", b'{"update_id": 5}'])
async def test_an_unreadable_journal_file_is_quarantined_and_the_bot_starts(
        settings: Settings, bot_api: FakeBotAPI, content: bytes, caplog: pytest.LogCaptureFixture):
    settings.inbox_dir.mkdir(parents=True)
    (settings.inbox_dir / "000000000005-bad.json").write_bytes(content)
    anne = TelegramUser(bot_api, 701)
    async with running_bot(settings, bot_api):
        assert await is_answered(anne)
    assert [p.name for p in (settings.inbox_dir / "quarantine").iterdir()] == ["000000000005-bad.json"]
    assert any("000000000005-bad.json" in r.getMessage() for r in caplog.records)


async def test_the_readable_updates_of_a_quarantined_file_are_still_handled(
        settings: Settings, bot_api: FakeBotAPI, caplog: pytest.LogCaptureFixture):
    anne = TelegramUser(bot_api, 701)
    batch = [private_message(anne, "/aide", 90), {"update_id": 91, "poll": {"id": "1", "question": SECRET}}]
    settings.inbox_dir.mkdir(parents=True)
    (settings.inbox_dir / "000000000090-mixed.json").write_text(json.dumps(batch))
    async with running_bot(settings, bot_api):
        assert "conseiller" in (await anne.sees("conseiller")).text
    assert (settings.inbox_dir / "quarantine" / "000000000090-mixed.json").exists()
    assert not list(settings.inbox_dir.glob("*.json"))
    assert_no_text_logged(caplog)


async def test_a_chat_whose_record_cannot_be_read_is_journaled_without_its_text(
        settings: Settings, bot_api: FakeBotAPI, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture):
    anne, paul = TelegramUser(bot_api, 701), TelegramUser(bot_api, 702)
    real = Assistant.expects_secret

    def unreadable(self: Assistant, chat_id: int, behind_another: bool = False, text: str | None = None) -> bool:
        if chat_id == anne.id:
            raise OSError("conversation file unreadable")
        return real(self, chat_id, behind_another, text)
    monkeypatch.setattr(Assistant, "expects_secret", unreadable)
    written: list[bytes] = []
    real_write = bot.inbox_journal.write_atomically
    monkeypatch.setattr(bot.inbox_journal, "write_atomically",
                        lambda path, data: (written.append(data), real_write(path, data)))
    async with running_bot(settings, bot_api):
        bot_api.user_message(anne.user, text=SECRET)
        assert await is_answered(paul)
        await anne.sees("")
    assert written and not any(SECRET.encode() in data for data in written)
    assert_no_text_logged(caplog)


async def test_a_full_disk_leaves_the_chats_answered_and_is_logged_once(
        settings: Settings, bot_api: FakeBotAPI, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture):
    def full(path: Path, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(bot.inbox_journal, "write_atomically", full)
    anne, paul = TelegramUser(bot_api, 701), TelegramUser(bot_api, 702)
    async with running_bot(settings, bot_api):
        for user in (anne, paul, anne):
            assert await is_answered(user)
    errors = [r for r in caplog.records if r.name == "bot.inbox_journal" and r.levelno == logging.ERROR]
    assert len(errors) == 1 and "errno 28" in errors[0].getMessage()


async def test_a_button_pressed_in_another_group_only_gets_a_notice(
        settings: Settings, bot_api: FakeBotAPI, caplog: pytest.LogCaptureFixture):
    anne = TelegramUser(bot_api, 701)
    message = {"message_id": 5, "date": 0, "chat": {"id": GROUP, "type": "supergroup", "title": "Autre"},
               "text": SECRET}
    async with running_bot(settings, bot_api):
        bot_api.push_update({"callback_query": {"id": "q1", "from": anne.user, "chat_instance": "ci",
                                                "data": "admin.create", "message": message}})
        await bot_api.wait_until(lambda: bool(bot_api.method_calls("answerCallbackQuery")))
        assert await is_answered(anne)
    assert bot_api.method_calls("answerCallbackQuery")[0]["text"].startswith("Je ne réponds qu'en conversation privée")
    assert not [p for m, p in bot_api.calls if m in REPLY_METHODS and p.get("chat_id") == GROUP]
    assert settings.helpdesk_chat_id is None
    assert build_toolkit(settings).store.load_conversation(GROUP) is None
    assert_no_text_logged(caplog)


async def test_business_messages_are_ignored_and_only_the_assistant_updates_are_asked_for(
        settings: Settings, bot_api: FakeBotAPI):
    anne, customer = TelegramUser(bot_api, 701), TelegramUser(bot_api, 704)
    business = private_message(customer, "/start", 0)["message"]
    async with running_bot(settings, bot_api):
        bot_api.push_update({"business_message": {**business, "business_connection_id": "bc1"}})
        bot_api.push_update({"edited_business_message": {**business, "edit_date": 0, "business_connection_id": "bc1"}})
        assert await is_answered(anne)
    assert bot_api.outputs(customer.id) == 0
    assert build_toolkit(settings).store.load_conversation(customer.id) is None
    assert bot_api.method_calls("getUpdates")[-1]["allowed_updates"] == ALLOWED_UPDATES


@pytest.mark.parametrize("payload", [{"edited_message": None}, {"message": None}, {"callback_query": None},
                                     {"message": None, "callback_query": None}])
async def test_an_update_with_null_fields_never_blocks_the_batch(
        settings: Settings, bot_api: FakeBotAPI, payload: dict, caplog: pytest.LogCaptureFixture):
    anne = TelegramUser(bot_api, 701)
    async with running_bot(settings, bot_api):
        bot_api.push_update(payload)
        assert await is_answered(anne)
    assert "Exception happened while polling" not in caplog.text


@pytest.mark.parametrize("body", [b"<html>502 Bad Gateway</html>", b"[1, 2]", b'{"ok": true, "result": {"a": 1}}',
                                  b'{"ok": true, "result": [1, "x", null, {"update_id": "7"}]}', b"[" * 200_000,
                                  ('{"ok": true, "result": [{"update_id": 0, "message": {"text": "%s"}}]}'
                                   % SECRET).encode()])
async def test_a_hostile_bot_api_answer_to_get_updates_is_ignored_and_polling_goes_on(
        settings: Settings, bot_api: FakeBotAPI, body: bytes, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    bot_api.raw_next["getUpdates"] = [body, body]
    anne = TelegramUser(bot_api, 701)
    async with running_bot(settings, bot_api):
        assert await is_answered(anne)
    assert not bot_api.raw_next["getUpdates"]
    assert_no_text_logged(caplog, "502 Bad Gateway")
