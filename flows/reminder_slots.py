"""Where due reminders are found, whatever they remind of (an administrator's setup, an invited user's
link): each `Reminder` record is filed under the hour it falls due in, and a cursor says from which hour
the runner still has some to deal with. A runner walks the keys that may be due (`Walk`) and claims
each for real."""

from collections.abc import Iterator

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


def reschedule(store: Store, reminder: Reminder, due_at: float) -> None:
    """Not sent now but at `due_at`: filed under that hour, still free to be claimed then."""
    listed_in = slot_of(reminder.due_at)
    reminder.due_at = due_at
    schedule(store, reminder, listed_in)


def is_due(reminder: Reminder | None, now: float) -> bool:
    """Due now and not taken yet (a claim decides for real, in its own commit)."""
    return (reminder is not None and reminder.due_at is not None and reminder.due_at <= now
            and reminder.claimed_at is None)


def mark_sent(reminder: Reminder, now: float, claimant: str) -> None:
    """Taken by `claimant`: the commit that records it is the one that lets the reminder go."""
    reminder.claimed_at, reminder.claimed_by, reminder.round = now, claimant, reminder.round + 1
    reminder.sent_at = [*reminder.sent_at, now]


class Walk:
    """One look at the reminders that may be due: their keys, slot by slot from the cursor up to now's
    slot (a claim checks each for real). The cursor moves past a slot only once every key of it was
    dealt with: the caller asks for the next key after dealing with one, and says when one `failed`.
    A kill or a failure mid-pass leaves the slot to the next pass, whose claims find taken what went."""

    def __init__(self, store: Store, now: float) -> None:
        self.store, self.last = store, int(now // SLOT)
        self.cursor = store.reminder_cursor()
        self.intact = True  # no key failed in this pass: the cursor may still move

    def keys(self) -> Iterator[str]:
        seen: set[str] = set()
        for slot in _span(self.cursor, self.last):
            for key in self.store.reminder_slot(slot):
                if key not in seen:
                    seen.add(key)
                    self._done_before(slot)
                    yield key
        self._done_before(self.last)  # the current slot is looked at again next time

    def failed(self) -> None:
        """The key just given could not be dealt with: the cursor stays for the rest of the pass."""
        self.intact = False

    def _done_before(self, slot: int) -> None:
        if self.intact and (self.cursor is None or self.cursor < slot):
            self.store.save_reminder_cursor(slot)
            self.cursor = slot


def waiting(store: Store, now: float) -> int:
    """How many reminders are due and not sent yet (for the operators' metrics; reads only)."""
    span = _span(store.reminder_cursor(), int(now // SLOT))
    keys = dict.fromkeys(key for slot in span for key in store.reminder_slot(slot))
    reminders = (store.load_reminder(key) for key in keys)
    return sum(1 for r in reminders if r is not None and is_due(r, now) and not r.stopped and not r.blocked)


def _span(cursor: int | None, last: int) -> range:
    """The slots to look at: from the cursor (none yet: from now's) to now's."""
    return range(last if cursor is None else cursor, last + 1)
