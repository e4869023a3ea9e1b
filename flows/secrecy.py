"""Which messages may be a password: one rule, used by the engine (delete it, never answer it as
something else), the transcript (mask it), the help desk (never relay it) and the inbox journal
(never write it to disk)."""

from enum import Enum

from flows.boundary import Event, EventKind
from flows.journey import SECRET_AHEAD, SECRET_STATES, TEXT_STATES, form_of, takes_typed_answer
from flows.records import Conversation
from flows import validation
from flows.validation import InvalidAnswer

# A password sent twice in a row: what follows the accepted one within this time and meets the password
# rule is a copy of it (an unknown text is assumed to). Free text, for an agent or a comment, is read
# word by word instead (`_holds_password`).
ECHO_SECONDS = 120.0


def asks_password(conversation: Conversation) -> bool:
    """The question the person sees asks for a password (whatever an agent made of the state since)."""
    return conversation.state in SECRET_STATES or conversation.secret_asked


class Secret(Enum):
    """Why a message may be a password, which decides where it goes."""

    EXPECTED = "expected"  # where one is expected (asked, a copy right after, typed ahead): the question takes it
    IN_FREE_TEXT = "in_free_text"  # free text (a comment, a message for the agents, a text that answers
    # nothing) with a word that may be it


def secret_in(conversation: Conversation | None, text: str | None, now: float,
              behind_another: bool = False) -> Secret | None:
    """Whether, and why, `text` may be a password; None: it is not. `text` None: not known (a message
    not read yet: anything may come); `behind_another`: another message of the chat, not handled yet,
    comes first and may be the answer that leads to the password question."""
    if conversation is None:
        return None
    if conversation.helpers:  # what is typed goes to the agents, but the password question takes the password
        return Secret.EXPECTED if asks_password(conversation) else _free_text(text)
    if conversation.takes_comment(now):  # a comment the person asked to write
        return _free_text(text)
    if asks_password(conversation):
        return Secret.EXPECTED
    if now - conversation.secret_answered_at < ECHO_SECONDS and (text is None or _meets_password_rule(text)):
        return Secret.EXPECTED
    if conversation.state in SECRET_AHEAD and (  # typed ahead of the password question, or after a refused answer
            behind_another or text is None or (conversation.state in TEXT_STATES
                                                and not _answers(conversation.state, text))):
        return Secret.EXPECTED
    if text is not None and not takes_typed_answer(conversation.state, assisted=False):
        return _free_text(text)  # it answers nothing: free text, that only the transcript would keep
    return None


def may_be_password(conversation: Conversation | None, text: str | None, now: float,
                    behind_another: bool = False) -> bool:
    """`secret_in`, for whoever only deletes or withholds the message."""
    return secret_in(conversation, text, now, behind_another) is not None


def may_be_password_unhandled(event: Event, expected: bool | None = None) -> bool:
    """Whether an event that could not be handled must be deleted from the chat. `expected`: whether
    the chat's conversation was asking for a password (`may_be_password`), None when that cannot be
    known (its record unreadable, the store out of reach, the event not saved): then any text that
    is no button press may be the password."""
    typed = bool(event.text) and event.kind is not EventKind.BUTTON
    return typed and expected is not False


def _meets_password_rule(text: str) -> bool:
    try:
        validation.password(text)
    except InvalidAnswer:
        return False
    return True


def _free_text(text: str | None) -> Secret | None:
    return Secret.IN_FREE_TEXT if text is None or _holds_password(text) else None


def _holds_password(text: str) -> bool:
    """Free text, kept or passed on as written: any of its words that meets the password rule may be
    the password, typed alone or inside a sentence (« je n'arrive pas à me connecter avec … »)."""
    return any(_meets_password_rule(word) for word in text.split())


def _answers(state: str, text: str) -> bool:
    """Whether `text` is a valid answer to the question of `state` (never, where buttons are expected)."""
    try:
        field = form_of(state).field(state)
    except StopIteration:
        return False
    if field is None:
        return False
    try:
        field.check(text)
    except InvalidAnswer:
        return False
    return True
