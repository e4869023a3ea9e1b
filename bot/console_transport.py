"""The same conversation in a terminal: buttons become numbered choices, passwords are not echoed."""

import getpass
from collections.abc import Callable

from flows.assistant import Assistant
from flows.boundary import Button, Event, Reply
from flows.catalogue import Catalogue, catalogue

CONSOLE_CHAT_ID = 1


def render(reply: Reply) -> tuple[str, list[Button]]:
    """The reply as terminal text, and the buttons in the order their numbers were printed."""
    lines, choices = [reply.text, ""], []
    for button in (b for row in reply.buttons for b in row):
        if button.url:
            lines.append(f"  🔗 {button.label}: {button.url}")
        else:
            choices.append(button)
            lines.append(f"  {len(choices)}) {button.label}")
    return "\n".join(lines), choices


def event_from_line(line: str, choices: list[Button], language: str | None = None) -> Event:
    text = line.strip()
    if text.isdigit() and 1 <= int(text) <= len(choices):
        return Event.pressed(choices[int(text) - 1].data or "", language=language)
    if text.startswith("/"):
        return Event.command(text, language=language)
    return Event.typed(text, language=language)


def misplaced(line: str, reply: Reply, choices: list[Button], texts: Catalogue) -> str | None:
    """What to say, here and now, to a line that cannot answer the question: an empty line, or, where only
    the numbered choices answer, a number out of range or text. The terminal has no buttons to point at,
    so it names the numbers that work. None when the line goes to the assistant."""
    text = line.strip()
    pressed = text.isdigit() and 1 <= int(text) <= len(choices)
    if not choices or pressed or text.startswith("/") or (reply.typed_answer and text):
        return None
    key = "console.answer_or_choose" if reply.typed_answer else "console.choose"
    return texts.plural(key, len(choices))


class ConsoleTransport:
    """Reads lines, prints replies; Ctrl-C or Ctrl-D ends it. `language` is the person's (fr or en)."""

    def __init__(self, assistant: Assistant, write: Callable[[str], None] = print,
                 read: Callable[[str], str] = input, read_secret: Callable[[str], str] = getpass.getpass,
                 chat_id: int = CONSOLE_CHAT_ID, language: str = "fr") -> None:
        self.assistant, self.chat_id, self.language = assistant, chat_id, language
        self.write, self.read, self.read_secret = write, read, read_secret

    def run(self, intro: str = "", first_steps: str = "") -> None:
        """`first_steps` (how to open a subscription) is printed only when there is no journey to resume."""
        if intro:
            self.write(intro)
        if first_steps and not self.assistant.resumable(self.chat_id):
            self.write(first_steps)
        reply = self.handle(Event.command("/start", language=self.language))
        try:
            while True:
                text, choices = render(reply)
                self.write(text)
                reply = self._next_reply(reply, choices)
        except (EOFError, KeyboardInterrupt):
            self.write("")

    def _next_reply(self, reply: Reply, choices: list[Button]) -> Reply:
        """Reads until a line the assistant can take; the others are answered here, the question kept."""
        while True:
            line = (self.read_secret if reply.secret_answer else self.read)("> ")
            hint = misplaced(line, reply, choices, catalogue(self.language))
            if hint is None:
                return self.handle(event_from_line(line, choices, self.language))
            self.write(hint)

    def handle(self, event: Event) -> Reply:
        outcome = self.assistant.handle(self.chat_id, event)
        return outcome.replies[-1]
