"""Webhook on PostgreSQL: the bare echo bot (long polling) as the ceiling, then `flexbot run` in webhook
mode on one PostgreSQL database, 1 process and 2 processes sharing one port (SO_REUSEPORT, one
WEBHOOK_SECRET), under the same journey load, in one run; then 2 processes at a paced, offered rate
(Telegram's 30 updates/s bulk ceiling for one bot) for the latency there.

The fake Bot API delivers as Telegram does: one update per chat in flight, the chat's next one only
after a 2xx, at most `max_connections` (flexbot's default, 40) requests at once."""

from pathlib import Path

from bench import load
from bench.journey import JOURNEY, steps
from bench.postgres import KEY
from bench.stack import ECHO_BOT, FIRST_CHAT, argon2_hash_ms, open_subscriptions
from tests.bot_process import start_bot, stop_bot, wait_webhook, webhook_environment
from tests.conftest import free_port
from tests.postgres_server import PostgresServer

OFFERED_RATE = 30.0  # updates per second
WARM_UP = 10  # administrators


async def serve(root: Path, url: str, processes: int, administrators: int, timeout: float,
                pacer: load.Pacer | None = None) -> dict[str, object]:
    """`processes` webhook processes on the (emptied) database at `url`, under the journey load."""
    opened = open_subscriptions(root, administrators + WARM_UP, database_url=url, flexbot_secret_key=KEY.decode())
    warm_up, journeys = plan([o.code for o in opened])
    environment = {**webhook_environment(free_port()), "DATABASE_URL": url, "FLEXBOT_SECRET_KEY": KEY.decode()}
    api = load.LoadBotAPI()
    await api.start()
    bots = []
    try:
        for _ in range(processes):  # one after the other: each registers the same webhook
            bots.append(start_bot(api, root, environment=environment))
            await wait_webhook(api, bots[-1])
        figures = await load.measure(api, bots, warm_up, journeys, timeout, pacer)
    finally:
        for bot in bots:
            await stop_bot(bot)
        await api.stop()
    statuses = [status for _, status in api.webhook.attempts] if api.webhook else []
    return {**figures, "processes": processes, "deliveries_not_200": sum(status != 200 for status in statuses)}


def plan(codes: list[str]) -> tuple[load.Journeys, load.Journeys]:
    """The first WARM_UP codes warm the bots up, unmeasured and at once, so each process has had its
    first requests (lazy imports, pool connections, first hash); each other is one administrator's journey."""
    chats = {FIRST_CHAT + n: steps(code) for n, code in enumerate(codes)}
    warm_up = dict(list(chats.items())[:WARM_UP])
    return warm_up, {chat: journey for chat, journey in chats.items() if chat not in warm_up}


async def run(root: Path, administrators: int, timeout: float) -> dict[str, object]:
    warm_up, journeys = plan([f"echo{n}" for n in range(administrators + WARM_UP)])  # the echo bot reads no code
    echo = await load.run(ECHO_BOT, root / "echo", warm_up, journeys, timeout)
    server = PostgresServer(durable=True)
    try:
        server.start()
        server.prepare_shared()
        one = await serve(root / "pg1", server.emptied(), 1, administrators, timeout)
        two = await serve(root / "pg2", server.emptied(), 2, administrators, timeout)
        offered = await serve(root / "pg2_offered", server.emptied(), 2, administrators, timeout,
                              load.Pacer(OFFERED_RATE))
    finally:
        server.destroy()
    return {"administrators": administrators, "updates_per_administrator": len(JOURNEY),
            "echo_bot": echo, "1_process": one, "2_processes": two,
            "2_processes_offered": {**offered, "offered_per_s": OFFERED_RATE},
            "ratio_2_to_1": round(two["updates_per_s"] / one["updates_per_s"], 3),  # type: ignore[operator]
            "ratio_2_to_echo": round(two["updates_per_s"] / echo["updates_per_s"], 3),  # type: ignore[operator]
            "argon2_hash_ms": argon2_hash_ms()}
