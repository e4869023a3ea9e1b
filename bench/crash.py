"""Crash: a write storm against `flexbot run`, killed with SIGKILL again and again.

Simulated people send /etat (each one saves its conversation, fsync included), each waiting for
the reply before the next. After each kill, the store must open (every file parses) and hold every
update whose reply the load generator received ("acknowledged"). After each restart, every update
ever sent must end up handled (its chat's last_update_id reaches it): those python-telegram-bot had
already confirmed to the server come back from the inbox journal, the others from the server.
"""

import asyncio
import json
import pickle
import random
import signal
from pathlib import Path
from typing import Any

from bench import load, stack
from bench.journey import steps
from bench.load import LoadBotAPI, chat_of
from storage.tinydb_store import TinyDBStore
from tests.bot_process import start_bot, stop_bot, wait_polling

FIRST_CHAT = 20_000
SETTLE_S = 0.3  # lets replies to replayed updates land before people type again
HANDLED_WITHIN_S = 15.0
BURST = 2


class CrashBotAPI(LoadBotAPI):
    """Also remembers each chat's latest update, the one a kill may have caught in flight."""

    def __init__(self) -> None:
        super().__init__()
        self.last_sent: dict[int, int] = {}

    def push_update(self, payload: dict[str, Any]) -> int:
        update_id = super().push_update(payload)
        self.last_sent[chat_of(payload)] = update_id
        return update_id

    def forget_waiters(self) -> None:
        """People interrupted by a kill start afresh."""
        self.waiting.clear()
        self.served_at.clear()


class Person:
    """Types /etat twice in a row, as people do, then waits for both replies; again and again.

    The second message waits for the first (same chat), fetched and confirmed to the server:
    exactly what a kill would lose without the inbox journal.
    """

    def __init__(self, api: CrashBotAPI, chat_id: int) -> None:
        self.api, self.id = api, chat_id
        self.user = {"id": chat_id, "is_bot": False, "first_name": "U", "language_code": "fr"}
        self.acknowledged = 0  # how many of this person's updates got their reply
        self.last_acknowledged = 0

    async def storm(self) -> None:
        while True:
            sent = [self.api.user_message(self.user, text="/etat")[0] for _ in range(BURST)]
            for replies, update_id in enumerate(sent, start=self.api.replies[self.id] + 1):
                while self.api.replies[self.id] < replies:  # per-chat order: replies come in turn
                    await self.api.next_reply(self.id)
                self.acknowledged += 1
                self.last_acknowledged = update_id


def unreadable_files(database: Path) -> int:
    broken = 0
    for path in database.rglob("*.json"):
        try:
            json.loads(path.read_bytes())
        except ValueError:
            broken += 1
    return broken


def journaled_updates(inbox: Path) -> int:
    return sum(len(json.loads(path.read_bytes())) for path in inbox.glob("*.json"))


def behind(store: TinyDBStore, expected: dict[int, int]) -> dict[int, int]:
    """Chats whose stored conversation has not reached the update id expected."""
    missing = {}
    for chat, update_id in expected.items():
        conversation = store.load_conversation(chat)
        if conversation is None or conversation.last_update_id < update_id:
            missing[chat] = update_id
    return missing


async def handled_in_time(store: TinyDBStore, expected: dict[int, int]) -> dict[int, int]:
    missing = behind(store, expected)
    for _ in range(int(HANDLED_WITHIN_S / 0.05)):
        if not missing:
            break
        await asyncio.sleep(0.05)
        missing = behind(store, missing)
    return missing


async def run(root: Path, kills: int, people: int, seed: int = 1) -> dict[str, int]:
    api, data, chooser = CrashBotAPI(), root / "data", random.Random(seed)
    store = TinyDBStore(data / "db")
    crowd = [Person(api, FIRST_CHAT + n) for n in range(people)]
    totals = {"kills": 0, "updates_sent": 0, "acknowledged": 0, "lost_acknowledged": 0, "lost_sent": 0,
              "unreadable_files": 0, "updates_in_journal_at_kills": 0}
    await api.start()
    try:
        for round_number in range(kills + 1):
            bot = start_bot(api, data)
            await wait_polling(api, bot)
            totals["lost_sent"] += len(await handled_in_time(store, api.last_sent))
            await asyncio.sleep(SETTLE_S)
            api.forget_waiters()
            if round_number == kills:
                await stop_bot(bot)
                break
            storm = [asyncio.create_task(person.storm()) for person in crowd]
            await asyncio.sleep(chooser.uniform(0.2, 0.8))
            await stop_bot(bot, signal.SIGKILL)
            for task in storm:
                task.cancel()
            await asyncio.gather(*storm, return_exceptions=True)
            totals["kills"] += 1
            totals["unreadable_files"] += unreadable_files(data / "db")
            totals["updates_in_journal_at_kills"] += journaled_updates(data / "inbox")
            acknowledged = {p.id: p.last_acknowledged for p in crowd if p.last_acknowledged}
            totals["lost_acknowledged"] += len(behind(store, acknowledged))
    finally:
        await api.stop()
    totals["updates_sent"] = max(api.last_sent.values(), default=0)  # the server numbers updates from 1
    totals["acknowledged"] = sum(person.acknowledged for person in crowd)
    return totals


PEER_ANSWERS = {2: "last_name", 3: "first_name", 4: "email"}  # journey step -> the peer's chat_data key


async def run_peer(root: Path, kills: int, people: int, seed: int = 1) -> dict[str, int]:
    """The same kill -9 against the python-telegram-bot peer: fresh administrators play the journey
    until the kill, then the peer's pickle must hold every typed answer whose reply arrived."""
    chooser, data = random.Random(seed), root / "peer"
    opened = stack.open_subscriptions(root / "subscriptions", kills * people)
    await stack.seed_peer(data, opened)
    totals = {"kills": 0, "acknowledged_answers": 0, "lost_acknowledged_answers": 0}
    for round_number in range(kills):
        api = load.LoadBotAPI()
        await api.start()
        try:
            bot = start_bot(api, data, stack.PEER_BOT)
            await wait_polling(api, bot)
            crowd = [load.SimulatedAdmin(api, FIRST_CHAT + round_number * people + n) for n in range(people)]
            journeys = [person.play(steps(o.code)) for person, o in
                        zip(crowd, opened[round_number * people:], strict=False)]
            playing = [asyncio.create_task(journey) for journey in journeys]
            await asyncio.sleep(chooser.uniform(0.5, 1.5))
            await stop_bot(bot, signal.SIGKILL)
            for task in playing:
                task.cancel()
            await asyncio.gather(*playing, return_exceptions=True)
        finally:
            await api.stop()
        totals["kills"] += 1
        kept = pickle.loads((data / "peer.pickle").read_bytes())["chat_data"]
        for person in crowd:
            for step, key in PEER_ANSWERS.items():
                if len(person.latencies) > step:
                    totals["acknowledged_answers"] += 1
                    totals["lost_acknowledged_answers"] += key not in kept.get(person.id, {})
    return totals
