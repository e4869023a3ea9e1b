"""Updates python-telegram-bot fetched (and so confirmed to Telegram) but never handled survive a kill."""

import asyncio
import signal
from pathlib import Path
from typing import Any

from storage.tinydb_store import TinyDBStore
from tests.bot_process import bot_process, stop_bot
from tests.fake_bot_api import FakeBotAPI

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
