"""The article's closing question, « utile ? » rated 1 to 5: asked once about the assistant when the
download step is shown, and once after each help session an agent took part in; an optional comment
may follow once asked for with its button (bounded, and never kept when it may be a password:
`flows.secrecy` decides).

The question lives outside the journey's tables, like the help desk: its buttons carry their own
feedback key, so they work whatever question the conversation is at, and pressing them never moves it.
"""

from collections.abc import Callable

from flows.boundary import Button, Delivery, Event, EventKind, Outcome, Reply
from flows.catalogue import Catalogue, catalogue
from flows.journey import step_of, takes_typed_answer
from flows.records import AuditEntry, Conversation, Feedback, Helper, Ticket
from flows.secrecy import asks_password
from flows.steps.base import Toolkit

FEEDBACK_BUTTON = "fb"
RATINGS = range(1, 6)
COMMENT_LIMIT = 500  # characters kept of a comment
ASSISTANT, HELP = "assistant", "help"
COMMENT, CANCEL = "comment", "cancel"  # the thanks' « Ajouter un commentaire », the comment prompt's « Annuler »
CHOICES = frozenset({COMMENT, CANCEL, *(str(n) for n in RATINGS)})
# Telegram's app sends a text over 4,096 characters as several messages, back to back; a person takes
# longer than this to read the reply to a comment and type anything.
REST_SECONDS = 5.0


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


def concerns(conversation: Conversation, event: Event, now: float) -> bool:
    """A feedback button, or the text that follows « Ajouter un commentaire » (the comment, or its rest)."""
    if event.kind is EventKind.BUTTON:
        return event.text.startswith(FEEDBACK_BUTTON + "|")
    return event.kind is EventKind.TEXT and conversation.takes_comment(now)


def forget_comment(conversation: Conversation) -> None:
    """Anything but a text after « Ajouter un commentaire » means no comment (nor its rest) is coming."""
    conversation.feedback_comment, conversation.comment_rest_until = None, 0.0


def answer(toolkit: Toolkit, conversation: Conversation, event: Event, secret: bool,
           ask: Callable[[Conversation], Reply]) -> Outcome:
    """A feedback button, or the comment asked for; `secret`: the text may be a password, so it is not
    kept. `ask` gives the current question, asked again after the comment so the person sees where
    they are."""
    if event.kind is EventKind.TEXT and conversation.feedback_comment is None:
        return _rest_of_comment(toolkit, conversation, secret, ask)
    if event.kind is EventKind.TEXT:
        return _comment(toolkit, conversation, event.text, secret, ask)
    forget_comment(conversation)
    return _pressed(toolkit, conversation, event.text)


def _pressed(toolkit: Toolkit, conversation: Conversation, data: str) -> Outcome:
    """A rating, « Ajouter un commentaire » under the thanks, or « Annuler » under the comment's prompt."""
    _, key, choice = (data.split("|") + ["", ""])[:3]
    feedback = toolkit.store.load_feedback(key)
    if feedback is None or feedback.chat_id != conversation.chat_id or choice not in CHOICES or (
            choice in (COMMENT, CANCEL) and feedback.rating is None):  # those two come under the thanks only
        return Outcome(notice=catalogue(conversation.language).text("notice.stale_button"), in_place=False)
    if choice == COMMENT:
        return _offer_comment(conversation, feedback)
    if choice == CANCEL:
        return Outcome((_thanks(conversation, feedback),))
    return _rate(toolkit, conversation, feedback, int(choice))


def _rate(toolkit: Toolkit, conversation: Conversation, feedback: Feedback, rating: int) -> Outcome:
    if feedback.rating is not None:
        return Outcome(notice=catalogue(conversation.language).text("feedback.already"), in_place=False)
    feedback.rating, feedback.rated_at = rating, toolkit.clock()
    toolkit.store.save_feedback(feedback)
    _audit(toolkit, feedback, "feedback_rated", rating=feedback.rating)
    agents = _to_agents(feedback, "agent.session_rated", rating=feedback.rating)
    return Outcome((_thanks(conversation, feedback),), deliveries=tuple(agents))


def _thanks(conversation: Conversation, feedback: Feedback) -> Reply:
    """The rating's thanks, in place of its question. A comment is offered by a button, never taken
    from the next text: that text may answer the question on screen (a name, the password), and goes
    on answering it."""
    texts = catalogue(conversation.language)
    buttons = () if feedback.comment is not None else (
        (Button("💬 " + texts.text("button.add_comment"), f"{FEEDBACK_BUTTON}|{feedback.key}|{COMMENT}"),),)
    return Reply(texts.text("feedback.thanks", rating=feedback.rating), buttons,
                 secret_answer=asks_password(conversation),
                 typed_answer=takes_typed_answer(conversation.state, bool(conversation.helpers)))


def _offer_comment(conversation: Conversation, feedback: Feedback) -> Outcome:
    """The next text is the comment, unless « Annuler » or anything else comes first."""
    texts = catalogue(conversation.language)
    if feedback.comment is not None:
        return Outcome(notice=texts.text("feedback.already"), in_place=False)
    conversation.feedback_comment = feedback.key
    cancel = ((Button(texts.text("button.cancel"), f"{FEEDBACK_BUTTON}|{feedback.key}|{CANCEL}"),),)
    return Outcome((Reply(texts.plural("feedback.write_comment", COMMENT_LIMIT), cancel, typed_answer=True),))


def _comment(toolkit: Toolkit, conversation: Conversation, text: str, secret: bool,
             ask: Callable[[Conversation], Reply]) -> Outcome:
    """Kept, bounded, and passed on to the session's agents, unless it may hold the password; either
    way followed by the current question."""
    feedback = toolkit.store.load_feedback(conversation.feedback_comment or "")
    forget_comment(conversation)
    text = text.strip()
    if len(text) > COMMENT_LIMIT:  # maybe the first part of a longer text: the next may follow at once
        conversation.comment_rest_until = toolkit.clock() + REST_SECONDS
    deliveries = [] if secret or feedback is None else _keep_comment(toolkit, feedback, text)
    said = _said_of(catalogue(conversation.language), text, secret)
    return Outcome((ask(conversation).led_by(said),), delete_incoming=secret, deliveries=tuple(deliveries))


def _rest_of_comment(toolkit: Toolkit, conversation: Conversation, secret: bool,
                     ask: Callable[[Conversation], Reply]) -> Outcome:
    """A part Telegram split off a comment already cut to its limit: not kept, never taken for an answer
    to the question on screen (the password question would take a chunk of prose for the password), and
    said nothing of unless it may hold the password. Another part may follow it."""
    conversation.comment_rest_until = toolkit.clock() + REST_SECONDS
    if not secret:
        return Outcome()
    said = catalogue(conversation.language).text("feedback.comment_refused")
    return Outcome((ask(conversation).led_by(said),), delete_incoming=True)


def _said_of(texts: Catalogue, comment: str, secret: bool) -> str:
    """What the person is told of their comment: refused, shortened to the limit (never silently), or kept."""
    if secret:
        return texts.text("feedback.comment_refused")
    if len(comment) > COMMENT_LIMIT:
        return texts.plural("feedback.comment_cut", COMMENT_LIMIT)
    return texts.text("feedback.comment_kept")


def _keep_comment(toolkit: Toolkit, feedback: Feedback, text: str) -> list[Delivery]:
    feedback.comment = text[:COMMENT_LIMIT]
    toolkit.store.save_feedback(feedback)
    _audit(toolkit, feedback, "feedback_commented", comment=feedback.comment)
    return _to_agents(feedback, "agent.session_commented", comment=feedback.comment)


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
