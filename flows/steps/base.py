"""What every step shares: the conversation being handled, its account, and what to say back."""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import tzinfo
from typing import Any

from transitions import EventData, Machine

from flows.boundary import Delivery
from flows.catalogue import Catalogue, catalogue
from flows.journey import ACCOUNT_FORM, ADMIN_FORM, MEMBER_FORM, Form, form_field, form_of
from flows import codes, limits
from flows.mails import compose
from flows.ports import PasswordHasher, Store
from flows.reminder_settings import ReminderSettings
from flows.validation import InvalidAnswer
from flows.records import AuditEntry, Code, CodeKind, Conversation, Subscription, UserAccount


@dataclass(frozen=True)
class AssistantSettings:
    """Everything the conversation needs to know about the deployment."""

    bot_username: str = "FlexSetupBot"
    software_download_url: str = "https://www.sage.com/fr-fr/sage-business-cloud/sage-50/telechargement/"
    direct_declaration_url: str = "https://www.ciel.com/telechargements/ciel-directdeclaration/"
    activation_code_ttl: float = 30 * 24 * 3600
    chat_code_ttl: float = 15 * 60
    invitation_ttl: float = 7 * 24 * 3600
    vendor_name: str = "Sage Flex"  # signs the e-mails
    agent_ids: frozenset[int] = frozenset()
    helpdesk_chat_id: int | None = None
    support_contact: str = "https://www.sage.com/fr-fr/support/"
    reminders: ReminderSettings = ReminderSettings()

    @property
    def helpdesk_open(self) -> bool:
        """Someone can answer a help request: agents or a support group are configured."""
        return bool(self.agent_ids) or self.helpdesk_chat_id is not None

    def deep_link(self, code: str) -> str:
        return f"https://t.me/{self.bot_username}?start={code}"


@dataclass(frozen=True)
class Toolkit:
    """The outside world as the conversation sees it; tests pass fakes, the bot passes the real ones."""

    store: Store
    hasher: PasswordHasher
    settings: AssistantSettings
    clock: Callable[[], float]
    token: Callable[[], str] = codes.link_code
    short_code: Callable[[], str] = codes.typed_code  # mailed, to be typed back


