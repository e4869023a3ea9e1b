"""What the help desk's two sides share — the administrators' (`desk`) and the agents' (`agent_turn`):
the store and clock, the audit trail, relaying a message, resolving a request. Both import it; it
imports neither."""

from collections.abc import Callable
from dataclasses import dataclass

from flows.boundary import Delivery, Event, EventKind, Reply
from flows.ports import Store
from flows.records import AuditEntry, Conversation, HelpQueue, Ticket
from flows.steps.base import Toolkit


@dataclass(frozen=True)
class Questioner:
    """What the help desk needs from the assistant: the current question of any conversation."""

    question: Callable[[Conversation], Reply]


class DeskPlumbing:
    def __init__(self, toolkit: Toolkit, questioner: Questioner) -> None:
        self.toolkit = toolkit
        self.questioner = questioner

    @property
    def store(self) -> Store:
        return self.toolkit.store

    @property
    def now(self) -> float:
        return self.toolkit.clock()

    def audit(self, ticket: Ticket | None, actor: str, action: str, **details: object) -> None:
        number = ticket.subscription_number if ticket and ticket.subscription_number else ""
        if ticket is not None:
            details["ticket"] = ticket.number
        self.store.append_audit(AuditEntry(self.now, number, actor, action, dict(details)))

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
