"""The assistant: one event in, the replies out, the conversation saved in between.

One `transitions` machine is built at start-up; each event fires one of its events on a turn made
for the conversation, which is never registered with the machine (`add_model` binds a method per
trigger and per state, ~0.3 ms an event for bindings the assistant never calls), so no
conversation stays resident.
"""

import logging
from dataclasses import replace

from transitions import Machine, MachineError

from flows import feedback, progress, reminders
from flows.boundary import CHATTER, Event, EventKind, Outcome, Reply
from flows.catalogue import catalogue, language_for
from flows.helpdesk import HelpDesk, Questioner, described, record
from flows.helpdesk.commands import command_name
from flows.journey import (BUTTON_TRIGGERS, CODE_STATES, ENTRY_STATES, HISTORY_LIMIT, HOME_STATES, NO_WAY_BACK,
                           STATE_CALLBACKS, STATES, TEXT_STATES, TRANSITIONS)
from flows.ports import RecordUnavailable, StoreUnavailable
from flows.secrecy import Secret, asks_password, may_be_password, may_be_password_unhandled, secret_in
from flows.questions import member_summary, question
from flows.records import Code, Conversation
from flows.steps.admin import AdminSteps
from flows.steps.base import Toolkit
from flows.steps.entry import EntrySteps
from flows.steps.switching import SwitchSteps
from flows.steps.services import ServiceSteps
from flows.steps.users import UserSteps
from flows.summary import summary

# Telegram redelivers at most one unconfirmed getUpdates batch (100 updates), and after a week
# without updates it may restart the ids at random, lower ones included.
log = logging.getLogger(__name__)
REDELIVERY_WINDOW = 100
FIRST_STATE = "awaiting_code"


class Turn(SwitchSteps, EntrySteps, AdminSteps, UserSteps, ServiceSteps):
    """The machine's model while one event is handled: every condition and action of the journey."""

    def trigger(self, name: str, **kwargs: str) -> bool:
        """Fires the machine's event `name` on this turn; MachineError if its state has no such transition."""
        return self.machine.events[name].trigger(self, **kwargs)


def build_machine() -> Machine:
    states = [{"name": state, **STATE_CALLBACKS.get(state, {})} for state in STATES]
    return Machine(model=None, states=states, transitions=TRANSITIONS, initial=FIRST_STATE,
                   auto_transitions=False, send_event=True)


