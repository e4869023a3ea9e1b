"""One agent event: a command, a button, or a message for the conversation being assisted."""

import time

from flows.boundary import Button, Delivery, Event, EventKind, Outcome, Reply
from flows import feedback, reminders
from flows.catalogue import Catalogue, catalogue
from flows.helpdesk.plumbing import DeskPlumbing
from flows.helpdesk.commands import AGENT_BUTTON, AGENT_COMMANDS, STATE_COMMANDS, command_name
from flows.helpdesk.progress import step_entry, step_label
from flows.helpdesk.transcript import RECAP_LINES, described, record
from flows.journey import HISTORY_LIMIT, step_of, steps_for
from flows.records import AgentSession, Conversation, Helper, HelpQueue, Ticket
from flows.summary import summary

QUEUE_PAGE = 10  # requests per /file message: ten lines and ten Rejoindre buttons stay readable

class AgentTurn:
    """One agent event: a command, a button, or a message for the conversation being assisted."""

    def __init__(self, desk: DeskPlumbing, session: AgentSession, chat_id: int, event: Event, texts: Catalogue) -> None:
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
            self._list_queue(int(argument) if argument.isdigit() else 1)
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

    def _list_queue(self, page: int = 1) -> None:
        """The open requests, QUEUE_PAGE at a time: Suivant and Précédent page through the rest."""
        self.desk.audit(None, f"agent:{self.session.agent_id}", "agent_listed_queue")
        queue = self.store.load_queue()
        if not queue.tickets:
            self._reply("agent.queue_empty")
            return
        pages = -(-len(queue.tickets) // QUEUE_PAGE)
        page = min(max(page, 1), pages)
        shown = queue.tickets[(page - 1) * QUEUE_PAGE:page * QUEUE_PAGE]
        where = self.texts.text("agent.queue_page", page=page, pages=pages) if pages > 1 else ""
        lines = [self.texts.plural("agent.queue_header", len(queue.waiting()), page=where)]
        lines.extend(map(self._queue_line, shown))
        buttons = [(Button(f"✋ {self.texts.text('agent.button_join')} n° {t.number}",
                           f"{AGENT_BUTTON}|join|{t.number}"),) for t in shown]
        turns = [(self.texts.text(key), f"{AGENT_BUTTON}|queue|{to}")
                 for key, to in (("agent.button_previous", page - 1), ("agent.button_next", page + 1))
                 if 1 <= to <= pages]
        if turns:
            buttons.append(tuple(Button(label, data) for label, data in turns))
        self.replies.append(Reply("\n".join(lines), tuple(buttons)))

    def _queue_line(self, ticket: Ticket) -> str:
        conversation = self.store.load_conversation(ticket.chat_id)
        helpers = ", ".join(h.first_name for h in ticket.helpers)
        return self.texts.text(
            "agent.queue_line", ticket=ticket.number, requester=ticket.requester,
            subscription=ticket.subscription_number or "—",
            step=step_label(conversation.state if conversation else "", self.texts),
            waited=_minutes(self.desk.now - ticket.requested_at),
            helpers=self.texts.text("agent.queue_helpers", names=helpers) if helpers else "")

    def _assisted(self) -> tuple[HelpQueue, Ticket, Conversation] | None:
        """The request the agent is in; when there is none, the agent is told so."""
        queue = self.store.load_queue()
        ticket = queue.ticket(self.session.assisting)
        conversation = self.store.load_conversation(ticket.chat_id) if ticket else None
        if ticket is None or conversation is None:
            self.session.assisting = None
            self._reply("agent.not_assisting")
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
            parts.append(summary(account, self.texts, self.desk.toolkit.settings.reminders.zone(account.time_zone)))
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

    def _steps_reached(self, conversation: Conversation) -> list[int]:
        """The steps the administrator has reached, of those their subscription goes through."""
        reached = [s for s in map(step_of, [*conversation.history, conversation.state]) if s is not None]
        account = self.store.load_subscription(conversation.subscription_number or "")
        if account is None or not reached:
            return []
        return [step for step in steps_for(account.seats) if step <= max(reached)]

    def _steer_buttons(self, ticket: Ticket, conversation: Conversation) -> tuple[tuple[Button, ...], ...]:
        """One button for each step the administrator has already reached."""
        return tuple(
            (Button("↩️ " + self.texts.text("agent.steer_button", step=step, title=self.texts.text(f"step.{step}")),
                    f"{AGENT_BUTTON}|steer|{ticket.number}|{step}"),)
            for step in self._steps_reached(conversation)
        )

    def _show_state(self) -> None:
        assisted = self._assisted()
        if assisted is None:
            return
        _, ticket, conversation = assisted
        self.desk.audit(ticket, f"agent:{self.session.agent_id}", "agent_viewed_state")
        self.replies.append(Reply(self._recap(ticket, conversation), self._steer_buttons(ticket, conversation)))

    def _steer(self, number: int, step: str) -> None:
        assisted = self._assisted()
        if assisted is None:
            return
        if assisted[1].number != number:
            self._reply("agent.not_assisting")
            return
        _, ticket, conversation = assisted
        if not step.isdigit() or int(step) not in self._steps_reached(conversation):
            self._show_state()  # a step this conversation has not reached: where it stands instead
            return
        entry = step_entry(int(step), conversation)
        if entry != conversation.state:  # Retour then comes back to where the agent took them from
            conversation.history = [*conversation.history, conversation.state][-HISTORY_LIMIT:]
        conversation.state = entry
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
            return
        queue, ticket, conversation = assisted
        leaving = [h for h in ticket.helpers if h.id == self.session.agent_id]
        ticket.helpers = [h for h in ticket.helpers if h.id != self.session.agent_id]
        conversation.helpers = [h for h in conversation.helpers if h.id != self.session.agent_id]
        self._tell_colleagues(ticket, self.texts.text("agent.colleague_left", name=self.session.first_name,
                                                      ticket=ticket.number))
        texts = catalogue(conversation.language)
        say = texts.text("help.agent_left", name=self.session.first_name)
        if not ticket.helpers:
            self.desk.resolve(queue, ticket, conversation, f"agent:{self.session.agent_id}")
            reminders.help_ended(self.desk.toolkit, conversation)
            say += "\n\n" + texts.text("help.ended")
        else:
            self.store.save_queue(queue)
        record(conversation, "bot", say, self.desk.now)
        self._tell_admin(conversation, say, ticket.requester)
        if not ticket.helpers:  # the session is over: the article's question about it
            self.deliveries.extend(feedback.after_help(self.desk.toolkit, conversation, ticket, leaving))
        self.desk.audit(ticket, f"agent:{self.session.agent_id}", "agent_left")
        self.session.assisting = None
        self._reply("agent.left", ticket=ticket.number)

    def _say_to_admin(self, from_topic: bool = False) -> None:
        assisted = self._assisted()
        if assisted is None:
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


def _minutes(seconds: float) -> str:
    return f"{max(0, int(seconds // 60))} min"
