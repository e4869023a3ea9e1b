"""Where due reminders are found, whatever they remind of (an administrator's setup, an invited user's
link): each `Reminder` record is filed under the hour it falls due in, and a cursor says how far the
runner has looked. A runner asks for the keys that may be due (`due`) and claims each for real."""

from flows.ports import Store
from flows.records import Reminder

HOUR = 3600.0
SLOT = HOUR  # due reminders are listed by the hour they fall in


def slot_of(due_at: float | None) -> int | None:
    return None if due_at is None else int(due_at // SLOT)


def schedule(store: Store, reminder: Reminder, listed_in: int | None = None) -> None:
    """Saves the reminder and files it under the hour of its `due_at`, if it has one. `listed_in`: the
    slot it was filed under before this change; when the hour is the same, the slot (a list of every
    reminder due that hour, read at every event of a busy chat otherwise) is left alone."""
    store.save_reminder(reminder)
    slot = slot_of(reminder.due_at)
    if slot is not None and slot != listed_in:
        store.add_to_reminder_slot(slot, reminder.key)
        if store.reminder_cursor() is None:  # the runner starts looking from the first reminder ever due
            store.save_reminder_cursor(slot)


def is_due(reminder: Reminder | None, now: float) -> bool:
    """Due now and not taken yet (a claim decides for real, in its own commit)."""
    return (reminder is not None and reminder.due_at is not None and reminder.due_at <= now
            and reminder.claimed_at is None)


def mark_sent(reminder: Reminder, now: float, claimant: str) -> None:
    """Taken by `claimant`: the commit that records it is the one that lets the reminder go."""
    reminder.claimed_at, reminder.claimed_by, reminder.round = now, claimant, reminder.round + 1
    reminder.sent_at = [*reminder.sent_at, now]


def due(store: Store, now: float) -> list[str]:
    """Keys of reminders that may be due, slot by slot since the last look up to now (a claim checks
    each for real); the current slot is looked at again next time."""
    keys = _slot_keys(store, now)
    store.save_reminder_cursor(int(now // SLOT))
    return keys


def waiting(store: Store, now: float) -> int:
    """How many reminders are due and not sent yet (for the operators' metrics; reads only)."""
    reminders = (store.load_reminder(key) for key in _slot_keys(store, now))
    return sum(1 for r in reminders if r is not None and is_due(r, now) and not r.stopped and not r.blocked)


def _slot_keys(store: Store, now: float) -> list[str]:
    first, last = store.reminder_cursor(), int(now // SLOT)
    keys = [key for slot in range(last if first is None else first, last + 1) for key in store.reminder_slot(slot)]
    return list(dict.fromkeys(keys))
