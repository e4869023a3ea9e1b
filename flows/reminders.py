"""Reminders to administrators who stopped mid-setup: durable records, due within business hours.

Every event of an administrator's chat moves its reminder forward (`note_activity`); a runner walks
the due ones (`reminder_slots.Walk`) and sends each one it could `claim`. A claim is one commit
that marks the reminder taken before anything is sent, so a restart or a second process never sends
it twice (a kill between the claim and the send loses that one reminder rather than risk a double).
An invited user's reminder (flows/invitations.py) is claimed here too, its mail queued in the
claim's own commit.
"""

from flows import invitations
from flows.boundary import Button, Delivery, Event, EventKind
from flows.catalogue import catalogue
from flows.journey import STEP_COUNT, step_of, steps_for
from flows.ports import Store
from flows.records import AuditEntry, Conversation, Reminder, Subscription
from flows.reminder_settings import ReminderSettings
from flows.reminder_slots import HOUR, is_due, mark_sent, reschedule, schedule, slot_of
from flows.steps.base import Toolkit

REMINDER_BUTTON = "rm"
KEY_PREFIX = "admin-"


def key_of(chat_id: int) -> str:
    return f"{KEY_PREFIX}{chat_id}"


def kind_of(key: str) -> str:
    """Whose reminder `key` is, for logs that name neither the chat nor the user."""
    if key.startswith(KEY_PREFIX):
        return "administrator's"
    return "invited user's" if key.startswith(invitations.KEY_PREFIX) else "unknown"


def note_activity(toolkit: Toolkit, conversation: Conversation, subscription: Subscription | None = None) -> None:
    """The administrator just did something: the next reminder counts from now, and none once done;
    `subscription` is the chat's when the caller has it loaded already (its time zone counts). A chat
    recorded as blocked is not any more: they could not write to a bot they block."""
    reminder = _reminder_of(toolkit.store, conversation)
    if reminder is None:
        return
    now = toolkit.clock()
    came_back = _note_return(toolkit.store, reminder, conversation, now)
    unblocked, reminder.blocked = reminder.blocked, False
    if reminder.stopped:
        if came_back or unblocked:  # "Ne plus me le rappeler" still holds: the return is noted once
            reminder.last_activity = now
            toolkit.store.save_reminder(reminder)
        return
    _count_from(toolkit, reminder, conversation, subscription, now)


def help_ended(toolkit: Toolkit, conversation: Conversation) -> None:
    """The last agent left: the next reminder counts from now, as after the administrator's own
    activity, so one held back while help was open (`claim` drops it) comes back once it is over."""
    reminder = _reminder_of(toolkit.store, conversation)
    if reminder is not None and not (reminder.stopped or reminder.blocked):
        _count_from(toolkit, reminder, conversation, None, toolkit.clock())


def _reminder_of(store: Store, conversation: Conversation) -> Reminder | None:
    """The reminder of an administrator's chat bound to a subscription; a new one if it has none yet, or
    if its reminder is another subscription's (the chat opened another link here): that one's rounds,
    flags and audit trail are not this one's."""
    if conversation.user_id is not None or conversation.subscription_number is None:
        return None
    key, number = key_of(conversation.chat_id), conversation.subscription_number
    reminder = store.load_reminder(key)
    if reminder is None or reminder.subscription_number != number:
        reminder = Reminder(key, conversation.chat_id, number)
    return reminder


def _count_from(toolkit: Toolkit, reminder: Reminder, conversation: Conversation, subscription: Subscription | None,
                now: float) -> None:
    """The first reminder is due FIRST_HOURS after `now`, in business hours; none once the setup is done."""
    store, settings = toolkit.store, toolkit.settings.reminders
    listed_in = slot_of(reminder.due_at)
    reminder.last_activity, reminder.round, reminder.claimed_at = now, 0, None
    if conversation.setup_done:
        reminder.due_at = None
    else:
        if subscription is None or subscription.number != reminder.subscription_number:
            subscription = store.load_subscription(reminder.subscription_number)
        reminder.due_at = settings.business_time(now + settings.first_hours * HOUR, _zone(subscription))
    schedule(store, reminder, listed_in)


def _zone(subscription: Subscription | None) -> str | None:
    return subscription.time_zone if subscription is not None else None


def _note_return(store: Store, reminder: Reminder, conversation: Conversation, now: float) -> bool:
    """The chat's first activity since a reminder went, in the audit trail: the report counts the
    reminders that brought the administrator back (and how soon)."""
    if not reminder.sent_at or reminder.sent_at[-1] <= reminder.last_activity:
        return False
    store.append_audit(AuditEntry(now, reminder.subscription_number, f"chat:{reminder.chat_id}", "reminder_followed",
                                  {"sent_at": reminder.sent_at[-1], "round": reminder.round,
                                   "step": step_of(conversation.state)}))
    return True


