"""`flexbot report --json` over a large store, as a whole process: seconds and peak RSS.

A population with a realistic spread of progress (most start, fewer finish; some ask for help, get
reminders, rate the assistant) is written as the bot writes it — subscriptions and audit entries
through the store, many per event so 100,000 take a minute, not hours — to TinyDB and to
PostgreSQL. The report then runs in a process of its own (wall time and CPU seconds: the machine is shared), started by a tiny launcher so that the
child's peak RSS (`wait4`'s rusage) is its own and not inherited from the bench's memory (Linux
carries a parent's high-water mark across fork and exec).
"""

import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from flows.offer import Product
from flows.ports import Store
from flows.records import AdminAccount, AuditEntry, Subscription
from storage.mail_cipher import MailCipher
from storage.postgres_store import PostgresStore, connect
from storage.tinydb_store import TinyDBStore
from tests.postgres_server import PostgresServer

PER_EVENT = 500
START = 1_798_761_600.0  # 2027-01-01
SPREAD = 90 * 86400.0  # subscriptions opened over three months
KEY = b"ZmxleGJvdC1iZW5jaC1rZXktMzItYnl0ZXMtbG9uZyE="
# Runs `flexbot report --json` and prints its wall time and rusage: imports nothing of the bot's.
LAUNCHER = """
import json, os, subprocess, sys, tempfile, time
started = time.perf_counter()
errors = tempfile.TemporaryFile()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=errors)
out = child.stdout.read()
_, status, usage = os.wait4(child.pid, 0)
if not out:
    errors.seek(0)
    sys.exit("flexbot report printed nothing: " + errors.read().decode(errors="replace")[-2000:])
print(json.dumps({"seconds": time.perf_counter() - started, "status": os.waitstatus_to_exitcode(status),
                  "cpu_seconds": usage.ru_utime + usage.ru_stime, "peak_rss_kb": usage.ru_maxrss,
                  "opened": json.loads(out)["funnel"]["opened"]}))
"""


def history(number: int, chooser: random.Random) -> tuple[Subscription, list[AuditEntry]]:
    """One subscription and its trail, drawn so that the funnel narrows at each step."""
    seats = 1 if chooser.random() < 0.4 else chooser.randint(2, 10)
    created = START + chooser.random() * SPREAD
    name = f"FLX{number:08d}"
    subscription = Subscription(name, f"achat{number}@exemple.fr", Product.COMPTABILITE, seats, created,
                                steps_reached_at={})
    trail = [AuditEntry(created, name, "operator", "subscription_opened", {"product": "comptabilite", "seats": seats})]
    chat, at, step = f"chat:{number}", created, 0
    for next_step, keeps_on, mean_wait in ((1, 0.85, 7200), (2, 0.8, 1800), (3, 0.75, 3 * 3600), (4, 0.8, 86400)):
        if chooser.random() > keeps_on:
            break
        at += chooser.expovariate(1 / mean_wait)
        step = next_step
        if next_step == 2 and seats == 1:
            continue  # one seat: no users' step
        subscription.steps_reached_at[str(next_step)] = at  # type: ignore[index]
        trail.append(AuditEntry(at, name, chat, ("chat_bound", "admin_saved", "users_activated", "setup_completed")
                                [next_step - 1]))
    if step >= 2:
        subscription.admin = AdminAccount("Dupont", "Jean", f"jean{number}@exemple.fr", "hashed", True)
    if step == 4:
        subscription.setup_completed_at = at
        if chooser.random() < 0.6:
            trail.append(_rating(name, chat, at + 60, "assistant", 4, None, chooser))
    if step and chooser.random() < 0.1:
        trail += _help(name, chat, at, step, number, chooser)
    if 0 < step < 4:
        trail += _reminders(name, chat, at, number, chooser)
    return subscription, trail


