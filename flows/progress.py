"""How far a subscription's setup has gone, as the shop's API and the metrics report it.

Read from the subscription alone (the conversation is the administrator's chat, which the shop does
not know): step 1 until the administrator account exists, step 2 while a subscription of several
seats has no user invited yet, then 3 (services and download) until the setup is done.
"""

from typing import Any

from flows.journey import step_of
from flows.records import Conversation, Subscription, UserStatus

SETUP_STEPS = ("administrator", "users", "services", "done")


def setup_step(subscription: Subscription) -> str:
    if subscription.setup_completed_at is not None:
        return "done"
    if subscription.admin is None:
        return "administrator"
    invited = any(user.status in (UserStatus.INVITED, UserStatus.ACTIVE) and not user.is_admin
                  for user in subscription.users)
    if subscription.seats > 1 and not invited:
        return "users"
    return "services"


def progress(subscription: Subscription) -> dict[str, Any]:
    """Step, users and their status, services: never a password hash, a code or an invitation."""
    admin = subscription.admin
    return {
        "number": subscription.number,
        "email": subscription.email,
        "product": subscription.product.value,
        "seats": subscription.seats,
        "step": setup_step(subscription),
        "setup_done": subscription.setup_completed_at is not None,
        "administrator": {"first_name": admin.first_name, "last_name": admin.last_name, "email": admin.email,
                          "is_user": admin.is_user} if admin else None,
        "users": [{"first_name": user.first_name, "last_name": user.last_name, "email": user.email,
                   "status": user.status.value, "is_admin": user.is_admin} for user in subscription.users],
        "services": dict(subscription.services),
    }


def note_step_reached(subscription: Subscription, conversation: Conversation, now: float) -> bool:
    """The first time the administrator's chat shows a step, noted on the subscription for the
    report's funnel (an invited user's chat has no steps); True when the subscription changed."""
    step = step_of(conversation.state)
    reached = subscription.steps_reached_at
    if conversation.user_id is not None or step is None or reached is None or str(step) in reached:
        return False
    reached[str(step)] = now
    return True
