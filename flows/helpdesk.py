"""Help-desk agents: the queue of requests, joining a conversation, talking through the bot,
sending the administrator back to a step, and handing the conversation back.

Who is an agent is decided by the transport from configuration (`Event.agent`); everything an
agent does is written to the audit log. Agents never see a password: it is masked in the
transcript when received and never part of the recap.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

from flows.boundary import Button, Delivery, Event, EventKind, Outcome, Reply, Topic
from flows.catalogue import Catalogue, catalogue, language_for
from flows.journey import STEP_COUNT, STEPS, step_of
from flows.records import AgentSession, AuditEntry, Conversation, Helper, HelpQueue, Line, Ticket
from flows.ports import Store
from flows.steps.base import Toolkit
from flows.summary import summary

AGENT_COMMANDS = {"file": "queue", "queue": "queue", "rejoindre": "join", "join": "join",
                  "quitter": "leave", "leave": "leave"}
STATE_COMMANDS = {"etat", "state", "status"}
AGENT_BUTTON = "hd"
TRANSCRIPT_LIMIT = 40
LINE_LIMIT = 300
RECAP_LINES = 20
PASSWORD_MASK = "••••••"


def command_name(text: str) -> str:
    return text.lstrip("/").split(" ", 1)[0].split("@", 1)[0].lower()


def record(conversation: Conversation, speaker: str, text: str, at: float) -> None:
    """Keep the transcript short enough that saving the conversation stays cheap."""
    clipped = text if len(text) <= LINE_LIMIT else text[: LINE_LIMIT - 1] + "…"
    conversation.transcript = [*conversation.transcript, Line(at, speaker, clipped)][-TRANSCRIPT_LIMIT:]


def described(event: Event, secret: bool) -> str:
    """What a person sent, as the transcript keeps it."""
    if secret:
        return PASSWORD_MASK
    return event.text if event.kind is not EventKind.OTHER else "[pièce jointe]"


@dataclass(frozen=True)
class Questioner:
    """What the help desk needs from the assistant: the current question of any conversation."""

    question: Callable[[Conversation], Reply]


class HelpDesk:
    def __init__(self, toolkit: Toolkit, questioner: Questioner) -> None:
        self.toolkit = toolkit
        self.questioner = questioner

    @property
    def store(self) -> Store:
        return self.toolkit.store

    def concerns(self, chat_id: int, event: Event) -> bool:
        """Agent commands, agent buttons, the support group, and whatever an assisting agent says."""
        if chat_id == self.toolkit.settings.helpdesk_chat_id:
            return True
        if event.kind is EventKind.COMMAND and command_name(event.text) in AGENT_COMMANDS:
            return True
        if event.kind is EventKind.BUTTON and event.text.startswith(AGENT_BUTTON + "|"):
            return True
        if not event.agent or event.sender_id is None:
            return False
        session = self.store.load_agent(event.sender_id)
        assisting = session is not None and session.assisting is not None
        return assisting and (event.kind is not EventKind.COMMAND or command_name(event.text) in STATE_COMMANDS)

    # The administrator's side.

    def request(self, conversation: Conversation, requester: str, texts: Catalogue) -> tuple[str, list[Delivery]]:
        """Queue the conversation (once) and tell every agent; returns what to say and the notices."""
        queue = self.store.load_queue()
        ticket = queue.ticket(conversation.help_ticket)
        if ticket is not None:
            return texts.text("help.already_queued", ticket=ticket.number, position=_position(queue, ticket)), []
        ticket = Ticket(queue.next_number, conversation.chat_id, conversation.subscription_number, requester,
                        self.now)
        queue.next_number += 1
        queue.tickets.append(ticket)
        self.store.save_queue(queue)
        conversation.help_ticket = ticket.number
        self.audit(ticket, f"chat:{conversation.chat_id}", "help_requested", state=conversation.state)
        said = texts.text("help.queued", ticket=ticket.number, position=_position(queue, ticket))
        return said, self.notify_agents(ticket, conversation)

    def cancel(self, conversation: Conversation) -> None:
        queue = self.store.load_queue()
        ticket = queue.ticket(conversation.help_ticket)
        if ticket is not None and not ticket.helpers:
            queue.tickets.remove(ticket)
            self.store.save_queue(queue)
            self.audit(ticket, f"chat:{conversation.chat_id}", "help_cancelled")
        conversation.help_ticket = None

    def end(self, conversation: Conversation) -> list[Delivery]:
        """The administrator presses Terminer l'aide: every agent in it is told and let go."""
        queue = self.store.load_queue()
        ticket = queue.ticket(conversation.help_ticket)
        deliveries = []
        for helper in conversation.helpers:
            self.release(helper.id)
            text = catalogue("fr").text("agent.admin_ended", requester=_requester(ticket), ticket=_number(ticket))
            deliveries.append(Delivery(helper.id, text))
        self.resolve(queue, ticket, conversation, f"chat:{conversation.chat_id}")
        return deliveries

    def relay_from_admin(self, conversation: Conversation, event: Event) -> list[Delivery]:
        """While agents are in, what the administrator sends goes to them, not to the assistant."""
        ticket = self.store.load_queue().ticket(conversation.help_ticket)
        text = catalogue("fr").text("agent.from_admin", requester=_requester(ticket), text=event.text)
        notice = catalogue(conversation.language).text
        return [
            *(self.pass_on(helper.id, text, event, notice("help.undelivered", name=helper.first_name))
              for helper in conversation.helpers if not helper.in_topic),
            *self.to_topic(ticket, text, event),
        ]

    # The agents' side.

    def handle_agent(self, chat_id: int, event: Event) -> Outcome:
        texts = catalogue(language_for(event.language))
        chatter = event.kind in {EventKind.TEXT, EventKind.OTHER}
        if chatter and not event.agent and chat_id == self.toolkit.settings.helpdesk_chat_id:
            return Outcome()  # group chatter from a non-agent is none of the bot's business
        if not event.agent or event.sender_id is None:
            self.audit(None, f"user:{event.sender_id}", "agent_command_refused")
            return Outcome((Reply(texts.text("agent.reserved")),))
        session = self.store.load_agent(event.sender_id) or AgentSession(event.sender_id, event.sender_name)
        session.first_name = event.sender_name or session.first_name
        desk = _AgentTurn(self, session, chat_id, event, texts)
        outcome = desk.run()
        self.store.save_agent(session)
        return outcome

    # Shared plumbing.

    @property
    def now(self) -> float:
        return self.toolkit.clock()

    def audit(self, ticket: Ticket | None, actor: str, action: str, **details: object) -> None:
        number = ticket.subscription_number if ticket and ticket.subscription_number else ""
        if ticket is not None:
            details["ticket"] = ticket.number
        self.store.append_audit(AuditEntry(self.now, number, actor, action, dict(details)))

    def notify_agents(self, ticket: Ticket, conversation: Conversation) -> list[Delivery]:
        texts = catalogue("fr")
        card = texts.text("agent.notification", ticket=ticket.number, requester=ticket.requester,
                          subscription=ticket.subscription_number or "—", step=step_label(conversation.state, texts))
        join = ((Button("✋ " + texts.text("agent.button_join"), f"{AGENT_BUTTON}|join|{ticket.number}"),),)
        deliveries = [Delivery(chat, card, join) for chat in sorted(self.toolkit.settings.agent_ids)]
        group = self.toolkit.settings.helpdesk_chat_id
        if group is not None:
            topic = Topic(texts.text("agent.topic_name", ticket=ticket.number, requester=ticket.requester), ticket.number)
            deliveries.append(Delivery(group, card, join, topic=topic))
        return deliveries

    def topic_opened(self, ticket_number: int, thread_id: int) -> None:
        """The support group is a forum: this request's messages go to its own topic from now on."""
        queue = self.store.load_queue()
        ticket = queue.ticket(ticket_number)
        if ticket is not None:
            ticket.thread_id = thread_id
            self.store.save_queue(queue)

    def to_topic(self, ticket: Ticket | None, text: str, event: Event, from_topic: bool = False) -> list[Delivery]:
        """The request's forum topic keeps the whole exchange, when there is one."""
        group = self.toolkit.settings.helpdesk_chat_id
        if ticket is None or ticket.thread_id is None or group is None or from_topic:
            return []
        return [self.pass_on(group, text, event, None, ticket.thread_id)]

    def pass_on(self, chat_id: int, text: str, event: Event, failure_notice: str | None,
                thread_id: int | None = None) -> Delivery:
        """Text as text; a photo, a document or anything else as a copy captioned with who sent it."""
        if event.kind is EventKind.OTHER and event.message_id is not None:
            caption = text if event.text else text.rstrip(": ").rstrip()
            return Delivery(chat_id, caption, copy_message_id=event.message_id, thread_id=thread_id,
                            failure_notice=failure_notice)
        return Delivery(chat_id, text, thread_id=thread_id, failure_notice=failure_notice)

    def release(self, agent_id: int) -> None:
        session = self.store.load_agent(agent_id)
        if session is not None:
            session.assisting = None
            self.store.save_agent(session)

    def resolve(self, queue: HelpQueue, ticket: Ticket | None, conversation: Conversation, actor: str) -> None:
        if ticket is not None and ticket in queue.tickets:
            queue.tickets.remove(ticket)
            self.store.save_queue(queue)
            self.audit(ticket, actor, "help_resolved")
        conversation.help_ticket, conversation.helpers = None, []


