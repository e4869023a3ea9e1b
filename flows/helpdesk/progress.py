"""Where a conversation stands, in the words agents read, and where steering sends it."""

from flows.catalogue import Catalogue
from flows.journey import MEMBER_STATES, STEP_COUNT, STEPS, step_of
from flows.records import Conversation


def step_entry(step: int, conversation: Conversation) -> str:
    """Where sending the administrator back to a step lands: its review when it has one and is filled in."""
    if step == 1 and {"last_name", "first_name", "email", "password_hash"} <= conversation.answers.get("admin", {}).keys():
        return "reviewing_admin"
    return STEPS[step][0]


def step_label(state: str, texts: Catalogue) -> str:
    step = step_of(state)
    if state in MEMBER_STATES:
        return texts.text("agent.step_member")
    if step is None:
        return texts.text("agent.step_menu" if state == "in_menu" else "agent.step_entry")
    return texts.text("progress", step=step, total=STEP_COUNT, title=texts.text(f"step.{step}"))
