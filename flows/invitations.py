"""An invited user's e-mails: what the invitation says of the account, and its one reminder.

The reminder is scheduled with each invitation (`schedule`), so a resent invitation moves it to the new
link's expiry, and it is found by the runner like the administrators' reminders (flows/reminder_slots.py).
`remind` runs inside the claim's event (flows/reminders.py): the claim and the queued mail are one
commit, so the mail is queued exactly when the claim commits, and never twice. It carries the
invitation's own link (no new code) and does not go once that invitation was revoked or replaced,
the user deactivated, or their password set.

Like the administrators' reminders it waits for business hours in the subscription's time zone (when it
falls due, and again when it is found: a runner that was down), unless waiting would leave the user
less than half the notice (REMINDER_INVITED_HOURS_BEFORE): then it goes at once, night or weekend,
since it must arrive before the link stops working.
"""

from dataclasses import replace

from flows import reminder_slots
from flows.catalogue import DEFAULT_LANGUAGE, Catalogue, catalogue
from flows.mails import compose
from flows.ports import Store
from flows.records import AuditEntry, Code, Reminder, Subscription, UserAccount, UserStatus
from flows.reminder_settings import ReminderSettings
from flows.steps.base import Toolkit
from flows.summary import product_name

KEY_PREFIX = "invited-"


def key_of(number: str, user_id: str) -> str:
    return f"{KEY_PREFIX}{number}-{user_id}"


def mail_values(account: Subscription, user: UserAccount, texts: Catalogue) -> dict[str, object]:
    """What the invitation and its reminder say: who invites, to which subscription and software."""
    admin = account.admin
    return {"first_name": user.first_name, "admin_name": f"{admin.first_name} {admin.last_name}" if admin else "",
            "number": account.number, "software": product_name(account, texts)}


def due_time(settings: ReminderSettings, invited_at: float, expires_at: float, time_zone: str | None) -> float | None:
    """When the reminder of a link expiring at `expires_at` goes; None when the link does not outlive
    the notice (there is no "before it expires" left to remind in)."""
    at = expires_at - settings.invited_hours_before * reminder_slots.HOUR
    return _kept_to_hours(settings, at, expires_at, time_zone) if at > invited_at else None


def _kept_to_hours(settings: ReminderSettings, at: float, expires_at: float, time_zone: str | None) -> float:
    """`at`, or the next opening when that still leaves half the notice before the link expires."""
    within = settings.business_time(at, time_zone)
    return within if expires_at - within >= settings.invited_hours_before * reminder_slots.HOUR / 2 else at


def schedule(toolkit: Toolkit, account: Subscription, user: UserAccount, code: Code, chat_id: int,
             language: str) -> None:
    """The reminder of the invitation `code` just sent from `chat_id`, in `language` (the invitation's);
    it replaces any reminder of an earlier invitation."""
    now = toolkit.clock()
    reminder = Reminder(key_of(account.number, user.id), chat_id, account.number, last_activity=now,
                        user_id=user.id, language=language)
    reminder.due_at = due_time(toolkit.settings.reminders, now, code.expires_at, account.time_zone)
    reminder_slots.schedule(toolkit.store, reminder)


def cancel(store: Store, number: str, user_id: str) -> None:
    """No reminder for an invitation revoked (the user deactivated)."""
    reminder = store.load_reminder(key_of(number, user_id))
    if reminder is not None and reminder.due_at is not None:
        reminder.due_at = None
        store.save_reminder(reminder)


def remind(toolkit: Toolkit, reminder: Reminder, claimant: str) -> None:
    """Inside the claim's event: marks the due reminder taken and queues its mail, or drops it when the
    invitation no longer stands."""
    store, now = toolkit.store, toolkit.clock()
    account = store.load_subscription(reminder.subscription_number)
    user = account.user(reminder.user_id or "") if account else None
    code = store.load_code(user.invitation) if user is not None and user.invitation else None
    if (account is None or user is None or code is None or user.status is not UserStatus.INVITED
            or user.password_hash is not None or code.expires_at <= now):
        reminder.due_at = None
        store.save_reminder(reminder)
        return
    later = _kept_to_hours(toolkit.settings.reminders, now, code.expires_at, account.time_zone)
    if later > now:  # found after closing (the runner was down), with time left to wait for the opening
        reminder_slots.reschedule(store, reminder, later)
        return
    reminder_slots.mark_sent(reminder, now, claimant)
    reminder.due_at = None  # one reminder per invitation
    store.save_reminder(reminder)
    user.reminded_at = now
    store.save_subscription(account)
    texts = catalogue(user.language or reminder.language or DEFAULT_LANGUAGE)  # as the invitation chose
    settings = toolkit.settings
    mail = compose(texts, user.email, "mail.invitation_reminder", settings.deep_link(code.value),
                   vendor=settings.vendor_name, validity=texts.remaining(code.expires_at - now),
                   **mail_values(account, user, texts))
    store.queue_mail(replace(mail, notify_chat=reminder.chat_id))
    store.append_audit(AuditEntry(now, account.number, "reminders", "invitation_reminder_sent", {"user_id": user.id}))