class Assistant:
    """Handles the events of every chat with one machine; never sends anything itself."""

    def __init__(self, toolkit: Toolkit) -> None:
        self.toolkit = toolkit
        self.machine = build_machine()
        self.helpdesk = HelpDesk(toolkit, Questioner(self.question_for))

    def handle(self, chat_id: int, event: Event) -> Outcome:
        """One event, one commit: its changes are all stored or, if anything fails, none. The chat's
        events run one at a time, across processes too, and an event that conflicts with another
        process's commit runs again from the start (it only reads and writes through the store)."""
        try:
            return self.toolkit.store.run_event(lambda: self._handle(chat_id, event), chat=chat_id)
        except RecordUnavailable as error:
            unreadable = error.kind == "conversations"
            key = "error.conversation_unreadable" if unreadable else "error.account_unavailable"
            # What the chat's question was is lost with its record: any text there may be the password.
            expected = None if unreadable else self.expects_secret(chat_id, text=event.text)
            return Outcome((Reply(catalogue(language_for(event.language)).text(key)),),
                           delete_incoming=may_be_password_unhandled(event, expected))
        except OSError as error:  # the store could not commit (a full disk): nothing of the event is kept
            log.error("chat %s: the event could not be stored (%s)", chat_id, type(error).__name__)
            return Outcome((Reply(catalogue(language_for(event.language)).text("error.not_saved")),),
                           delete_incoming=may_be_password_unhandled(event))
        except StoreUnavailable as error:  # raised on, so the update comes again; the transport deletes first
            error.delete_incoming = may_be_password_unhandled(event)
            raise

    def _handle(self, chat_id: int, event: Event) -> Outcome:
        store = self.toolkit.store
        redelivered = event.update_id is not None and not store.claim_update(chat_id, event.update_id)
        if self.helpdesk.concerns(chat_id, event):
            return Outcome(duplicate=True) if redelivered else self.helpdesk.handle_agent(chat_id, event)
        conversation = store.load_conversation(chat_id) or Conversation(chat_id, FIRST_STATE)
        if redelivered or (event.update_id is not None
                           and 0 <= conversation.last_update_id - event.update_id < REDELIVERY_WINDOW):
            return self._answer_again(conversation)
        if event.language:
            conversation.language = language_for(event.language)
        if event.kind is EventKind.WITHHELD:
            return self._withheld(conversation, event)
        # An agent may have moved the chat on while a password was being typed at its question.
        now = self.toolkit.clock()
        typed = bool(event.text) and event.kind is not EventKind.BUTTON
        kind = secret_in(conversation, event.text, now) if typed else None
        secret = kind is not None
        if asks_password(conversation) and event.kind is EventKind.TEXT:
            conversation.secret_answered_at = now
        record(conversation, "admin", described(event, secret, conversation.state in CODE_STATES), now)
        if conversation.helpers and event.kind in CHATTER and kind is not Secret.EXPECTED:
            return self._relay_to_helpers(conversation, event, secret)
        if feedback.concerns(conversation, event, now):
            answered = feedback.answer(self.toolkit, conversation, event, secret, self.question_for)
            return self._saved(conversation, event, answered)
        feedback.forget_comment(conversation)
        if reminders.concerns(event):
            said = reminders.pressed(store, conversation, event.text)
            return self._saved(conversation, event, Outcome((Reply(said) if said else self.question_for(conversation),)))
        turn = self._turn(conversation, event.sender_name)
        turn.machine = self.machine
        self.machine.set_state(conversation.state, model=turn)  # a state no longer known is a ValueError
        stale = self._dispatch(turn, event)
        conversation.state = turn.state
        conversation.question_id += 1
        reply = self._reply(turn)
        if kind is Secret.IN_FREE_TEXT:  # a text that answered nothing, and held what may be the password
            reply = reply.led_by(turn.catalogue.text("notice.secret_deleted"))
        if turn.question_shown:
            conversation.secret_asked = reply.secret_answer
        record(conversation, "bot", reply.text, turn.now)
        if event.update_id is not None:
            conversation.last_update_id = event.update_id
        if turn.subscription is not None and progress.note_step_reached(turn.subscription, conversation, turn.now):
            turn.changed_subscription = True
        if turn.changed_subscription and turn.subscription is not None:
            store.save_subscription(turn.subscription)
        store.save_conversation(conversation)
        reminders.note_activity(self.toolkit, conversation, turn.subscription)
        notice = turn.catalogue.text("notice.stale_button") if stale else None
        return Outcome((reply,), delete_incoming=secret, notice=notice, in_place=not stale,
                       deliveries=(*turn.deliveries, *feedback.after_step(self.toolkit, conversation)))

    def expects_secret(self, chat_id: int, behind_another: bool = False, text: str | None = None) -> bool:
        """Whether the chat's next message (`text`; None: not read, anything may come) may be a password,
        which a transport must keep nowhere (the inbox journal asks with the text it is about to write); `behind_another`: it comes right after another message not yet
        handled, which may be the answer that leads to the password question. An unreadable conversation
        raises `RecordUnavailable` and is left for the chat's next event, which tells the person."""
        conversation = self.toolkit.store.peek_conversation(chat_id)
        if conversation is None:
            return False
        return may_be_password(conversation, text, self.toolkit.clock(), behind_another)

    def resumable(self, chat_id: int) -> bool:
        """Whether the chat has a journey to pick up again: it is bound to a subscription."""
        try:
            conversation = self.toolkit.store.peek_conversation(chat_id)
        except RecordUnavailable:  # the next event sets it aside and says so to the person
            return False
        return conversation is not None and conversation.subscription_number is not None

    def _turn(self, conversation: Conversation, sender_name: str = "") -> Turn:
        number = conversation.subscription_number
        subscription = self.toolkit.store.load_subscription(number) if number else None
        if number and subscription is None:  # set aside as unreadable: the operator has it
            raise RecordUnavailable("subscriptions", number)
        return Turn(conversation, subscription, self.toolkit, catalogue(conversation.language), sender_name)

    def question_for(self, conversation: Conversation) -> Reply:
        """A conversation's current question, asked anew (its older buttons stop working)."""
        conversation.question_id += 1
        turn = self._turn(conversation)
        turn.state = conversation.state
        return question(turn)

    def ask_again(self, chat_id: int, lead: str) -> Outcome:
        """The chat's current question, asked anew after the catalogue text `lead`: its last reply
        could not be sent, and the person must not answer what they already answered."""
        def work() -> Outcome:
            conversation = self.toolkit.store.load_conversation(chat_id) or Conversation(chat_id, FIRST_STATE)
            return self._answer_again(conversation, lead)
        return self.toolkit.store.run_event(work, chat=chat_id)

    def _answer_again(self, conversation: Conversation, lead: str = "welcome.back") -> Outcome:
        """An update handled before a kill comes back: it changes nothing, but its reply may never
        have left, so the person gets the current question again."""
        question = self.question_for(conversation)
        self.toolkit.store.save_conversation(conversation)
        return Outcome((question.led_by(catalogue(conversation.language).text(lead)),), duplicate=True, in_place=False)

    def _withheld(self, conversation: Conversation, event: Event) -> Outcome:
        """A message whose text the inbox journal did not keep (it may have been the password): the
        person types it again, at the current question."""
        if event.update_id is not None:
            conversation.last_update_id = event.update_id
        return replace(self._answer_again(conversation, "inbox.retype"), duplicate=False, delete_incoming=True)

    def _relay_to_helpers(self, conversation: Conversation, event: Event, secret: bool) -> Outcome:
        """With agents in the conversation, what the administrator writes is for them; a message that may
        hold the password (`secret`) is deleted instead, and the person told it did not go."""
        if secret:
            said = catalogue(conversation.language).text("help.not_relayed")
            return self._saved(conversation, event, Outcome((Reply(said),), delete_incoming=True))
        deliveries = self.helpdesk.relay_from_admin(conversation, event)
        return self._saved(conversation, event, Outcome(deliveries=tuple(deliveries)))

    def _saved(self, conversation: Conversation, event: Event, outcome: Outcome) -> Outcome:
        """An event the machine did not see: the conversation still notes it was handled."""
        if event.update_id is not None:
            conversation.last_update_id = event.update_id
        self.toolkit.store.save_conversation(conversation)
        reminders.note_activity(self.toolkit, conversation)
        return outcome

    def _reply(self, turn: Turn) -> Reply:
        """Whatever was said along the way, then the problem if any, then the current question."""
        said = [*turn.notes, *([f"⚠️ {turn.problem}"] if turn.problem else [])]
        if not turn.question_shown:
            return Reply("\n\n".join(said))
        current = question(turn)
        return Reply("\n\n".join([*said, current.text]), current.buttons, current.secret_answer, current.typed_answer)

    def _dispatch(self, turn: Turn, event: Event) -> bool:
        """Hands the event to the machine; True when it was a press on a button no longer current."""
        if turn.lost_membership():
            self.machine.set_state(FIRST_STATE, model=turn)
            if event.kind is not EventKind.COMMAND:
                turn.question_shown = False
                return False
        if event.kind is EventKind.COMMAND:
            self._command(turn, event.text)
        elif event.kind is EventKind.BUTTON:
            return self._button(turn, event.text)
        elif event.kind is EventKind.EDITED:
            turn.refuse("error.edited")
        elif event.kind is EventKind.TEXT and turn.state in TEXT_STATES:
            self._fire(turn, "answered", answer=event.text)
        elif event.kind is EventKind.TEXT and turn.state == FIRST_STATE:
            self._open_with_code(turn, event.text)
        elif event.kind is EventKind.TEXT:
            turn.refuse("error.use_buttons")
        else:
            turn.refuse("error.unreadable")
        return False

    def _fire(self, turn: Turn, trigger: str, **kwargs: str) -> None:
        before, bound_before = turn.state, turn.conversation.subscription_number
        try:
            moved = turn.trigger(trigger, **kwargs)
        except MachineError:
            turn.refuse("error.unexpected_button")
            return
        if not moved and turn.problem is None:
            turn.refuse("error.unexpected_button")
        rebound = turn.conversation.subscription_number != bound_before
        if turn.state in HOME_STATES:
            turn.conversation.history = []
        elif turn.state != before and not rebound and before not in NO_WAY_BACK:
            turn.conversation.history = [*turn.conversation.history, before][-HISTORY_LIMIT:]
        while turn.conversation.history and turn.conversation.history[-1] == turn.state:  # Retour must move
            turn.conversation.history.pop()
        if turn.finished_form is not None:
            kept = [state for state in turn.conversation.history if state not in turn.finished_form.states]
            while kept and kept[-1] == turn.state:
                kept.pop()
            turn.conversation.history = kept

    def _button(self, turn: Turn, data: str) -> bool:
        question_id, _, rest = data.partition("|")
        trigger, _, arg = rest.partition("|")
        if question_id != str(turn.conversation.question_id):
            return True
        if trigger == "went_back":
            self._go_back(turn)
        elif trigger == "asked_for_help":
            self._ask_for_help(turn)
        elif trigger == "cancelled_help":
            turn.deliveries.extend(self.helpdesk.cancel(turn.conversation))
            turn.say("help.cancelled")
        elif trigger == "ended_help":
            turn.deliveries.extend(self.helpdesk.end(turn.conversation))
            turn.say("help.ended")
        elif trigger in BUTTON_TRIGGERS:
            self._fire(turn, trigger, arg=arg)
        else:
            turn.refuse("error.unexpected_button")
        return False

    def _go_back(self, turn: Turn) -> None:
        history = turn.conversation.history
        if not history:
            turn.refuse("error.nothing_before")
            return
        self.machine.set_state(history.pop(), model=turn)
        turn.answers.pop("revising", None)
        turn.answers.pop("switch", None)  # Retour from "open this link here?" is staying

    def _ask_for_help(self, turn: Turn) -> None:
        """Queue the conversation for an agent; the assistant keeps working meanwhile. Without any agent
        configured nobody would ever answer, so the person is told where help is instead."""
        if not self.toolkit.settings.helpdesk_open:
            turn.say("help.unavailable", contact=self.toolkit.settings.support_contact)
            return
        own_name = turn.member().first_name if turn.conversation.user_id else None
        requester = own_name or turn.answers.get("admin", {}).get("first_name") or turn.sender_name or "?"
        said, deliveries = self.helpdesk.request(turn.conversation, requester, turn.catalogue)
        turn.notes.append(said)
        turn.deliveries.extend(deliveries)

    def _command(self, turn: Turn, line: str) -> None:
        name, argument = command_name(line), line.lstrip("/").partition(" ")[2]
        if name == "start" and argument.strip():
            self._open_with_code(turn, argument.strip())
        elif name == "start":
            self._restart(turn)
        elif name in {"etat", "state", "status"}:
            self._show_state(turn)
        elif name in {"aide", "help"}:
            self._ask_for_help(turn)
        else:
            turn.refuse("error.unknown_command")

    def _restart(self, turn: Turn) -> None:
        """A plain /start never loses answers: a bound chat resumes, an unbound one starts over."""
        if turn.subscription is not None:
            turn.say("welcome.back")
        else:
            self.machine.set_state(FIRST_STATE, model=turn)
            turn.conversation.history = []

    def _show_state(self, turn: Turn) -> None:
        if turn.subscription is None:
            turn.say("state.unbound")
        elif turn.conversation.user_id:
            turn.notes.append(member_summary(turn))
        else:
            turn.notes.append(summary(turn.subscription, turn.catalogue, turn.local_zone()))

    def _open_with_code(self, turn: Turn, value: str) -> None:
        invitation = turn.invitation(value)
        if invitation is not None:
            self._join_as_member(turn, invitation)
            return
        code = turn.accepted_code(value, refusal="error.link_invalid")
        if code is None:
            return
        if (code.subscription_number == turn.conversation.subscription_number and turn.conversation.user_id is None
                and turn.state not in ENTRY_STATES):
            turn.say("welcome.back")
        elif turn.is_bound():
            turn.ask_to_switch(code)
        else:
            turn.redeem(code)
            self.machine.set_state(turn.resume_point(), model=turn)

    def _join_as_member(self, turn: Turn, code: Code) -> None:
        """An invited user's personal link: once, before it expires, and only while it is their latest;
        in a chat that is already someone's (the administrator's), only once they say so."""
        if turn.already_joined_with(code):
            turn.say("welcome.back")
        elif not turn.invitation_is_usable(code):
            return
        elif turn.is_bound():
            turn.ask_to_switch(code)
        else:
            turn.join(code)
            self.machine.set_state(turn.member_resume_point(), model=turn)