def claim(toolkit: Toolkit, key: str, claimant: str) -> Delivery | None:
    """Marks a due reminder taken, in its own commit, and returns the message to send; None when it is
    not due, already taken, or must not go (setup done, an agent in, a help request open), when it was
    found after closing (moved to the next opening), and for an invited user's reminder, whose mail
    that same commit queues."""
    # Two processes claiming the same reminder: the second one's commit conflicts (the store checks
    # the version it read), runs again, and finds it taken.
    return toolkit.store.run_event(lambda: _claim(toolkit, key, claimant))


def _claim(toolkit: Toolkit, key: str, claimant: str) -> Delivery | None:
    store, settings, now = toolkit.store, toolkit.settings.reminders, toolkit.clock()
    reminder = store.load_reminder(key)
    if reminder is None or not is_due(reminder, now):
        return None
    if reminder.user_id is not None:
        invitations.remind(toolkit, reminder, claimant)
        return None
    conversation = store.load_conversation(reminder.chat_id)
    subscription = store.load_subscription(reminder.subscription_number)
    if (conversation is None or subscription is None or not _setting_up(conversation, reminder)
            or conversation.helpers or conversation.help_ticket):
        reminder.due_at = None  # the chat's next event, or the end of the help (`help_ended`), schedules again
        store.save_reminder(reminder)
        return None
    if not settings.is_open(now, subscription.time_zone):  # found after closing (the runner was down)
        reschedule(store, reminder, settings.business_time(now, subscription.time_zone))
        return None
    mark_sent(reminder, now, claimant)
    reminder.due_at = _second_due(settings, reminder, subscription.time_zone) if reminder.round == 1 else None
    if reminder.due_at is not None:
        reminder.claimed_at = None  # the next round is free to be claimed when it comes
    schedule(store, reminder)
    store.append_audit(AuditEntry(now, reminder.subscription_number, "reminders", "reminder_sent",
                                  {"round": reminder.round, "step": step_of(conversation.state),
                                   "chat": reminder.chat_id}))
    return _message(conversation, subscription)


def _setting_up(conversation: Conversation, reminder: Reminder) -> bool:
    """The chat is still the administrator's of the reminder's subscription, with setup left to do
    (it may have opened an invitation of another subscription since)."""
    return (conversation.user_id is None and conversation.subscription_number == reminder.subscription_number
            and not conversation.setup_done)


def _second_due(settings: ReminderSettings, reminder: Reminder, zone: str | None) -> float:
    """The second reminder keeps the gap between the two after the first actually went (it may have
    waited for a Monday, or a runner that was down), and never comes before SECOND_HOURS of silence."""
    after_first = reminder.sent_at[-1] + (settings.second_hours - settings.first_hours) * HOUR
    return settings.business_time(max(after_first, reminder.last_activity + settings.second_hours * HOUR), zone)


def _message(conversation: Conversation, subscription: Subscription) -> Delivery:
    """The step the administrator stopped at and the steps left of those their subscription goes
    through (no user accounts with one seat)."""
    texts = catalogue(conversation.language)
    step = step_of(conversation.state) or 1
    left = ", ".join(texts.text(f"step.{n}") for n in steps_for(subscription.seats) if n >= step)
    buttons = ((Button("▶️ " + texts.text("reminder.resume"), f"{REMINDER_BUTTON}|resume"),
                Button("🔕 " + texts.text("reminder.stop"), f"{REMINDER_BUTTON}|stop")),)
    return Delivery(conversation.chat_id, texts.text("reminder.admin", step=step, total=STEP_COUNT,
                                                      title=texts.text(f"step.{step}"), left=left), buttons)


def not_delivered(toolkit: Toolkit, key: str, blocked: bool) -> None:
    """A claimed reminder did not reach its chat: the audit says so (the report counts what arrived);
    when the chat blocked the bot, that is recorded and nothing more is sent there."""
    def work() -> None:
        store = toolkit.store
        reminder = store.load_reminder(key)
        if reminder is None:
            return
        if blocked:
            reminder.blocked, reminder.due_at = True, None
            store.save_reminder(reminder)
        store.append_audit(AuditEntry(toolkit.clock(), reminder.subscription_number, "reminders",
                                      "reminder_not_delivered", {"round": reminder.round, "chat": reminder.chat_id,
                                                                 "blocked": blocked}))
    toolkit.store.run_event(work)


def concerns(event: Event) -> bool:
    return event.kind is EventKind.BUTTON and event.text.startswith(REMINDER_BUTTON + "|")


def pressed(store: Store, conversation: Conversation, data: str) -> str | None:
    """Ne plus me le rappeler stops them for good and returns what to say; Reprendre returns None, the
    caller shows the current question."""
    if data != f"{REMINDER_BUTTON}|stop":
        return None
    reminder = store.load_reminder(key_of(conversation.chat_id))
    if reminder is not None:
        reminder.stopped, reminder.due_at = True, None
        store.save_reminder(reminder)
    return catalogue(conversation.language).text("reminder.stopped")
