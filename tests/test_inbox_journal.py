"""Updates python-telegram-bot fetched (and so confirmed to Telegram) but never handled survive a kill."""

import asyncio
import signal
from pathlib import Path
from typing import Any

from telegram import Bot

from bot.app import build_toolkit
from bot.config import Settings
from bot.inbox_journal import InboxJournal, withheld
from flows.subscriptions import open_subscription
from storage.tinydb_store import TinyDBStore
from tests.bot_process import bot_process, stop_bot
from tests.fake_bot_api import FakeBotAPI
from tests.telegram_user import TelegramUser

CHAT = 601
USER = {"id": CHAT, "is_bot": False, "first_name": "Jean", "language_code": "fr"}


class StallingBotAPI(FakeBotAPI):
    """Holds the bot's first reply until released, so the chat's next updates wait, fetched, in its queue."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        await self.release.wait()
        return await super()._api_sendMessage(params)


def replies_begun(api: FakeBotAPI) -> int:
    """Replies the bot has started to send in the chat, finished or not."""
    return sum(1 for params in api.method_calls("sendMessage") if params.get("chat_id") == CHAT)


def confirmed(api: FakeBotAPI, update_id: int) -> bool:
    """Telegram forgets an update once getUpdates asks for a later offset."""
    return any(int(params.get("offset") or 0) > update_id for params in api.method_calls("getUpdates"))


async def test_updates_fetched_but_not_handled_before_a_kill_are_handled_after_the_restart(tmp_path: Path):
    api, data = StallingBotAPI(), tmp_path / "data"
    store = TinyDBStore(data / "db")
    await api.start()
    try:
        async with bot_process(api, data) as bot:
            first, _ = api.user_message(USER, text="/etat")
            await api.wait_until(lambda: replies_begun(api) == 1)  # the first reply hangs; the chat is busy
            api.user_message(USER, text="/etat")
            last, _ = api.user_message(USER, text="/aide")
            await api.wait_until(lambda: confirmed(api, last))
            await stop_bot(bot, signal.SIGKILL)
        assert store.load_conversation(CHAT).last_update_id == first

        api.release.set()
        before = replies_begun(api)
        async with bot_process(api, data) as bot:
            # The first update was handled but its reply died with the process: it is answered
            # again (with the current question), and the two others are handled for the first time.
            await api.wait_until(lambda: replies_begun(api) == before + 3)
            texts = [p["text"] for p in api.method_calls("sendMessage") if p.get("chat_id") == CHAT][before:]
            assert texts[0].startswith("Bon retour") and "conseiller" in texts[-1]
            assert store.load_conversation(CHAT).last_update_id == last
            assert await stop_bot(bot) == 0
        assert not list((data / "inbox").glob("*.json"))
    finally:
        await api.stop()


async def test_a_password_waiting_in_the_journal_is_kept_without_its_text(tmp_path: Path):
    journal = InboxJournal(tmp_path / "inbox")
    journal.expects_secret = lambda chat_id, behind_another, text: text == "Tournesol2026"  # judged by its text
    other = {**USER, "id": 602}
    updates = [
        {"update_id": 7, "message": {"message_id": 1, "date": 0, "from": USER, "text": "Tournesol2026",
                                     "chat": {"id": CHAT, "type": "private"}}},
        {"update_id": 8, "message": {"message_id": 2, "date": 0, "from": other, "text": "Dupont",
                                     "chat": {"id": 602, "type": "private"}}},
    ]
    await journal.record(updates)

    on_disk = b"".join(path.read_bytes() for path in (tmp_path / "inbox").glob("*.json"))
    assert b"Tournesol2026" not in on_disk and b"Dupont" in on_disk
    replayed = InboxJournal(tmp_path / "inbox").replay(Bot("123:TEST"))
    assert [u.update_id for u in replayed] == [7, 8]
    assert replayed[0].message.text is None and replayed[1].message.text == "Dupont"
    assert withheld(replayed[0].message) and not withheld(replayed[1].message)


async def test_a_password_fetched_before_a_kill_is_never_on_disk_is_deleted_in_the_chat_and_asked_again(tmp_path: Path):
    api, data = StallingBotAPI(), tmp_path / "data"
    settings = Settings(_env_file=None, flexbot_data_dir=data, flexbot_fsync=False)
    opened = open_subscription(build_toolkit(settings, api.username), "achat@garage-dupont.fr", "comptabilite", 1)
    admin = TelegramUser(api, CHAT)
    api.release.set()
    await api.start()
    try:
        async with bot_process(api, data) as bot:
            await admin.send(f"/start {opened.code}")
            await admin.press("CRÉER mon compte Administrateur")
            await admin.send("Dupont")
            await admin.send("Jean")
            api.release.clear()  # the password question will hang on its way out
            api.user_message(admin.user, text="jean@garage-dupont.fr")
            password, typed = api.user_message(admin.user, text="Tournesol2026")
            await api.wait_until(lambda: confirmed(api, password))
            assert not any(b"Tournesol2026" in path.read_bytes() for path in data.rglob("*") if path.is_file())
            await stop_bot(bot, signal.SIGKILL)
        api.release.set()
        async with bot_process(api, data):
            # Its text was never kept: the message goes from the chat, and the person is asked plainly.
            asked = await admin.sees("arrivé pendant un redémarrage")
            assert "Merci de le saisir à nouveau" in asked.text and "votre mot de passe" in asked.text
            assert "lire ce type de message" not in asked.text
            assert next(m for m in api.chats[CHAT] if m.message_id == typed).deleted
            review = await admin.send("Tournesol2026")
            assert "Vérifiez votre compte administrateur" in review.text
    finally:
        await api.stop()


async def test_a_truncated_conversation_read_first_by_the_journal_still_gets_its_message(
        bot_api: FakeBotAPI, settings: Settings) -> None:
    """The journal asks whether a password is expected before the chat's event runs: its look must
    leave the damaged record to that event, which sets it aside and tells the person so."""
    from tests.conftest import running_bot
    from tests.test_telegram_journey import up_to_the_first_name
    from tests.test_webhook import subscription_code

    code = subscription_code(settings, bot_api.username)
    admin = TelegramUser(bot_api, 704)
    async with running_bot(settings, bot_api):
        await up_to_the_first_name(admin, code)
        (record,) = (settings.flexbot_data_dir / "db" / "conversations").glob("*/704.json")
        record.write_bytes(record.read_bytes()[:50])
        said = await admin.send("Jean")
        assert "mise de côté" in said.text
        assert next(m for m in bot_api.chats[704] if m.text == "Jean").deleted  # it may have been the password
    assert list((settings.flexbot_data_dir / "db" / "quarantine" / "conversations").iterdir())
