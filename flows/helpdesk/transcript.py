"""Each conversation's transcript: bounded, with the password masked the moment it is received."""

from flows.boundary import Event, EventKind
from flows.records import Conversation, Line

TRANSCRIPT_LIMIT = 40
LINE_LIMIT = 300
RECAP_LINES = 20
PASSWORD_MASK = "••••••"
CODE_MASK = "••••"


def record(conversation: Conversation, speaker: str, text: str, at: float) -> None:
    """Keep the transcript short enough that saving the conversation stays cheap."""
    clipped = text if len(text) <= LINE_LIMIT else text[: LINE_LIMIT - 1] + "…"
    conversation.transcript = [*conversation.transcript, Line(at, speaker, clipped)][-TRANSCRIPT_LIMIT:]


def described(event: Event, secret: bool, code_asked: bool = False) -> str:
    """What a person sent, as the transcript keeps it: a pressed button by what it does, and no
    secret ever (a password is masked, so is the code of a /start link and whatever is typed where a
    code is asked, `code_asked`)."""
    if secret:
        return PASSWORD_MASK
    if event.kind is EventKind.OTHER:
        return "[pièce jointe]"
    if event.kind is EventKind.BUTTON:
        _, _, action = event.text.partition("|")
        return "[bouton] " + action.replace("|", " ").strip()
    command, _, argument = event.text.partition(" ")
    if event.kind is EventKind.COMMAND and argument.strip():
        return f"{command} {CODE_MASK}"
    if code_asked and event.kind is EventKind.TEXT:
        return CODE_MASK
    return event.text
