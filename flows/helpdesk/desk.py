"""The help desk seen from the administrator's side, and the dispatch of agents' events."""

from flows.boundary import CHATTER, Button, Delivery, Event, EventKind, Outcome, Reply, Topic
from flows import feedback, limits
from flows.catalogue import Catalogue, catalogue, language_for
from flows.helpdesk.agent_turn import AgentTurn
from flows.helpdesk.plumbing import DeskPlumbing
from flows.helpdesk.commands import AGENT_BUTTON, AGENT_COMMANDS, STATE_COMMANDS, command_name
from flows.helpdesk.progress import step_label
from flows.journey import ENTRY_STATES
from flows.records import AgentSession, Conversation, HelpQueue, Ticket


class HelpDesk(DeskPlumbing):
    """Requests, cancellations and relays from the administrators' side; agents' turns run in `AgentTurn`."""

    def concerns(self, chat_id: int, event: Event) -> bool:
        """Agent commands, agent buttons, the support group, and whatever an agent says while assisting
        or with no subscription of their own (their other buttons are their own conversation's:
        an agent may also be a user)."""
        if chat_id == self.toolkit.settings.helpdesk_chat_id:
            return True
        if event.kind is EventKind.COMMAND and command_name(event.text) in AGENT_COMMANDS:
            return True
        if event.kind is EventKind.BUTTON and event.text.startswith(AGENT_BUTTON + "|"):
            return True
        if not event.agent or event.sender_id is None:
            return False
        session = self.store.load_agent(event.sender_id)
        if session is None or not (event.kind in CHATTER or event.kind is EventKind.COMMAND
                                   and command_name(event.text) in STATE_COMMANDS):
            return False
        own = self.store.load_conversation(chat_id)
        return session.assisting is not None or own is None or own.state == ENTRY_STATES[0]

    # The administrator's side.

    def request(self, conversation: Conversation, requester: str, texts: Catalogue) -> tuple[str, list[Delivery]]:
        """Queue the conversation (once) and tell every agent; returns what to say and the notices."""
        queue = self.store.load_queue()
        ticket = queue.ticket(conversation.help_ticket)
        if ticket is not None and conversation.helpers:
            names = ", ".join(helper.first_name for helper in conversation.helpers)
            return texts.text("help.already_helped", ticket=ticket.number, names=names), []
        if ticket is not None:
            return texts.text("help.already_queued", ticket=ticket.number, position=_position(queue, ticket)), []
        key = limits.chat_key("help", conversation.chat_id)
        wait = limits.wait(self.store, key, limits.HELP_REQUESTS_PER_CHAT, self.now)
        if wait > 0:
            return texts.plural("limits.help", limits.minutes(wait)), []
        limits.note(self.store, key, limits.HELP_REQUESTS_PER_CHAT, self.now)
        ticket = Ticket(queue.next_number, conversation.chat_id, conversation.subscription_number, requester,
                        self.now)
        queue.next_number += 1
        queue.tickets.append(ticket)
        self.store.save_queue(queue)
        conversation.help_ticket = ticket.number
        self.audit(ticket, f"chat:{conversation.chat_id}", "help_requested", state=conversation.state)
        said = texts.text("help.queued", ticket=ticket.number, position=_position(queue, ticket))
        return said, self.notify_agents(ticket, conversation)

    def cancel(self, conversation: Conversation) -> list[Delivery]:
        """The request leaves the queue; the agents, whose card still says Rejoindre, are told."""
        queue = self.store.load_queue()
        ticket = queue.ticket(conversation.help_ticket)
        conversation.help_ticket = None
        if ticket is None or ticket.helpers:
            return []
        queue.tickets.remove(ticket)
        self.store.save_queue(queue)
        self.audit(ticket, f"chat:{conversation.chat_id}", "help_cancelled")
        if not self.may_notify_agents(conversation.chat_id):
            return []
        text = catalogue("fr").text("agent.request_cancelled", ticket=ticket.number, requester=ticket.requester)
        group = self.toolkit.settings.helpdesk_chat_id
        in_group = [Delivery(group, text, thread_id=ticket.thread_id)] if group is not None else []
        return [*(Delivery(agent, text) for agent in sorted(self.toolkit.settings.agent_ids)), *in_group]

    def end(self, conversation: Conversation) -> list[Delivery]:
        """The administrator presses Terminer l'aide: every agent in it is told and let go."""
        queue = self.store.load_queue()
        ticket = queue.ticket(conversation.help_ticket)
        helpers = list(conversation.helpers)
        text = catalogue("fr").text("agent.admin_ended", requester=_requester(ticket), ticket=_number(ticket))
        deliveries = [Delivery(helper.id, text) for helper in conversation.helpers if not helper.in_topic]
        group = self.toolkit.settings.helpdesk_chat_id
        if ticket is not None and ticket.thread_id is not None and group is not None:
            deliveries.append(Delivery(group, text, thread_id=ticket.thread_id))
        for helper in conversation.helpers:
            self.release(helper.id)
        self.resolve(queue, ticket, conversation, f"chat:{conversation.chat_id}")
        return [*deliveries, *feedback.after_help(self.toolkit, conversation, ticket, helpers)]

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
        chatter = event.kind in CHATTER
        if chatter and not event.agent and chat_id == self.toolkit.settings.helpdesk_chat_id:
            return Outcome()  # group chatter from a non-agent is none of the bot's business
        if not event.agent or event.sender_id is None:
            self.audit(None, f"user:{event.sender_id}", "agent_command_refused")
            return Outcome((Reply(texts.text("agent.reserved")),))
        session = self.store.load_agent(event.sender_id) or AgentSession(event.sender_id, event.sender_name)
        session.first_name = event.sender_name or session.first_name
        desk = AgentTurn(self, session, chat_id, event, texts)
        outcome = desk.run()
        self.store.save_agent(session)
        return outcome

    # Shared plumbing.

    def may_notify_agents(self, chat_id: int) -> bool:
        """Agents hear about one chat's requests a bounded number of times an hour; past that the
        request still waits in /file."""
        key = limits.chat_key("agent-notices", chat_id)
        if limits.wait(self.store, key, limits.AGENT_NOTICES_PER_CHAT, self.now) > 0:
            return False
        limits.note(self.store, key, limits.AGENT_NOTICES_PER_CHAT, self.now)
        return True

    def notify_agents(self, ticket: Ticket, conversation: Conversation) -> list[Delivery]:
        if not self.may_notify_agents(conversation.chat_id):
            return []
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



def _position(queue: HelpQueue, ticket: Ticket) -> int:
    waiting = queue.waiting()
    return waiting.index(ticket) + 1 if ticket in waiting else 0


def _requester(ticket: Ticket | None) -> str:
    return ticket.requester if ticket else "?"


def _number(ticket: Ticket | None) -> int:
    return ticket.number if ticket else 0
