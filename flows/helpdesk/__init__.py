"""Help-desk agents: the queue of requests, joining a conversation, talking through the bot,
sending the administrator back to a step, and handing the conversation back.

Who is an agent is decided by the transport from configuration (`Event.agent`); everything an
agent does is written to the audit log. Agents never see a password: it is masked in the
transcript when received and never part of the recap.
"""

from flows.helpdesk.desk import HelpDesk
from flows.helpdesk.plumbing import Questioner
from flows.helpdesk.transcript import described, record

__all__ = ["HelpDesk", "Questioner", "described", "record"]
