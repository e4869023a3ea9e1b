"""Step 1: the administrator account, and whether the administrator also takes a seat."""

from transitions import EventData

from flows.records import AdminAccount, UserAccount, UserStatus
from flows.steps.base import TurnBase

ADMIN_USER_ID = "admin"
ADMIN_ANSWERS = {"last_name", "first_name", "email", "password_hash"}


class AdminSteps(TurnBase):
    def start_admin_form(self, event: EventData) -> None:
        """With one seat, the administrator is the only possible user of the software: ticked by default."""
        self.answers.setdefault("admin", {}).setdefault("is_user", self.account().seats == 1)

    def own_user_can_toggle(self, event: EventData) -> bool:
        """Turning the box on needs a free seat, unless the administrator already holds one."""
        wants_seat = not self.answers.setdefault("admin", {}).get("is_user", False)
        return not wants_seat or self.admin_has_a_seat()

    def admin_has_a_seat(self) -> bool:
        account = self.account()
        if account.user(ADMIN_USER_ID) is None and not account.has_free_seat:
            return self.refuse("error.no_seat_for_admin", seats=self.catalogue.number(account.seats))
        return True

    def toggle_own_user(self, event: EventData) -> None:
        admin = self.answers["admin"]
        admin["is_user"] = not admin.get("is_user", False)

    def admin_fits(self, event: EventData) -> bool:
        admin = self.answers.get("admin", {})
        if not ADMIN_ANSWERS <= admin.keys():
            return self.refuse("error.form_incomplete")
        if admin.get("email", "").lower() in self.emails_taken_by_others():
            return self.refuse("error.email_taken")
        return not admin.get("is_user") or self.admin_has_a_seat()  # another chat may have taken the seats

    def has_several_seats(self, event: EventData) -> bool:
        return self.account().seats > 1

    def save_admin(self, event: EventData) -> None:
        account = self.account()
        draft = self.answers["admin"]
        account.admin = AdminAccount(draft["last_name"], draft["first_name"], draft["email"],
                                     draft["password_hash"], bool(draft.get("is_user")))
        account.users = [u for u in account.users if u.id != ADMIN_USER_ID]
        if account.admin.is_user:
            self.add_own_user()
        self.touch_account("admin_saved", is_user=account.admin.is_user)
        self.say("admin.configured")

    def add_own_user(self) -> None:
        admin = self.account().admin
        assert admin is not None
        admin.is_user = True
        own = UserAccount(ADMIN_USER_ID, admin.last_name, admin.first_name, admin.email, UserStatus.ACTIVE,
                          is_admin=True)
        self.account().users.insert(0, own)

    def admin_may_take_a_seat(self, event: EventData) -> bool:
        account = self.account()
        if account.admin is None or account.user(ADMIN_USER_ID) is not None:
            return self.refuse("error.admin_already_user")
        return self.admin_has_a_seat()

    def seat_admin(self, event: EventData) -> None:
        """The fix offered when nobody can use the software: the administrator takes a seat."""
        self.add_own_user()
        self.touch_account("admin_seated")
        self.say("admin.own_user_added")
