"""The same conversation in a terminal: buttons become numbered choices, passwords are not echoed."""

import getpass
from collections.abc import Callable

from flows.assistant import Assistant
from flows.boundary import Button, Event, Reply

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


def event_from_line(line: str, choices: list[Button]) -> Event:
    text = line.strip()
    if text.isdigit() and 1 <= int(text) <= len(choices):
        return Event.pressed(choices[int(text) - 1].data or "")
    if text.startswith("/"):
        return Event.command(text)
    return Event.typed(text)


class ConsoleTransport:
    """Reads lines, prints replies; Ctrl-C or Ctrl-D ends it."""

    def __init__(self, assistant: Assistant, write: Callable[[str], None] = print,
                 read: Callable[[str], str] = input, read_secret: Callable[[str], str] = getpass.getpass,
                 chat_id: int = CONSOLE_CHAT_ID) -> None:
        self.assistant, self.chat_id = assistant, chat_id
        self.write, self.read, self.read_secret = write, read, read_secret

    def run(self, intro: str = "") -> None:
        if intro:
            self.write(intro)
        reply = self.handle(Event.command("/start"))
        try:
            while True:
                text, choices = render(reply)
                self.write(text)
                line = (self.read_secret if reply.secret_answer else self.read)("> ")
                reply = self.handle(event_from_line(line, choices))
        except (EOFError, KeyboardInterrupt):
            self.write("")

    def handle(self, event: Event) -> Reply:
        outcome = self.assistant.handle(self.chat_id, event)
        return outcome.replies[-1]