def _help(name: str, chat: str, at: float, step: int, ticket: int, chooser: random.Random) -> list[AuditEntry]:
    state = {1: "asking_admin_email", 2: "managing_users", 3: "choosing_services", 4: "showing_downloads"}[step]
    entries = [AuditEntry(at, name, chat, "help_requested", {"state": state, "ticket": ticket})]
    if chooser.random() < 0.15:
        return entries + [AuditEntry(at + 120, name, chat, "help_cancelled", {"ticket": ticket})]
    joined = at + chooser.expovariate(1 / 600)
    ended = joined + chooser.expovariate(1 / 900)
    entries += [AuditEntry(joined, name, "agent:1", "agent_joined", {"ticket": ticket}),
                AuditEntry(ended, name, "agent:1", "help_resolved", {"ticket": ticket})]
    if chooser.random() < 0.5:
        entries.append(_rating(name, chat, ended + 30, "help", step, ticket, chooser))
    return entries


def _rating(name: str, chat: str, at: float, topic: str, step: int, ticket: int | None,
            chooser: random.Random) -> AuditEntry:
    mark = chooser.choices(range(1, 6), weights=(1, 1, 3, 8, 10))[0]
    return AuditEntry(at, name, chat, "feedback_rated", {"topic": topic, "step": step, "ticket": ticket,
                                                        "agents": [], "rating": mark})


def _reminders(name: str, chat: str, at: float, number: int, chooser: random.Random) -> list[AuditEntry]:
    entries = [AuditEntry(at + 86400, name, "reminders", "reminder_sent", {"round": 1, "step": 1, "chat": number})]
    if chooser.random() < 0.3:
        return entries + [AuditEntry(at + 86400 + chooser.expovariate(1 / 20000), name, chat, "reminder_followed",
                                     {"sent_at": at + 86400, "round": 1, "step": 1})]
    return entries + [AuditEntry(at + 3 * 86400, name, "reminders", "reminder_sent",
                                 {"round": 2, "step": 1, "chat": number})]


def population(count: int, seed: int = 11) -> Iterator[tuple[Subscription, list[AuditEntry]]]:
    chooser = random.Random(seed)
    for number in range(1, count + 1):
        yield history(number, chooser)


def seed(store: Store, count: int) -> float:
    """Writes the population, `PER_EVENT` subscriptions an event; returns the seconds it took."""
    started = time.perf_counter()
    histories = population(count)
    for _ in range(0, count, PER_EVENT):
        with store.event():
            for subscription, trail in (next(histories) for _ in range(min(PER_EVENT, count))):
                store.save_subscription(subscription)
                for entry in trail:
                    store.append_audit(entry)
        if isinstance(store, TinyDBStore):
            store.checkpoint()  # no fsync here: it only keeps the write-ahead log from growing
    return round(time.perf_counter() - started, 1)


def timed_report(environment: dict[str, str]) -> dict[str, object]:
    flexbot = Path(sys.executable).with_name("flexbot")
    command = [str(flexbot)] if flexbot.exists() else [sys.executable, "-c", "from bot.cli import main; main()"]
    measured = subprocess.run([sys.executable, "-c", LAUNCHER, *command, "report", "--json"],
                              capture_output=True, text=True, env={**{k: v for k, v in os.environ.items()
                                                                     if k != "DATABASE_URL"}, **environment})
    if measured.returncode != 0:
        raise RuntimeError(measured.stderr)
    result = json.loads(measured.stdout)
    return {"seconds": round(result["seconds"], 2), "cpu_s": round(result["cpu_seconds"], 2), "peak_rss_mb": round(result["peak_rss_kb"] / 1024, 1),
            "exit_status": result["status"], "subscriptions": result["opened"]}


def run(root: Path, count: int, postgres: bool = True) -> dict[str, object]:
    results: dict[str, object] = {"subscriptions": count}
    store = TinyDBStore(root / "db", fsync=False)
    results["tinydb_seeding_s"] = seed(store, count)
    store.close()
    results["tinydb"] = timed_report({"FLEXBOT_DATA_DIR": str(root)})
    if postgres:
        server = PostgresServer()
        try:
            server.start()
            server.prepare_shared()
            url = server.emptied()
            pg_store = PostgresStore(connect(url, 2, migrate=False), "bench@flex.example", MailCipher(lambda: KEY))
            results["postgres_seeding_s"] = seed(pg_store, count)
            pg_store.close()
            results["postgres"] = timed_report({"FLEXBOT_DATA_DIR": str(root / "pg-data"), "DATABASE_URL": url,
                                                "FLEXBOT_SECRET_KEY": KEY.decode()})
        finally:
            server.destroy()
    return results