class _AgentTurn:
    """One agent event: a command, a button, or a message for the conversation being assisted."""

    def __init__(self, desk: HelpDesk, session: AgentSession, chat_id: int, event: Event, texts: Catalogue) -> None:
        self.desk, self.session, self.chat_id, self.event, self.texts = desk, session, chat_id, event, texts
        self.store = desk.store
        self.replies: list[Reply] = []
        self.deliveries: list[Delivery] = []

    def run(self) -> Outcome:
        event = self.event
        if event.kind is EventKind.COMMAND:
            name = command_name(event.text)
            action = AGENT_COMMANDS.get(name, "state" if name in STATE_COMMANDS else "")
            argument = event.text.partition(" ")[2].strip().lstrip("n°#").strip()
            self._act(action, argument)
        elif event.kind is EventKind.BUTTON:
            _, action, rest = event.text.split("|", 2) if event.text.count("|") >= 2 else ("", "", "")
            self._act(action, rest)
        elif self._topic_ticket() is not None:
            self._say_in_topic()
        elif self.session.assisting is not None:
            self._say_to_admin()
        elif self.chat_id != self.desk.toolkit.settings.helpdesk_chat_id:
            self._reply("agent.not_assisting")
        return Outcome(tuple(self.replies), deliveries=tuple(self.deliveries))

    def _topic_ticket(self) -> Ticket | None:
        if self.chat_id != self.desk.toolkit.settings.helpdesk_chat_id or self.event.thread_id is None:
            return None
        return self.store.load_queue().in_topic(self.event.thread_id)

    def _say_in_topic(self) -> None:
        """Writing in a request's topic joins it if need be; the message goes to the administrator."""
        ticket = self._topic_ticket()
        assert ticket is not None
        if self.session.assisting != ticket.number:
            self._join(ticket.number, quiet=True)
        self._say_to_admin(from_topic=True)

    def _reply(self, key: str, buttons: tuple[tuple[Button, ...], ...] = (), **values: object) -> None:
        self.replies.append(Reply(self.texts.text(key, **values), buttons))

    def _act(self, action: str, argument: str) -> None:
        if action == "queue":
            self._list_queue()
        elif action == "join" and argument.isdigit():
            self._join(int(argument))
        elif action == "join":
            self._reply("agent.usage_join")
        elif action == "leave":
            self._leave()
        elif action == "state":
            self._show_state()
        elif action == "steer":
            number, _, step = argument.partition("|")
            self._steer(int(number) if number.isdigit() else -1, step)
        else:
            self._reply("agent.unknown")

    def _list_queue(self) -> None:
        self.desk.audit(None, f"agent:{self.session.agent_id}", "agent_listed_queue")
        queue = self.store.load_queue()
        if not queue.tickets:
            self._reply("agent.queue_empty")
            return
        lines = [self.texts.text("agent.queue_header", count=len(queue.waiting()))]
        for ticket in queue.tickets:
            conversation = self.store.load_conversation(ticket.chat_id)
            helpers = ", ".join(h.first_name for h in ticket.helpers)
            lines.append(self.texts.text(
                "agent.queue_line", ticket=ticket.number, requester=ticket.requester,
                subscription=ticket.subscription_number or "—",
                step=step_label(conversation.state if conversation else "", self.texts),
                waited=_minutes(self.desk.now - ticket.requested_at),
                helpers=self.texts.text("agent.queue_helpers", names=helpers) if helpers else ""))
        buttons = tuple((Button(f"✋ {self.texts.text('agent.button_join')} n° {t.number}",
                                f"{AGENT_BUTTON}|join|{t.number}"),) for t in queue.tickets[:10])
        self.replies.append(Reply("\n".join(lines), buttons))

    def _assisted(self) -> tuple[HelpQueue, Ticket, Conversation] | None:
        queue = self.store.load_queue()
        ticket = queue.ticket(self.session.assisting)
        conversation = self.store.load_conversation(ticket.chat_id) if ticket else None
        if ticket is None or conversation is None:
            self.session.assisting = None
            return None
        return queue, ticket, conversation

    def _join(self, number: int, quiet: bool = False) -> None:
        queue = self.store.load_queue()
        ticket = queue.ticket(number)
        conversation = self.store.load_conversation(ticket.chat_id) if ticket else None
        if ticket is None or conversation is None:
            self._reply("agent.no_such_ticket", ticket=number)
            return
        if self.session.assisting not in (None, number):
            self._leave()
            queue = self.store.load_queue()
            ticket = queue.ticket(number)
            assert ticket is not None
        me = Helper(self.session.agent_id, self.session.first_name, in_topic=quiet)
        if all(h.id != me.id for h in ticket.helpers):
            self._tell_colleagues(ticket, self.texts.text("agent.colleague_joined", name=me.first_name,
                                                          ticket=number), from_topic=quiet)
            ticket.helpers.append(me)
            conversation.helpers = [*conversation.helpers, me]
            say = catalogue(conversation.language).text("help.agent_joined", name=me.first_name)
            record(conversation, "bot", say, self.desk.now)
            self._tell_admin(conversation, say, ticket.requester)
            self.store.save_queue(queue)
        self.session.assisting = number
        self.desk.audit(ticket, f"agent:{me.id}", "agent_joined")
        if quiet:
            return
        joined = self.texts.text("agent.joined", ticket=number, requester=ticket.requester)
        self.replies.append(Reply(f"{joined}\n\n{self._recap(ticket, conversation)}",
                                  self._steer_buttons(ticket, conversation)))

    def _recap(self, ticket: Ticket, conversation: Conversation) -> str:
        """Where the administrator stands and what they answered; the password never, not even its length."""
        t = self.texts.text
        parts = [t("agent.recap_header", ticket=ticket.number, requester=ticket.requester,
                   step=step_label(conversation.state, self.texts))]
        account = self.store.load_subscription(conversation.subscription_number or "")
        if account is not None:
            parts.append(summary(account, self.texts))
        admin = conversation.answers.get("admin", {})
        if admin:
            parts.append(t("agent.recap_answers", last_name=admin.get("last_name", "—"),
                           first_name=admin.get("first_name", "—"), email=admin.get("email", "—"),
                           password=t("agent.password_set" if "password_hash" in admin else "agent.password_unset")))
        lines = conversation.transcript[-RECAP_LINES:]
        if lines:
            parts.append(t("agent.transcript_header") + "\n" + "\n".join(
                f"[{time.strftime('%H:%M', time.localtime(line.at))}] {line.speaker} : {line.text}" for line in lines))
        return "\n\n".join(parts)

    def _steer_buttons(self, ticket: Ticket, conversation: Conversation) -> tuple[tuple[Button, ...], ...]:
        """One button for each step the administrator has already reached."""
        reached = [s for s in map(step_of, [*conversation.history, conversation.state]) if s is not None]
        if conversation.subscription_number is None or not reached:
            return ()
        return tuple(
            (Button("↩️ " + self.texts.text("agent.steer_button", step=step, title=self.texts.text(f"step.{step}")),
                    f"{AGENT_BUTTON}|steer|{ticket.number}|{step}"),)
            for step in range(1, max(reached) + 1)
        )

    def _show_state(self) -> None:
        assisted = self._assisted()
        if assisted is None:
            self._reply("agent.not_assisting")
            return
        _, ticket, conversation = assisted
        self.desk.audit(ticket, f"agent:{self.session.agent_id}", "agent_viewed_state")
        self.replies.append(Reply(self._recap(ticket, conversation), self._steer_buttons(ticket, conversation)))

    def _steer(self, number: int, step: str) -> None:
        assisted = self._assisted()
        if assisted is None or assisted[1].number != number or not step.isdigit() or int(step) not in STEPS:
            self._reply("agent.not_assisting")
            return
        _, ticket, conversation = assisted
        conversation.state = step_entry(int(step), conversation)
        conversation.answers.pop("revising", None)
        say = catalogue(conversation.language).text(
            "help.steered", name=self.session.first_name, step=step,
            title=catalogue(conversation.language).text(f"step.{step}"))
        record(conversation, f"agent:{self.session.first_name}", say, self.desk.now)
        self._tell_admin(conversation, say, ticket.requester)
        self.desk.audit(ticket, f"agent:{self.session.agent_id}", "agent_steered", step=int(step))
        self._reply("agent.steered", requester=ticket.requester, step=step)

    def _leave(self) -> None:
        assisted = self._assisted()
        if assisted is None:
            self._reply("agent.not_assisting")
            return
        queue, ticket, conversation = assisted
        ticket.helpers = [h for h in ticket.helpers if h.id != self.session.agent_id]
        conversation.helpers = [h for h in conversation.helpers if h.id != self.session.agent_id]
        self._tell_colleagues(ticket, self.texts.text("agent.colleague_left", name=self.session.first_name,
                                                      ticket=ticket.number))
        texts = catalogue(conversation.language)
        say = texts.text("help.agent_left", name=self.session.first_name)
        if not ticket.helpers:
            self.desk.resolve(queue, ticket, conversation, f"agent:{self.session.agent_id}")
            say += "\n\n" + texts.text("help.ended")
        else:
            self.store.save_queue(queue)
        record(conversation, "bot", say, self.desk.now)
        self._tell_admin(conversation, say, ticket.requester)
        self.desk.audit(ticket, f"agent:{self.session.agent_id}", "agent_left")
        self.session.assisting = None
        self._reply("agent.left", ticket=ticket.number)

    def _say_to_admin(self, from_topic: bool = False) -> None:
        assisted = self._assisted()
        if assisted is None:
            self._reply("agent.not_assisting")
            return
        _, ticket, conversation = assisted
        name = self.session.first_name
        texts = catalogue(conversation.language)
        record(conversation, f"agent:{name}", described(self.event, secret=False), self.desk.now)
        self.deliveries.append(self.desk.pass_on(
            conversation.chat_id, texts.text("help.from_agent", name=name, text=self.event.text), self.event,
            self.texts.text("agent.undelivered", requester=ticket.requester)))
        self._tell_colleagues(ticket, self.texts.text("agent.from_colleague", name=name, text=self.event.text),
                              from_topic)
        self.store.save_conversation(conversation)
        self.desk.audit(ticket, f"agent:{self.session.agent_id}", "agent_message")

    def _tell_colleagues(self, ticket: Ticket, text: str, from_topic: bool = False) -> None:
        """The other agents in the request, each in their private chat, and the request's topic."""
        for colleague in ticket.helpers:
            if colleague.id != self.session.agent_id and not colleague.in_topic:
                self.deliveries.append(self.desk.pass_on(
                    colleague.id, text, self.event, self.texts.text("agent.undelivered", requester=colleague.first_name)))
        self.deliveries.extend(self.desk.to_topic(ticket, text, self.event, from_topic))

    def _tell_admin(self, conversation: Conversation, say: str, requester: str) -> None:
        """Say something to the administrator, followed by their current question, and save the chat."""
        question = self.desk.questioner.question(conversation)
        self.deliveries.append(Delivery(conversation.chat_id, f"{say}\n\n{question.text}", question.buttons,
                                        failure_notice=self.texts.text("agent.undelivered", requester=requester)))
        self.store.save_conversation(conversation)


def step_entry(step: int, conversation: Conversation) -> str:
    """Where sending the administrator back to a step lands: its review when it has one and is filled in."""
    if step == 1 and {"last_name", "first_name", "email", "password_hash"} <= conversation.answers.get("admin", {}).keys():
        return "reviewing_admin"
    return STEPS[step][0]


def step_label(state: str, texts: Catalogue) -> str:
    step = step_of(state)
    if step is None:
        return texts.text("agent.step_menu" if state == "in_menu" else "agent.step_entry")
    return texts.text("progress", step=step, total=STEP_COUNT, title=texts.text(f"step.{step}"))


def _position(queue: HelpQueue, ticket: Ticket) -> int:
    waiting = queue.waiting()
    return waiting.index(ticket) + 1 if ticket in waiting else 0


def _minutes(seconds: float) -> str:
    return f"{max(0, int(seconds // 60))} min"


def _requester(ticket: Ticket | None) -> str:
    return ticket.requester if ticket else "?"


def _number(ticket: Ticket | None) -> int:
    return ticket.number if ticket else 0
