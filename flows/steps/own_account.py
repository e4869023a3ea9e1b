"""One's own account, changed from one's menu: an invited user's, or the administrator's after the setup.

The same rules for both: names saved as answered, a new e-mail taken only once the code sent to it is
typed back, a new password only after the current one and under the same password rule.
"""

from transitions import EventData

from flows import codes
from flows.journey import ACCOUNT_FORM, MEMBER_FORM, Form, form_field
from flows.records import AdminAccount, Code, CodeKind, UserAccount, UserStatus
from flows.steps.admin import ADMIN_USER_ID
from flows.steps.entry import EntrySteps
from flows.summary import product_name

MIRRORED = ("last_name", "first_name", "email")  # what the administrator's own user shares with them


class OwnAccountSteps(EntrySteps):
    """Builds on the entry steps for their lock-out after wrong codes and passwords."""

    def own(self) -> UserAccount | AdminAccount:
        """The account this chat changes: the invited user's, or the administrator's."""
        if self.conversation.user_id:
            return self.member()
        admin = self.account().admin
        if admin is None:
            raise LookupError("this subscription has no administrator yet")
        return admin

    @property
    def own_form(self) -> Form:
        return MEMBER_FORM if self.conversation.user_id else ACCOUNT_FORM

    @property
    def own_kind(self) -> str:
        """Names the audit entries: who changed their own account."""
        return "member" if self.conversation.user_id else "admin"

    def set_own(self, key: str, value: str) -> None:
        """Saved at once, so Retour goes back to the menu, not into the question just answered; the
        administrator's own user of the software, if any, keeps their name and address."""
        self.finished_form = self.own_form
        setattr(self.own(), key, value)
        if self.conversation.user_id:
            return
        seat = self.account().user(ADMIN_USER_ID)
        if seat is not None and key in MIRRORED:
            setattr(seat, key, value)
        self.answers["admin"] = self.own().to_dict()

    def own_emails_taken(self) -> set[str]:
        account = self.account()
        if self.conversation.user_id:
            return account.emails_in_use(except_user_id=self.conversation.user_id)
        return {u.email.lower() for u in account.users if u.holds_seat and not u.is_admin}

    def load_own_answers(self, event: EventData) -> None:
        own = self.own()
        self.answers[self.own_form.name] = {f.key: getattr(own, f.key) for f in self.own_form.fields if not f.secret}

    def save_own_answer(self, event: EventData) -> None:
        key = form_field(event.transition.source).key
        self.set_own(key, self.value)
        self.answers.pop(self.own_form.name, None)
        self.touch_account(f"{self.own_kind}_changed", user_id=self.conversation.user_id, field=key)
        self.say("member.saved")

    def send_email_code(self, event: EventData) -> None:
        """The new address is only taken once the code sent to it is typed back."""
        own = self.own()
        user_id = self.conversation.user_id or ADMIN_USER_ID
        code = self.new_code(CodeKind.EMAIL_CHANGE, self.toolkit.settings.chat_code_ttl, value=self.toolkit.short_code(),
                             chat_id=self.conversation.chat_id, user_id=user_id)
        self.answers["new_email"] = {"address": self.value, "code": code.value}
        self.answers.pop(self.own_form.name, None)
        self.send_mail(self.value, "mail.email_code", code=code.value, first_name=own.first_name,
                       validity=self.catalogue.duration(self.toolkit.settings.chat_code_ttl))
        self.audit("email_code_sent", user_id=user_id)

    def email_code_matches(self, event: EventData) -> bool:
        pending = self.answers.get("new_email", {})
        typed = codes.typed_spelling(event.kwargs["answer"])
        if typed is None:  # not a code at all: said, not counted
            return self.refuse("error.typed_code_format")
        code = self.toolkit.store.load_code(typed)
        if code is None or typed != pending.get("code") or code.used_at is not None or code.expires_at < self.now:
            self.count_failure()
            return self.refuse("error.code_invalid")
        if pending["address"].lower() in self.own_emails_taken():
            return self.refuse("error.email_taken")
        self.value, self.conversation.failures = code, 0
        return True

    def save_own_email(self, event: EventData) -> None:
        code: Code = self.value
        code.used_at, code.used_by_chat = self.now, self.conversation.chat_id
        self.toolkit.store.save_code(code)
        self.set_own("email", self.answers.pop("new_email")["address"])
        self.touch_account(f"{self.own_kind}_email_changed", user_id=self.conversation.user_id)
        self.say("member.email_changed", email=self.own().email)

    def current_password_matches(self, event: EventData) -> bool:
        own = self.own()
        if own.password_hash and self.toolkit.hasher.verify(own.password_hash, event.kwargs["answer"]):
            self.conversation.failures = 0
            return True
        self.count_failure()
        return self.refuse("error.password_wrong")

    def save_own_password(self, event: EventData) -> None:
        """An invited user's first password makes their account active; later ones replace it."""
        own = self.own()
        self.set_own("password_hash", self.value)
        if isinstance(own, UserAccount) and own.status is UserStatus.INVITED:
            own.status = UserStatus.ACTIVE
            self.touch_account("member_activated", user_id=own.id)
            self.say("member.activated", email=own.email, software=product_name(self.account(), self.catalogue))
        else:
            self.touch_account(f"{self.own_kind}_password_changed", user_id=self.conversation.user_id)
            self.say("member.password_changed")
