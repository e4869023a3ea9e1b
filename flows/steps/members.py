"""An invited user in their own chat: the personal link, their password, then their own menu."""

import secrets
import string

from transitions import EventData

from flows import codes, validation
from flows.journey import MEMBER_FORM, form_field
from flows.offer import MOBILE_DATA
from flows.records import Code, CodeKind, UserStatus
from flows.steps.entry import EntrySteps
from flows.summary import subscription_line

GENERATED_PASSWORD_LENGTH = 14


def generated_password() -> str:
    """A random password that meets the same rule as the ones people choose."""
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(GENERATED_PASSWORD_LENGTH))
        try:
            return validation.password(candidate)
        except validation.InvalidAnswer:
            continue


class MemberSteps(EntrySteps):
    """Builds on the entry steps for their lock-out after wrong codes and passwords."""

    # The invitation link: /start <code>, handled by the assistant with these.

    def invitation(self, value: str) -> Code | None:
        found = (self.toolkit.store.load_code(spelling) for spelling in codes.spellings(value))
        return next((code for code in found if code is not None and code.kind == CodeKind.INVITATION.value), None)

    def already_joined_with(self, code: Code) -> bool:
        """This chat redeemed the link and is still that user's chat: following it again only resumes."""
        return (self.conversation.user_id == code.user_id and code.used_by_chat == self.conversation.chat_id
                and self.conversation.subscription_number == code.subscription_number)

    def invitation_is_usable(self, code: Code) -> bool:
        """A refusal says why and nothing more; a chat not yet bound shows no question after it."""
        account = self.toolkit.store.load_subscription(code.subscription_number)
        user = account.user(code.user_id or "") if account else None
        if user is None or user.invitation != code.value:
            reason = "error.invitation_revoked"
        elif code.used_at is not None:
            reason = "error.invitation_used"
        elif code.expires_at < self.now:
            reason = "error.invitation_expired"
        else:
            return True
        self.refuse(reason)
        self.question_shown = self.subscription is not None
        return False

    def join(self, code: Code) -> None:
        """Bind this chat to the invited user and use the link up."""
        code.used_at, code.used_by_chat = self.now, self.conversation.chat_id
        self.toolkit.store.save_code(code)
        self.subscription = self.toolkit.store.load_subscription(code.subscription_number)
        account = self.account()
        self.conversation.subscription_number, self.conversation.user_id = account.number, code.user_id
        self.conversation.answers, self.conversation.history = {}, []
        self.conversation.failures, self.conversation.locked_until = 0, 0.0
        user = self.member()
        user.chat_id = self.conversation.chat_id
        self.touch_account("member_joined", user_id=user.id)
        admin = account.admin
        self.say("member.greeting", first_name=user.first_name,
                 admin_name=f"{admin.first_name} {admin.last_name}" if admin else "",
                 subscription=subscription_line(account, self.catalogue))

    def member_resume_point(self) -> str:
        return "in_member_menu" if self.member().status is UserStatus.ACTIVE else "asking_member_password"

    def lost_membership(self) -> bool:
        """An invited user's chat whose account was deactivated, or invited again, is unbound here."""
        if self.conversation.user_id is None:
            return False
        user = self.subscription.user(self.conversation.user_id) if self.subscription else None
        if user is not None and user.holds_seat and user.chat_id == self.conversation.chat_id:
            return False
        self.conversation.subscription_number = self.conversation.user_id = None
        self.conversation.answers, self.conversation.history = {}, []
        self.subscription = None
        self.say("member.deactivated" if user is None or not user.holds_seat else "member.link_renewed")
        return True

    # Their menu: each change is saved as soon as it is answered.

    def load_member_answers(self, event: EventData) -> None:
        user = self.member()
        self.answers["member"] = {f.key: getattr(user, f.key) for f in MEMBER_FORM.fields if not f.secret}

    def save_member_answer(self, event: EventData) -> None:
        key = form_field(event.transition.source).key
        setattr(self.member(), key, self.value)
        self.answers.pop("member", None)
        self.touch_account("member_changed", user_id=self.conversation.user_id, field=key)
        self.say("member.saved")

    def send_email_code(self, event: EventData) -> None:
        """The new address is only taken once the code sent to it is typed back."""
        user = self.member()
        code = self.new_code(CodeKind.EMAIL_CHANGE, self.toolkit.settings.chat_code_ttl, value=self.toolkit.short_code(),
                             chat_id=self.conversation.chat_id, user_id=user.id)
        self.answers["new_email"] = {"address": self.value, "code": code.value}
        self.answers.pop("member", None)
        self.send_mail(self.value, "mail.email_code", code=code.value, first_name=user.first_name)
        self.audit("email_code_sent", user_id=user.id)

    def email_code_matches(self, event: EventData) -> bool:
        pending = self.answers.get("new_email", {})
        typed = codes.typed_spelling(event.kwargs["answer"])
        if typed is None:  # not a code at all: said, not counted
            return self.refuse("error.typed_code_format")
        code = self.toolkit.store.load_code(typed)
        if code is None or typed != pending.get("code") or code.used_at is not None or code.expires_at < self.now:
            self.count_failure()
            return self.refuse("error.code_invalid")
        if pending["address"].lower() in self.account().emails_in_use(except_user_id=self.conversation.user_id):
            return self.refuse("error.email_taken")
        self.value, self.conversation.failures = code, 0
        return True

    def save_member_email(self, event: EventData) -> None:
        code: Code = self.value
        code.used_at, code.used_by_chat = self.now, self.conversation.chat_id
        self.toolkit.store.save_code(code)
        user = self.member()
        user.email = self.answers.pop("new_email")["address"]
        self.touch_account("member_email_changed", user_id=user.id)
        self.say("member.email_changed", email=user.email)

    def current_password_matches(self, event: EventData) -> bool:
        user = self.member()
        if user.password_hash and self.toolkit.hasher.verify(user.password_hash, event.kwargs["answer"]):
            self.conversation.failures = 0
            return True
        self.count_failure()
        return self.refuse("error.password_wrong")

    def save_member_password(self, event: EventData) -> None:
        """The first password makes the account active; later ones replace it."""
        user = self.member()
        user.password_hash = self.value
        if user.status is UserStatus.INVITED:
            user.status = UserStatus.ACTIVE
            self.touch_account("member_activated", user_id=user.id)
            self.say("member.activated", email=user.email)
        else:
            self.touch_account("member_password_changed", user_id=user.id)
            self.say("member.password_changed")

    def may_mail_own_address(self, event: EventData) -> bool:
        return self.may_mail(self.member().email)

    def send_declaration_password(self, event: EventData) -> None:
        """Generated, e-mailed, kept only as a hash: it never appears in the chat."""
        user = self.member()
        password = generated_password()
        user.declaration_password_hash = self.toolkit.hasher.hash(password)
        self.send_mail(user.email, "mail.declaration_password", secret=True, password=password,
                       first_name=user.first_name)
        self.touch_account("declaration_password_sent", user_id=user.id)
        self.say("member.declaration_password_sent", email=user.email)

    def mobile_data_is_offered(self, event: EventData) -> bool:
        if not self.account().services.get(MOBILE_DATA):
            return self.refuse("error.mobile_data_inactive")
        return True

    def toggle_mobile_data(self, event: EventData) -> None:
        user = self.member()
        user.mobile_data = not user.mobile_data
        self.touch_account("member_mobile_data", user_id=user.id, active=user.mobile_data)
