"""The same conversation in a terminal: buttons become numbered choices, passwords are not echoed.

One terminal plays two people in turn: the administrator, and a help-desk agent (`/basculer`
switches), since a second `flexbot run` cannot share the data directory.
"""

import getpass
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from flows.assistant import Assistant
from flows.boundary import Button, Delivery, Event, Reply
from flows.catalogue import catalogue

CONSOLE_CHAT_ID = 1
CONSOLE_AGENT_ID = 2  # the terminal's agent: its user id and its private chat with the bot
CONSOLE_AGENT_NAME = "Console"
SWITCH_COMMANDS = frozenset({"/basculer", "/switch"})


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


@dataclass
class Role:
    """One of the people the terminal plays: their chat, what they last saw, what waits for them."""

    chat_id: int
    agent: bool
    last: Reply | None = None
    waiting: list[Reply] = field(default_factory=list)


class ConsoleTransport:
    """Reads lines, prints replies; Ctrl-C or Ctrl-D ends it."""

    def __init__(self, assistant: Assistant, write: Callable[[str], None] = print,
                 read: Callable[[str], str] = input, read_secret: Callable[[str], str] = getpass.getpass,
                 chat_id: int = CONSOLE_CHAT_ID, agent_id: int = CONSOLE_AGENT_ID) -> None:
        self.assistant = assistant
        self.write, self.read, self.read_secret = write, read, read_secret
        self.admin, self.agent = Role(chat_id, agent=False), Role(agent_id, agent=True)
        self.role = self.admin
        self.choices: list[Button] = []
        self.secret = False
        self.texts = catalogue("fr")

    def run(self, intro: str = "") -> None:
        if intro:
            self.write(intro)
        self.handle(Event.command("/start"))
        try:
            while True:
                line = (self.read_secret if self.secret else self.read)("> ")
                if line.strip().lower() in SWITCH_COMMANDS:
                    self.switch()
                else:
                    self.handle(event_from_line(line, self.choices))
        except (EOFError, KeyboardInterrupt):
            self.write("")

    def handle(self, event: Event) -> None:
        """One line from whoever the terminal is playing; their replies are printed, the other's kept."""
        if self.role.agent:
            event = replace(event, sender_id=self.agent.chat_id, sender_name=CONSOLE_AGENT_NAME, agent=True)
        outcome = self.assistant.handle(self.role.chat_id, event)
        for delivery in outcome.deliveries:
            self._deliver(delivery)
        for reply in outcome.replies:
            self.show(reply)

    def show(self, reply: Reply) -> None:
        """Printed; a reply with buttons becomes what the numbers press (a bare message keeps the last)."""
        text, choices = render(reply)
        self.write(text)
        if reply.buttons:
            self.choices, self.secret, self.role.last = choices, reply.secret_answer, reply

    def switch(self) -> None:
        """The terminal now plays the other person: what waited for them, or where they stood."""
        self.role = self.agent if self.role is self.admin else self.admin
        self.choices, self.secret = [], False
        self.write(self.texts.text("console.now_agent" if self.role.agent else "console.now_admin"))
        waiting, self.role.waiting = self.role.waiting, []
        for reply in waiting:
            self.show(reply)
        if waiting:
            return
        if self.role.last is not None:
            self.show(self.role.last)
        elif self.role.agent:
            self.handle(Event.command("/file"))

    def _deliver(self, delivery: Delivery) -> None:
        """A message for one of the terminal's people; any other chat (an invited user's) is not here."""
        reply = Reply(delivery.text, delivery.buttons)
        if delivery.chat_id == self.role.chat_id:
            self.show(reply)
            return
        other = self.agent if self.role is self.admin else self.admin
        if delivery.chat_id == other.chat_id:
            other.waiting.append(reply)
            self.write(self.texts.text("console.waiting_agent" if other.agent else "console.waiting_admin"))
