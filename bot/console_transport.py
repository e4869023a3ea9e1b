"""The same conversation in a terminal: buttons become numbered choices, passwords are not echoed.

One terminal plays two people in turn: the administrator, and a help-desk agent (`/basculer`
switches), since a second `flexbot run` cannot share the data directory.
"""

import getpass
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from flows.assistant import Assistant
from flows.boundary import Button, Delivery, Event, Reply
from flows.catalogue import Catalogue, catalogue

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


@dataclass
class Role:
    """One of the people the terminal plays: their chat, what they last saw, what waits for them."""

    chat_id: int
    agent: bool
    last: Reply | None = None
    waiting: list[Reply] = field(default_factory=list)


class ConsoleTransport:
    """Reads lines, prints replies; Ctrl-C or Ctrl-D ends it. `language` is the person's (fr or en)."""

    def __init__(self, assistant: Assistant, write: Callable[[str], None] = print,
                 read: Callable[[str], str] = input, read_secret: Callable[[str], str] = getpass.getpass,
                 chat_id: int = CONSOLE_CHAT_ID, language: str = "fr", agent_id: int = CONSOLE_AGENT_ID) -> None:
        self.assistant, self.language = assistant, language
        self.write, self.read, self.read_secret = write, read, read_secret
        self.admin, self.agent = Role(chat_id, agent=False), Role(agent_id, agent=True)
        self.role = self.admin
        self.current = Reply("")  # the question on screen: what the numbers press, whether it is secret
        self.choices: list[Button] = []
        self.texts = catalogue(language)

    def run(self, intro: str = "", first_steps: str = "") -> None:
        """`first_steps` (how to open a subscription) is printed only when there is no journey to resume."""
        if intro:
            self.write(intro)
        if first_steps and not self.assistant.resumable(self.admin.chat_id):
            self.write(first_steps)
        self.handle(Event.command("/start", language=self.language))
        try:
            while True:
                self._take(self.read_secret if self.current.secret_answer else self.read)
        except (EOFError, KeyboardInterrupt):
            self.write("")

    def _take(self, read: Callable[[str], str]) -> None:
        """One line: the switch between the terminal's people, a hint here, or an event for the assistant
        (an agent writes freely: their text goes to the administrator)."""
        line = read("> ")
        if line.strip().lower() in SWITCH_COMMANDS:
            self.switch()
            return
        hint = None if self.role.agent else misplaced(line, self.current, self.choices, self.texts)
        if hint is None:
            self.handle(event_from_line(line, self.choices, self.language))
        else:
            self.write(hint)

    def handle(self, event: Event) -> None:
        """One line from whoever the terminal is playing; their replies are printed, the other's kept."""
        if self.role.agent:
            event = replace(event, sender_id=self.agent.chat_id, sender_name=CONSOLE_AGENT_NAME, agent=True)
        outcome = self.assistant.handle(self.role.chat_id, event)
        for reply in outcome.replies:  # in Telegram's order: the answer, then messages such as the rating question
            self.show(reply)
        for delivery in outcome.deliveries:
            self._deliver(delivery)

    def show(self, reply: Reply) -> None:
        """Printed; a reply with buttons becomes the question on screen (a bare message keeps the last)."""
        text, choices = render(reply)
        self.write(text)
        if reply.buttons:
            self.current, self.choices, self.role.last = reply, choices, reply

    def switch(self) -> None:
        """The terminal now plays the other person: what waited for them, or where they stood."""
        self.role = self.agent if self.role is self.admin else self.admin
        self.current, self.choices = Reply(""), []
        self.write(self.texts.text("console.now_agent" if self.role.agent else "console.now_admin"))
        waiting, self.role.waiting = self.role.waiting, []
        for reply in waiting:
            self.show(reply)
        if waiting:
            return
        if self.role.last is not None:
            self.show(self.role.last)
        elif self.role.agent:
            self.handle(Event.command("/file", language=self.language))

    def _deliver(self, delivery: Delivery) -> None:
        """A message for one of the terminal's people; any other chat (an invited user's) is not here.
        It comes from the help desk, where typing is always for someone: no hint keeps text back."""
        reply = Reply(delivery.text, delivery.buttons, typed_answer=True)
        if delivery.chat_id == self.role.chat_id:
            self.show(reply)
            return
        other = self.agent if self.role is self.admin else self.admin
        if delivery.chat_id == other.chat_id:
            other.waiting.append(reply)
            self.write(self.texts.text("console.waiting_agent" if other.agent else "console.waiting_admin"))
