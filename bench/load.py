"""The load generator: the fake Bot API on 127.0.0.1 plus simulated administrators, each waiting for
the bot's reply before its next update, many at once. Latency runs from the moment an update is
handed to the bot (the getUpdates answer, or the webhook request as it is sent) to the moment its
reply (sendMessage or editMessageText) arrives."""

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Sequence
from subprocess import Popen
from pathlib import Path
from typing import Any

from bench.stats import machine_busy_s, percentiles_ms, process_usage
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

    async def _api_setWebhook(self, params: dict[str, Any]) -> bool:
        registered = await super()._api_setWebhook(params)
        assert self.webhook is not None
        self.webhook.on_post = self._posted
        return registered

    def _posted(self, update: dict[str, Any]) -> None:
        self.served_at.setdefault(chat_of(update), time.perf_counter())  # a retry keeps the first try

    def _replied(self, chat_id: int, method: str) -> None:
        """A reply counts once the chat's update is handed over: an earlier update's second message
        (a webhook hands the next update over only once the previous one is acknowledged) does not."""
        self.replies[chat_id] += 1
        if chat_id not in self.served_at:
            return
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


class Pacer:
    """Offers updates at a steady rate across all administrators: each waits for the next free slot.
    A slot nobody was ready for is lost, not saved up, so the offered rate never goes above `rate`."""

    def __init__(self, rate: float) -> None:
        self.interval = 1 / rate
        self.next_slot = 0.0

    async def slot(self) -> None:
        now = time.perf_counter()
        start = max(now, self.next_slot)
        self.next_slot = start + self.interval
        await asyncio.sleep(start - now)


class SimulatedAdmin(TelegramUser):
    """A person in a private chat, noting each reply's latency; with a pacer, each update waits for
    its slot (the offered rate), else it goes as soon as the previous reply came (closed loop)."""

    api: LoadBotAPI

    def __init__(self, api: LoadBotAPI, user_id: int, pacer: Pacer | None = None) -> None:
        super().__init__(api, user_id)
        self.latencies: list[float] = []
        self.pacer = pacer

    async def _reply_to(self, push: Callable[[], object], reply_in: TelegramUser | None = None) -> ChatMessage:
        """Every exchange of the journey is answered in the person's own chat."""
        if self.pacer is not None:
            await self.pacer.slot()
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


async def play_all(api: LoadBotAPI, journeys: Journeys, timeout: float,
                   pacer: Pacer | None = None) -> list[SimulatedAdmin]:
    admins = {chat_id: SimulatedAdmin(api, chat_id, pacer) for chat_id in journeys}
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
        return await measure(api, [bot], warm_up, journeys, timeout)
    finally:
        await stop_bot(bot)
        await api.stop()


async def measure(api: LoadBotAPI, bots: Sequence[Popen[bytes]], warm_up: Journeys, journeys: Journeys,
                  timeout: float, pacer: Pacer | None = None) -> dict[str, object]:
    """Plays `warm_up` unmeasured, then every journey at once against bots already serving `api`:
    throughput, latency, and the bot processes' CPU time (summed) and peak RSS (the largest)."""
    await play_all(api, warm_up, timeout)
    cpu_before = [process_usage(bot.pid)["cpu_s"] for bot in bots]
    started, own_cpu, busy = time.perf_counter(), time.process_time(), machine_busy_s()
    admins = await play_all(api, journeys, timeout, pacer)
    elapsed, own_cpu = time.perf_counter() - started, time.process_time() - own_cpu
    busy = machine_busy_s() - busy
    usage = [process_usage(bot.pid) for bot in bots]
    cpu_each = [round(u["cpu_s"] - before, 2) for u, before in zip(usage, cpu_before)]
    latencies = [latency for admin in admins for latency in admin.latencies]
    return {"updates": len(latencies), "seconds": round(elapsed, 2),
            "updates_per_s": round(len(latencies) / elapsed, 1), **percentiles_ms(latencies),
            "bot_cpu_s": round(sum(cpu_each), 2), "bot_cpu_s_each": cpu_each,
            "bot_peak_rss_mb": max(u["peak_rss_mb"] for u in usage), "load_generator_cpu_s": round(own_cpu, 2),
            "machine_busy_cores": round(busy / elapsed, 2)}
