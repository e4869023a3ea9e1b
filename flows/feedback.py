"""The article's closing question, « utile ? » rated 1 to 5: asked once about the assistant when the
download step is shown, and once after each help session an agent took part in; an optional comment
may follow (bounded, and never kept when it may be a password: `flows.secrecy` decides).

The question lives outside the journey's tables, like the help desk: its buttons carry their own
feedback key, so they work whatever question the conversation is at, and pressing them never moves it.
"""

from flows.boundary import Button, Delivery, Event, EventKind, Outcome, Reply
from flows.catalogue import catalogue
from flows.journey import step_of
from flows.records import AuditEntry, Conversation, Feedback, Helper, Ticket
from flows.steps.base import Toolkit

FEEDBACK_BUTTON = "fb"
RATINGS = range(1, 6)
COMMENT_LIMIT = 500  # characters kept of a comment
ASSISTANT, HELP = "assistant", "help"


def after_step(toolkit: Toolkit, conversation: Conversation) -> list[Delivery]:
    """The question about the assistant, the first time an administrator is shown the download step."""
    if conversation.state != "showing_downloads" or conversation.user_id is not None:
        return []
    return _ask(toolkit, conversation, Feedback(f"{ASSISTANT}-{conversation.chat_id}", ASSISTANT,
                                                conversation.chat_id, conversation.subscription_number, 4,
                                                toolkit.clock()))


def after_help(toolkit: Toolkit, conversation: Conversation, ticket: Ticket | None,
               helpers: list[Helper]) -> list[Delivery]:
    """The question about the advisers, once a help session some agent joined is over."""
    if ticket is None or not helpers:
        return []
    return _ask(toolkit, conversation, Feedback(f"{HELP}-{ticket.number}", HELP, conversation.chat_id,
                                                conversation.subscription_number, step_of(conversation.state),
                                                toolkit.clock(), ticket.number, [h.id for h in helpers]))


def _ask(toolkit: Toolkit, conversation: Conversation, feedback: Feedback) -> list[Delivery]:
    store = toolkit.store
    if store.load_feedback(feedback.key) is not None:  # asked once each
        return []
    store.save_feedback(feedback)
    _audit(toolkit, feedback, "feedback_asked")
    texts = catalogue(conversation.language)
    buttons = (tuple(Button(str(n), f"{FEEDBACK_BUTTON}|{feedback.key}|{n}") for n in RATINGS),)
    return [Delivery(conversation.chat_id, texts.text(f"feedback.ask_{feedback.topic}"), buttons)]


def concerns(conversation: Conversation, event: Event) -> bool:
    """A rating button, or the text that follows a rating (its optional comment)."""
    if event.kind is EventKind.BUTTON:
        return event.text.startswith(FEEDBACK_BUTTON + "|")
    return event.kind is EventKind.TEXT and conversation.feedback_comment is not None


def forget_comment(conversation: Conversation) -> None:
    """Anything but a text after the rating means no comment is coming."""
    conversation.feedback_comment = None


def answer(toolkit: Toolkit, conversation: Conversation, event: Event, secret: bool) -> Outcome:
    """Keeps a rating or a comment; `secret`: the text may be a password, so it is not kept."""
    if event.kind is EventKind.BUTTON:
        return _rate(toolkit, conversation, event.text)
    texts = catalogue(conversation.language)
    feedback = toolkit.store.load_feedback(conversation.feedback_comment or "")
    conversation.feedback_comment = None
    if secret:
        return Outcome((Reply(texts.text("feedback.comment_refused")),), delete_incoming=True)
    if feedback is None or feedback.chat_id != conversation.chat_id:
        return Outcome((Reply(texts.text("feedback.comment_kept")),))
    feedback.comment = event.text.strip()[:COMMENT_LIMIT]
    toolkit.store.save_feedback(feedback)
    _audit(toolkit, feedback, "feedback_commented", comment=feedback.comment)
    agents = _to_agents(feedback, "agent.session_commented", comment=feedback.comment)
    return Outcome((Reply(texts.text("feedback.comment_kept")),), deliveries=tuple(agents))


def _rate(toolkit: Toolkit, conversation: Conversation, data: str) -> Outcome:
    texts = catalogue(conversation.language)
    _, key, rating = (data.split("|") + ["", ""])[:3]
    feedback = toolkit.store.load_feedback(key)
    if feedback is None or feedback.chat_id != conversation.chat_id or rating not in {str(n) for n in RATINGS}:
        return Outcome(notice=texts.text("notice.stale_button"), in_place=False)
    if feedback.rating is not None:
        return Outcome(notice=texts.text("feedback.already"), in_place=False)
    feedback.rating, feedback.rated_at = int(rating), toolkit.clock()
    toolkit.store.save_feedback(feedback)
    conversation.feedback_comment = feedback.key
    _audit(toolkit, feedback, "feedback_rated", rating=feedback.rating)
    agents = _to_agents(feedback, "agent.session_rated", rating=feedback.rating)
    return Outcome((Reply(texts.text("feedback.thanks", rating=feedback.rating, limit=COMMENT_LIMIT)),),
                   deliveries=tuple(agents))


def _to_agents(feedback: Feedback, key: str, **values: object) -> list[Delivery]:
    """The agents of a help session see what it was rated (agents read French, as everywhere on the desk)."""
    text = catalogue("fr").text(key, ticket=feedback.ticket or 0, **values)
    return [Delivery(agent, text) for agent in feedback.agents]


def _audit(toolkit: Toolkit, feedback: Feedback, action: str, **details: object) -> None:
    """The report reads feedback from the audit trail: the topic, step, ticket and agents ride along."""
    toolkit.store.append_audit(AuditEntry(
        toolkit.clock(), feedback.subscription_number or "", f"chat:{feedback.chat_id}", action,
        {"topic": feedback.topic, "step": feedback.step, "ticket": feedback.ticket, "agents": feedback.agents,
         **details}))
