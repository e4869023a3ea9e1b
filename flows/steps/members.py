"""An invited user in their own chat: the personal link, their password, then their own menu."""

import secrets
import string

from transitions import EventData

from flows import codes, validation
from flows.offer import MOBILE_DATA
from flows.records import Code, CodeKind, UserStatus
from flows.steps.own_account import OwnAccountSteps
from flows.summary import product_name, subscription_line

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


class MemberSteps(OwnAccountSteps):
    """An invited user changes their own account the way the administrator does."""

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
        user.chat_id, user.language = self.conversation.chat_id, self.conversation.language
        self.touch_account("member_joined", user_id=user.id)
        admin = account.admin
        self.say("member.greeting", first_name=user.first_name,
                 admin_name=f"{admin.first_name} {admin.last_name}" if admin else "",
                 subscription=subscription_line(account, self.catalogue), software=product_name(account, self.catalogue))

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

    # Their menu: each change is saved as soon as it is answered (see OwnAccountSteps).

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
