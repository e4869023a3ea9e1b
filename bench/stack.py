"""Full stack: `flexbot run` against the load generator, then the bare echo bot under the same load."""

import sys
import time
from pathlib import Path

from bench import load
from bench.journey import JOURNEY, PASSWORD, steps
from bot.app import build_toolkit
from bot.config import Settings
from flows.subscriptions import open_subscription
from storage.passwords import Argon2Hasher
from tests.bot_process import FLEXBOT
from tests.fake_bot_api import FakeBotAPI

ECHO_BOT = (sys.executable, "-m", "bench.echo_bot")
FIRST_CHAT = 10_000


def open_subscriptions(data_dir: Path, count: int) -> list[str]:
    """One one-seat subscription per administrator, opened as the operator's command does (fsync off)."""
    settings = Settings(_env_file=None, flexbot_data_dir=data_dir, flexbot_fsync=False)
    toolkit = build_toolkit(settings, FakeBotAPI().username)
    return [open_subscription(toolkit, f"achat{n}@garage-dupont.fr", "comptabilite", 1).code for n in range(count)]


def argon2_hash_ms() -> float:
    """What the one password of each journey costs the bot, outside the event loop's other work."""
    started = time.perf_counter()
    Argon2Hasher().hash(PASSWORD)
    return round((time.perf_counter() - started) * 1000, 1)


async def run(root: Path, administrators: int, timeout: float) -> dict[str, object]:
    """The first administrator warms each bot up (lazy imports, first connections) and is not counted."""
    warm_up, *codes = open_subscriptions(root / "flexbot", administrators + 1)
    journeys = {FIRST_CHAT + n: steps(code) for n, code in enumerate(codes, start=1)}
    # The echo bot goes first: run after flexbot, it measured at half speed (the disk still busy
    # with flexbot's writes), which would flatter the ratio.
    echo = await load.run(ECHO_BOT, root / "echo", {FIRST_CHAT: steps(warm_up)}, journeys, timeout)
    flexbot = await load.run(FLEXBOT, root / "flexbot", {FIRST_CHAT: steps(warm_up)}, journeys, timeout)
    ratio = round(flexbot["updates_per_s"] / echo["updates_per_s"], 3)  # type: ignore[operator]
    return {"administrators": administrators, "updates_per_administrator": len(JOURNEY), "flexbot": flexbot,
            "echo_bot": echo, "throughput_ratio": ratio, "argon2_hash_ms": argon2_hash_ms()}
