"""The load generator: the fake Bot API on 127.0.0.1 plus simulated administrators, each waiting for
the bot's reply before its next update, many at once. Latency runs from the moment an update is
handed to the bot (the getUpdates answer) to the moment its reply (sendMessage or editMessageText)
arrives."""

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.stats import percentiles_ms, process_usage
from tests.bot_process import start_bot, stop_bot, wait_polling
from tests.fake_bot_api import ChatMessage, FakeBotAPI
from tests.telegram_user import TelegramUser


class LoadBotAPI(FakeBotAPI):
    """Notes when each chat's update is handed over, and wakes the chat's person at the reply."""

    def __init__(self) -> None:
        super().__init__()
        self.served_at: dict[int, float] = {}
        self.waiting: dict[int, asyncio.Future[float]] = {}
        self.replies: Counter[int] = Counter()
        self.on_reply = self._replied

    async def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        updates = await super()._api_getUpdates(params)
        now = time.perf_counter()
        for update in updates:
            self.served_at.setdefault(chat_of(update), now)  # the first hand-over, not a redelivery
        return updates

    def _replied(self, chat_id: int, method: str) -> None:
        self.replies[chat_id] += 1
        waiter = self.waiting.pop(chat_id, None)
        if waiter and not waiter.done():
            waiter.set_result(time.perf_counter())

    async def exchange(self, chat_id: int, push: Callable[[], object]) -> float:
        """Pushes one update and waits for the reply in that chat; returns the latency in seconds."""
        waiter = self.next_reply(chat_id)
        push()
        replied_at = await waiter
        while chat_id not in self.served_at:  # a late second message of the previous update (flexbot's
            replied_at = await self.next_reply(chat_id)  # feedback question after step 4): not this reply
        return replied_at - self.served_at.pop(chat_id)

    def next_reply(self, chat_id: int) -> asyncio.Future[float]:
        """Resolves at the chat's next reply, with the moment it arrived."""
        waiter = self.waiting[chat_id] = asyncio.get_running_loop().create_future()
        return waiter


def chat_of(update: dict[str, Any]) -> int:
    message = update.get("message") or update["callback_query"]["message"]
    return message["chat"]["id"]


class SimulatedAdmin(TelegramUser):
    """A person in a private chat, noting each reply's latency."""

    api: LoadBotAPI

    def __init__(self, api: LoadBotAPI, user_id: int) -> None:
        super().__init__(api, user_id)
        self.latencies: list[float] = []

    async def _reply_to(self, push: Callable[[], object], reply_in: TelegramUser | None = None) -> ChatMessage:
        """Every exchange of the journey is answered in the person's own chat."""
        self.latencies.append(await self.api.exchange(self.id, push))
        return self.bot_messages[-1]

    @property
    def bot_messages(self) -> list[ChatMessage]:
        return [message for message in self.messages if message.from_bot]

    async def choose(self, label: str) -> ChatMessage:
        """Presses `label`; a bot that shows no buttons (the echo bot) gets the label as callback data."""
        if any(label in button["text"] for message in self.messages for button in message.buttons()):
            return await self.press(label)
        return await self._reply_to(lambda: self.api.press(self.user, self.bot_messages[-1], label))

    async def play(self, steps: Sequence[tuple[str, str]]) -> None:
        for action, value in steps:
            await (self.choose(value) if action == "press" else self.send(value))


Journeys = dict[int, list[tuple[str, str]]]


async def play_all(api: LoadBotAPI, journeys: Journeys, timeout: float) -> list[SimulatedAdmin]:
    admins = {chat_id: SimulatedAdmin(api, chat_id) for chat_id in journeys}
    await asyncio.wait_for(asyncio.gather(*(admins[c].play(steps) for c, steps in journeys.items())), timeout)
    return list(admins.values())


async def run(command: Sequence[str], data_dir: Path, warm_up: Journeys, journeys: Journeys,
              timeout: float) -> dict[str, object]:
    """Starts the bot as a process, plays `warm_up` unmeasured, then every journey at once, and
    reports throughput, latency, and the bot process's CPU time and peak RSS."""
    api = LoadBotAPI()
    await api.start()
    bot = start_bot(api, data_dir, command)
    try:
        await wait_polling(api, bot)
        await play_all(api, warm_up, timeout)
        cpu_before = process_usage(bot.pid)["cpu_s"]
        started, own_cpu = time.perf_counter(), time.process_time()
        admins = await play_all(api, journeys, timeout)
        elapsed, own_cpu = time.perf_counter() - started, time.process_time() - own_cpu
        usage = process_usage(bot.pid)
    finally:
        await stop_bot(bot)
        await api.stop()
    latencies = [latency for admin in admins for latency in admin.latencies]
    return {"updates": len(latencies), "seconds": round(elapsed, 2),
            "updates_per_s": round(len(latencies) / elapsed, 1), **percentiles_ms(latencies),
            "bot_cpu_s": round(usage["cpu_s"] - cpu_before, 2), "bot_peak_rss_mb": usage["peak_rss_mb"],
            "load_generator_cpu_s": round(own_cpu, 2)}
