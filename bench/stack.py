"""Full stack: the bare echo bot, the python-telegram-bot peer, then `flexbot run`, each as a process
under the same load from the load generator."""

import sys
import time
from pathlib import Path

from bench import load, ptb_peer_bot
from bench.journey import JOURNEY, PASSWORD, steps
from bot.app import build_toolkit
from bot.config import Settings
from flows.subscriptions import OpenedSubscription, open_subscription
from storage.passwords import Argon2Hasher
from tests.bot_process import FLEXBOT
from tests.fake_bot_api import FakeBotAPI

ECHO_BOT = (sys.executable, "-m", "bench.echo_bot")
PEER_BOT = (sys.executable, "-m", "bench.ptb_peer_bot")
FIRST_CHAT = 10_000


def open_subscriptions(data_dir: Path, count: int, **settings: object) -> list[OpenedSubscription]:
    """One one-seat subscription per administrator, opened as the operator's command does (fsync
    off); `settings` choose another store (database_url=…)."""
    toolkit = build_toolkit(Settings(_env_file=None, flexbot_data_dir=data_dir, flexbot_fsync=False, **settings),
                            FakeBotAPI().username)
    try:
        return [open_subscription(toolkit, f"achat{n}@garage-dupont.fr", "comptabilite", 1) for n in range(count)]
    finally:
        toolkit.store.close()


async def seed_peer(data_dir: Path, opened: list[OpenedSubscription]) -> None:
    """The same codes for the peer, in its bot_data."""
    await ptb_peer_bot.seed(data_dir / "peer.pickle", {
        o.code: {"number": o.subscription.number, "product": "Sage 50 Comptabilité", "seats": o.subscription.seats}
        for o in opened})


def argon2_hash_ms() -> float:
    """What the one password of each journey costs the bot, outside the event loop's other work."""
    started = time.perf_counter()
    Argon2Hasher().hash(PASSWORD)
    return round((time.perf_counter() - started) * 1000, 1)


async def run(root: Path, administrators: int, timeout: float) -> dict[str, object]:
    """The first administrator warms each bot up (lazy imports, first connections) and is not counted."""
    opened = open_subscriptions(root / "flexbot", administrators + 1)
    await seed_peer(root / "peer", opened)
    warm_up, *codes = (o.code for o in opened)
    journeys = {FIRST_CHAT + n: steps(code) for n, code in enumerate(codes, start=1)}
    bots = {}
    # Flexbot goes last: run after it, a bot measured at half speed (the disk still busy with
    # flexbot's fsynced writes), which would flatter flexbot. The peer writes nothing while
    # measured (PicklePersistence waits 60 s), so echo and peer both run on a quiet disk.
    for name, command in (("echo_bot", ECHO_BOT), ("peer", PEER_BOT), ("flexbot", FLEXBOT)):
        bots[name] = await load.run(command, root / name.removesuffix("_bot"), {FIRST_CHAT: steps(warm_up)},
                                    journeys, timeout)
    rate = {name: figures["updates_per_s"] for name, figures in bots.items()}
    return {"administrators": administrators, "updates_per_administrator": len(JOURNEY), **bots,
            "throughput_ratio": round(rate["flexbot"] / rate["echo_bot"], 3),  # type: ignore[operator]
            "throughput_ratio_peer": round(rate["flexbot"] / rate["peer"], 3),  # type: ignore[operator]
            "argon2_hash_ms": argon2_hash_ms()}
