"""Step 2: user accounts, up to the seats bought, then their activation by invitation e-mail."""

import secrets

from transitions import EventData

from flows import invitations
from flows.journey import USER_FORM
from flows.records import CodeKind, UserAccount, UserStatus
from flows.catalogue import catalogue
from flows.steps.base import TurnBase

USER_ANSWERS = ("last_name", "first_name", "email")


class UserSteps(TurnBase):
    def has_free_seat(self, event: EventData) -> bool:
        account = self.account()
        if not account.has_free_seat:
            return self.refuse("error.seats_full", users=self.catalogue.plural("count.users", account.seats))
        return True

    def start_new_user(self, event: EventData) -> None:
        self.answers["user"] = {"id": secrets.token_hex(4)}

    def user_is_pending(self, event: EventData) -> bool:
        user = self.account().user(event.kwargs.get("arg", ""))
        if user is None or user.status is not UserStatus.PENDING:
            return self.refuse("error.user_not_editable")
        return True

    def load_user(self, event: EventData) -> None:
        user = self.account().user(event.kwargs["arg"])
        assert user is not None
        self.answers["user"] = {"id": user.id, **{key: getattr(user, key) for key in USER_ANSWERS}}

    def user_fits(self, event: EventData) -> bool:
        """Checked again on Valider: another chat may have used the seat or the address meanwhile."""
        draft = self.answers.get("user", {})
        account = self.account()
        if not {"id", *USER_ANSWERS} <= draft.keys():
            return self.refuse("error.form_incomplete")
        if account.user(draft["id"]) is None and not account.has_free_seat:
            return self.refuse("error.seats_full", users=self.catalogue.plural("count.users", account.seats))
        if draft["email"].lower() in account.emails_in_use(except_user_id=draft["id"]):
            return self.refuse("error.email_taken")
        return True

    def keep_user(self, event: EventData) -> None:
        draft = self.answers.pop("user")
        self.finished_form = USER_FORM
        user = UserAccount(draft["id"], *(draft[key] for key in USER_ANSWERS))
        self.account().upsert_user(user)
        self.touch_account("user_saved", user_id=user.id)
        self.say("users.saved", first_name=user.first_name, last_name=user.last_name)

    def remove_user(self, event: EventData) -> None:
        draft = self.answers.pop("user", {})
        self.finished_form = USER_FORM
        account = self.account()
        user = account.user(draft.get("id", ""))
        if user is not None and user.status is UserStatus.PENDING:
            account.users.remove(user)
            self.touch_account("user_removed", user_id=user.id)
            self.say("users.removed", first_name=user.first_name, last_name=user.last_name)

    def has_pending_users(self, event: EventData) -> bool:
        return bool(self.pending_users())

    def pending_users(self) -> list[UserAccount]:
        return [user for user in self.account().users if user.status is UserStatus.PENDING]

    def activate_users(self, event: EventData) -> None:
        """VALIDER ET ACTIVER: every pending user is invited by e-mail with a personal link."""
        pending = self.pending_users()
        for user in pending:
            self.invite(user)
        if pending:
            self.touch_account("users_activated", user_ids=[user.id for user in pending])
            self.notes.append(self.catalogue.plural("users.activated", len(pending)))
        else:
            self.say("users.none_to_activate")

    def invite(self, user: UserAccount) -> None:
        """A personal link by e-mail, and its reminder before it expires; any link sent before stops
        working, and so does its reminder."""
        account = self.account()
        code = self.new_code(CodeKind.INVITATION, self.toolkit.settings.invitation_ttl, user_id=user.id)
        texts = catalogue(user.language) if user.language else self.catalogue  # theirs once known
        self.send_mail(user.email, "mail.invitation", self.toolkit.settings.deep_link(code.value),
                       language=texts.language, validity=texts.duration(self.toolkit.settings.invitation_ttl),
                       **invitations.mail_values(account, user, texts))
        user.status, user.invitation, user.chat_id, user.reminded_at = UserStatus.INVITED, code.value, None, None
        invitations.schedule(self.toolkit, account, user, code, self.conversation.chat_id, texts.language)

    # Users already invited: the administrator resends their link, deactivates them, re-adds them.

    def user_was_invited(self, event: EventData) -> bool:
        user = self.account().user(event.kwargs.get("arg", ""))
        if user is None or user.is_admin or user.status is UserStatus.PENDING:
            return self.refuse("error.user_not_editable")
        return True

    def select_member(self, event: EventData) -> None:
        self.answers["member_id"] = event.kwargs["arg"]

    def selected_member(self) -> UserAccount:
        user = self.account().user(self.answers.get("member_id", ""))
        if user is None:
            raise LookupError("no user selected")
        return user

    def member_is_invited(self, event: EventData) -> bool:
        if self.selected_member().status is not UserStatus.INVITED:
            return self.refuse("error.member_not_invited")
        return True

    def member_holds_seat(self, event: EventData) -> bool:
        if not self.selected_member().holds_seat:
            return self.refuse("error.member_already_deactivated")
        return True

    def member_is_deactivated(self, event: EventData) -> bool:
        if self.selected_member().holds_seat:
            return self.refuse("error.member_not_deactivated")
        return True

    def member_email_is_free(self, event: EventData) -> bool:
        """While deactivated, their address may have been given to another user."""
        user = self.selected_member()
        if user.email.lower() in self.account().emails_in_use(except_user_id=user.id):
            return self.refuse("error.email_taken")
        return True

    def may_mail_member(self, event: EventData) -> bool:
        return self.may_mail(self.selected_member().email)

    def resend_invitation(self, event: EventData) -> None:
        user = self.selected_member()
        self.invite(user)
        self.touch_account("invitation_resent", user_id=user.id)
        self.say("members.invitation_resent", email=user.email)

    def deactivate_member(self, event: EventData) -> None:
        """Frees the seat and revokes the link; the user's own chat is told and closes at its next message."""
        user = self.selected_member()
        if user.chat_id is not None:
            self.tell(user.chat_id, "member.deactivated")
        user.status, user.invitation, user.chat_id = UserStatus.DEACTIVATED, None, None
        invitations.cancel(self.toolkit.store, self.account().number, user.id)
        self.touch_account("user_deactivated", user_id=user.id)
        self.say("members.deactivated", first_name=user.first_name, last_name=user.last_name)

    def reactivate_member(self, event: EventData) -> None:
        user = self.selected_member()
        self.invite(user)
        self.touch_account("user_reactivated", user_id=user.id)
        self.say("members.reactivated", email=user.email)
