"""How much a person can make the bot send: mails per chat and per address, help requests, agent notices.

Each limit is a sliding window of timestamps kept in the store (a restart does not reset it) and
pruned on every write (it never grows past the limit's count).
"""

import hashlib
import math
from dataclasses import dataclass

from flows.ports import Store
from flows.records import Throttle

HOUR = 3600.0


@dataclass(frozen=True)
class Limit:
    count: int
    window: float


MAILS_PER_CHAT = Limit(5, HOUR)
MAILS_PER_ADDRESS = Limit(3, HOUR)
HELP_REQUESTS_PER_CHAT = Limit(3, HOUR)
AGENT_NOTICES_PER_CHAT = Limit(4, HOUR)  # cards and cancellations pushed to agents for one chat


def address_key(address: str) -> str:
    """A store key for an address that is not the address itself (keys may be file names)."""
    return "mail-to-" + hashlib.blake2b(address.strip().lower().encode(), digest_size=16).hexdigest()


def chat_key(kind: str, chat_id: int) -> str:
    return f"{kind}-{chat_id}"


def wait(store: Store, key: str, limit: Limit, now: float) -> float:
    """Seconds before one more is allowed under `limit`; 0 when it is allowed now."""
    recent = sorted(t for t in store.load_throttle(key).times if t > now - limit.window)
    return 0.0 if len(recent) < limit.count else recent[-limit.count] + limit.window - now


def note(store: Store, key: str, limit: Limit, now: float) -> None:
    throttle = store.load_throttle(key)
    throttle.times = sorted([t for t in throttle.times if t > now - limit.window] + [now])[-limit.count:]
    store.save_throttle(throttle)


def mail_wait(store: Store, now: float, address: str, chat_id: int) -> float:
    """May this chat get another mail sent to this address now? 0 if so, else the seconds to wait."""
    return max(wait(store, chat_key("mails", chat_id), MAILS_PER_CHAT, now),
               wait(store, address_key(address), MAILS_PER_ADDRESS, now))


def note_mail(store: Store, now: float, address: str, chat_id: int) -> None:
    note(store, chat_key("mails", chat_id), MAILS_PER_CHAT, now)
    note(store, address_key(address), MAILS_PER_ADDRESS, now)


def minutes(seconds: float) -> int:
    """A wait as people read it: whole minutes, rounded up, at least one."""
    return max(1, math.ceil(seconds / 60))