class TurnBase:
    """One event being handled for one conversation; the machine's model for that event."""

    state: str
    machine: Machine

    def __init__(self, conversation: Conversation, subscription: Subscription | None,
                 toolkit: Toolkit, catalogue: Catalogue, sender_name: str = "") -> None:
        self.conversation = conversation
        self.sender_name = sender_name
        self.deliveries: list[Delivery] = []
        self.subscription = subscription
        self.toolkit = toolkit
        self.catalogue = catalogue
        self.notes: list[str] = []
        self.problem: str | None = None
        self.changed_subscription = False
        self.value: Any = None
        self.question_shown = True
        self.finished_form: Form | None = None  # its draft is saved or dropped: Retour skips its questions

    @property
    def answers(self) -> dict[str, Any]:
        return self.conversation.answers

    @property
    def now(self) -> float:
        return self.toolkit.clock()

    def say(self, key: str, **values: object) -> None:
        self.notes.append(self.catalogue.text(key, **values))

    def refuse(self, key: str, **values: object) -> bool:
        """Explain why the answer is not accepted; returns False so conditions can end with it."""
        self.problem = self.catalogue.text(key, **values)
        return False

    def tell(self, chat_id: int, key: str, **values: object) -> None:
        """A message for another chat, in that chat's language."""
        other = self.toolkit.store.load_conversation(chat_id)
        self.deliveries.append(Delivery(chat_id, catalogue(other.language if other else "fr").text(key, **values)))

    def account(self) -> Subscription:
        if self.subscription is None:
            raise LookupError("this conversation is not bound to a subscription yet")
        return self.subscription

    def local_zone(self) -> tzinfo:
        """The subscription's time zone, else the configured one: the days it is told are counted there."""
        return self.toolkit.settings.reminders.zone(self.account().time_zone)

    def member(self) -> UserAccount:
        user = self.account().user(self.conversation.user_id or "")
        if user is None:
            raise LookupError("this chat is not an invited user's")
        return user

    def touch_account(self, action: str, **details: Any) -> None:
        """Mark the account changed and write who did what in the audit log."""
        self.changed_subscription = True
        self.audit(action, **details)

    def audit(self, action: str, **details: Any) -> None:
        number = self.subscription.number if self.subscription else ""
        entry = AuditEntry(self.now, number, f"chat:{self.conversation.chat_id}", action, details)
        self.toolkit.store.append_audit(entry)

    def send_mail(self, to: str, kind: str, link: str | None = None, *, secret: bool = False,
                  language: str | None = None, **values: object) -> None:
        """Queues the e-mail, in `language` (its recipient's, when known) or else this chat's, counted
        against this chat's and this address's limits; this chat is told if it cannot be delivered for a while."""
        texts = catalogue(language) if language else self.catalogue
        mail = compose(texts, to, kind, link, vendor=self.toolkit.settings.vendor_name, **values)
        self.toolkit.store.queue_mail(replace(mail, notify_chat=self.conversation.chat_id, secret=secret))
        limits.note_mail(self.toolkit.store, self.now, to, self.conversation.chat_id)

    def may_mail(self, to: str) -> bool:
        """Whether another mail to `to` may leave now; if not, the person is told when it can."""
        wait = limits.mail_wait(self.toolkit.store, self.now, to, self.conversation.chat_id)
        if wait > 0:
            self.problem = self.catalogue.plural("limits.mail", limits.minutes(wait))
            return False
        return True

    def may_mail_answer(self, event: EventData) -> bool:
        return self.may_mail(self.value)

    def new_code(self, kind: CodeKind, ttl: float, *, value: str | None = None,
                 chat_id: int | None = None, user_id: str | None = None) -> Code:
        code = Code(value or self.toolkit.token(), kind.value, self.account().number,
                    self.now + ttl, chat_id=chat_id, user_id=user_id)
        self.toolkit.store.save_code(code)
        return code

    # Conditions and actions shared by every form and menu.

    def answer_is_valid(self, event: EventData) -> bool:
        field = form_field(self.state)
        try:
            self.value = field.check(event.kwargs["answer"])
        except InvalidAnswer as error:
            self.problem = error.explained(self.catalogue)
            return False
        if field.key == "email" and self.value.lower() in self.emails_taken_by_others():
            return self.refuse("error.email_taken")
        if field.secret:
            self.value = self.toolkit.hasher.hash(self.value)
        return True

    def emails_taken_by_others(self) -> set[str]:
        """Addresses the e-mail being answered must not reuse: each is unique in the account."""
        account = self.account()
        if form_of(self.state) in (ADMIN_FORM, ACCOUNT_FORM):
            return {u.email.lower() for u in account.users if u.holds_seat and not u.is_admin}
        if form_of(self.state) is MEMBER_FORM:  # an invited user's
            return account.emails_in_use(except_user_id=self.conversation.user_id)
        return account.emails_in_use(except_user_id=self.answers.get("user", {}).get("id"))

    def is_revising(self, event: EventData) -> bool:
        return bool(self.answers.get("revising"))

    def keep_answer(self, event: EventData) -> None:
        field = form_field(event.transition.source)
        form = self.answers.setdefault(form_of(field.state).name, {})
        form["password_hash" if field.secret else field.key] = self.value
        self.answers.pop("revising", None)

    def choice_is_destination(self, event: EventData) -> bool:
        return event.kwargs.get("arg") == event.transition.dest

    def start_revising(self, event: EventData) -> None:
        self.answers["revising"] = True

    def setup_is_done(self, event: EventData) -> bool:
        return self.conversation.setup_done

