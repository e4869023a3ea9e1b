"""What the assistant asks in each state: the text and the buttons of the current question."""

from collections.abc import Callable

from flows.boundary import Button, Reply
from flows.journey import (ACCOUNT_FORM, ADMIN_FORM, MEMBER_FORM, SECRET_STATES, STEP_COUNT,
                           USER_FORM, form_field, form_of, step_of, takes_typed_answer)
from flows.offer import MOBILE_DATA, SERVICES, OFFER_NAME
from flows.records import UserStatus
from flows.steps.base import TurnBase
from flows.summary import active_services, product_name, subscription_line, summary, user_line

Rows = list[tuple[Button, ...]]


class Keyboard:
    """Builds buttons whose data names the question they belong to, so old ones can be recognised."""

    def __init__(self, turn: TurnBase) -> None:
        self.turn = turn
        self.rows: Rows = []

    def add(self, label: str, trigger: str, arg: str = "") -> "Keyboard":
        return self.row((label, trigger, arg))

    def row(self, *buttons: tuple[str, str, str]) -> "Keyboard":
        qid = self.turn.conversation.question_id
        self.rows.append(tuple(Button(label, f"{qid}|{trigger}|{arg}") for label, trigger, arg in buttons))
        return self

    def link(self, label: str, url: str) -> "Keyboard":
        self.rows.append((Button(label, url=url),))
        return self


def question(turn: TurnBase) -> Reply:
    """The current question, with the progress line above it and the ever-present ways out below."""
    t = turn.catalogue.text
    keyboard = Keyboard(turn)
    body = QUESTIONS.get(turn.state, _form_question)(turn, keyboard)
    step = step_of(turn.state)
    if step is not None:
        body = t("progress", step=step, total=STEP_COUNT, title=t(f"step.{step}")) + "\n\n" + body
    footer = [("⬅️ " + t("button.back"), "went_back", "")] if turn.conversation.history else []
    keyboard.row(*footer, _help_button(turn))
    typed = takes_typed_answer(turn.state, bool(turn.conversation.helpers))
    return Reply(body, tuple(keyboard.rows), secret_answer=turn.state in SECRET_STATES, typed_answer=typed)


def _help_button(turn: TurnBase) -> tuple[str, str, str]:
    """Ask for a person; once asked, cancel the request; once an agent is in, end the help."""
    t = turn.catalogue.text
    if turn.conversation.helpers:
        return "✅ " + t("button.end_help"), "ended_help", ""
    if turn.conversation.help_ticket is not None:
        return "❌ " + t("button.cancel_help"), "cancelled_help", ""
    return "🙋 " + t("button.help"), "asked_for_help", ""


def _awaiting_code(turn: TurnBase, keyboard: Keyboard) -> str:
    keyboard.add(turn.catalogue.text("button.no_email"), "asked_for_new_code")
    return turn.catalogue.text("entry.no_code")


def _asking_subscription_number(turn: TurnBase, keyboard: Keyboard) -> str:
    """The Ciel.com route stays in sight: the message that first gave it is replaced by this one."""
    return turn.catalogue.text("entry.ciel_route") + "\n\n" + turn.catalogue.text("entry.ask_number")


def _asking_emailed_code(turn: TurnBase, keyboard: Keyboard) -> str:
    keyboard.add(turn.catalogue.text("button.new_code"), "asked_for_new_code")
    return turn.catalogue.text("entry.ask_code")


def _welcoming(turn: TurnBase, keyboard: Keyboard) -> str:
    account = turn.account()
    t = turn.catalogue.text
    keyboard.add("👤 " + t("button.create_admin"), "chose_to_create_admin")
    return t("welcome.greeting", offer=OFFER_NAME, product=product_name(account, turn.catalogue),
             seats=turn.catalogue.number(account.seats), number=account.number)


def _form_question(turn: TurnBase, keyboard: Keyboard) -> str:
    """A typed answer: its prompt, and what was answered before, if anything (never a password)."""
    field = form_field(turn.state)
    form = form_of(turn.state)
    t = turn.catalogue.text
    software = product_name(turn.subscription, turn.catalogue) if turn.subscription else ""
    text = t(form.prompt(field), software=software)
    current = turn.answers.get(form.name, {}).get(field.key)
    if current and not field.secret:
        text += "\n" + t("form.current_value", value=current)
    return text


def _reviewing_admin(turn: TurnBase, keyboard: Keyboard) -> str:
    t = turn.catalogue.text
    admin = turn.answers.get("admin", {})
    box = "☑" if admin.get("is_user") else "☐"
    keyboard.add(f"{box} " + t("button.admin_is_user"), "toggled_own_user")
    _change_buttons(turn, keyboard, ADMIN_FORM.fields)
    keyboard.add("✅ " + t("button.confirm"), "confirmed")
    software = product_name(turn.account(), turn.catalogue)
    text = t("admin.review", last_name=admin.get("last_name", ""), first_name=admin.get("first_name", ""),
             email=admin.get("email", ""), is_user=t("yes" if admin.get("is_user") else "no"), software=software)
    if turn.account().seats == 1:
        text += "\n\n" + t("admin.only_seat_ticked" if admin.get("is_user") else "admin.only_seat_unticked",
                           software=software)
    return text


def _change_buttons(turn: TurnBase, keyboard: Keyboard, fields: tuple) -> None:
    t = turn.catalogue.text
    labels = [("✏️ " + t(f"button.change_{field.key}"), "chose_to_change", field.state) for field in fields]
    for pair in range(0, len(labels), 2):
        keyboard.row(*labels[pair:pair + 2])


def _managing_users(turn: TurnBase, keyboard: Keyboard) -> str:
    account = turn.account()
    t = turn.catalogue.text
    # The actions first and the people after them, so that in the terminal the actions keep their
    # numbers as users are added.
    if account.has_free_seat:
        keyboard.add("➕ " + t("button.new_user"), "chose_to_add_user")
    keyboard.add("✅ " + t("button.activate_users"), "activated_users")
    if turn.conversation.setup_done:
        keyboard.add("🏠 " + t("button.menu"), "opened_menu")
    for user in account.users:
        if user.status is UserStatus.PENDING:
            keyboard.add(f"✏️ {user.first_name} {user.last_name}", "chose_user", user.id)
        elif not user.is_admin:
            keyboard.add(f"👤 {user.first_name} {user.last_name}", "chose_member", user.id)
    number = turn.catalogue.number
    lines = [t("users.count", taken=number(account.seats_taken), seats=number(account.seats))]
    lines.extend(user_line(user, turn.catalogue, turn.local_zone()) for user in account.users)
    lines.append(t("users.explain" if account.has_free_seat else "users.full",
                   software=product_name(account, turn.catalogue)))
    if any(user.status is UserStatus.PENDING for user in account.users):
        lines.append(t("users.activate_hint"))
    elif any(not user.is_admin for user in account.users):
        lines.append(t("users.all_sent"))
    return "\n".join(lines)


def _confirm_buttons(turn: TurnBase, keyboard: Keyboard, confirm_label: str) -> None:
    """Annuler first: pressing the same number twice in the terminal never confirms."""
    keyboard.row(("❌ " + turn.catalogue.text("button.cancel"), "cancelled", ""), (confirm_label, "confirmed", ""))


def _confirming_activation(turn: TurnBase, keyboard: Keyboard) -> str:
    """VALIDER ET ACTIVER e-mails people: how many, and whom, before anything leaves."""
    pending = [user for user in turn.account().users if user.status is UserStatus.PENDING]
    _confirm_buttons(turn, keyboard, "📧 " + turn.catalogue.plural("button.confirm_invitations", len(pending)))
    lines = [turn.catalogue.plural("users.confirm_activation", len(pending))]
    lines.extend(f"• {user.first_name} {user.last_name} — {user.email}" for user in pending)
    return "\n".join(lines)


def _confirming_deactivation(turn: TurnBase, keyboard: Keyboard) -> str:
    t = turn.catalogue.text
    user = turn.account().user(turn.answers.get("member_id", ""))
    assert user is not None
    _confirm_buttons(turn, keyboard, "⛔ " + t("button.confirm_deactivation"))
    return t("members.confirm_deactivation", first_name=user.first_name, last_name=user.last_name)


def _confirming_switch(turn: TurnBase, keyboard: Keyboard) -> str:
    """What opening the link here would do, before it is done."""
    t = turn.catalogue.text
    pending = turn.answers.get("switch", {})
    current, other = turn.account().number, pending.get("number", "")
    keyboard.row(("↩️ " + t("button.stay", number=current), "stayed", ""),
                 ("🔀 " + t("button.switch"), "switched", ""))
    role = t("switch.role_member" if turn.conversation.user_id else "switch.role_admin", number=current)
    if pending.get("name"):
        said = t("switch.to_invitation", name=pending["name"], number=other, role=role)
    else:
        said = t("switch.to_subscription", number=other, role=role)
    return said + "\n\n" + t("switch.ask")


def _reviewing_user(turn: TurnBase, keyboard: Keyboard) -> str:
    t = turn.catalogue.text
    draft = turn.answers.get("user", {})
    _change_buttons(turn, keyboard, USER_FORM.fields)
    keyboard.add("✅ " + t("button.validate"), "validated")
    listed = turn.account().user(draft.get("id", "")) is not None
    if listed:
        keyboard.add("🗑 " + t("button.remove_user"), "removed_user")
    return t("user.review", title=t("user.title_listed" if listed else "user.title_new"),
             last_name=draft.get("last_name", ""), first_name=draft.get("first_name", ""), email=draft.get("email", ""))


def _choosing_services(turn: TurnBase, keyboard: Keyboard) -> str:
    account = turn.account()
    t = turn.catalogue.text
    lines = [t("services.intro")]
    for service in SERVICES:
        name = t(f"service.{service.key}")
        if service.key in account.services:
            box = "☑" if account.services[service.key] else "☐"
            keyboard.add(f"{box} {name}", "toggled_service", service.key)
        else:
            keyboard.add(f"🚫 {name}", "toggled_service", service.key)
            lines.append(t("services.unavailable", service=name))
    keyboard.row(("⏳ " + t("button.later"), "deferred_services", ""),
                 ("⬇️ " + t("button.to_download"), "chose_download", ""))
    if turn.conversation.setup_done:
        keyboard.add("🏠 " + t("button.menu"), "opened_menu")
    return "\n".join(lines)


def _showing_downloads(turn: TurnBase, keyboard: Keyboard) -> str:
    account = turn.account()
    settings = turn.toolkit.settings
    t = turn.catalogue.text
    keyboard.link("⬇️ " + t("button.download"), settings.software_download_url)
    keyboard.link("⬇️ " + t("button.direct_declaration"), settings.direct_declaration_url)
    keyboard.add("🏠 " + t("button.menu"), "opened_menu")
    email = account.admin.email if account.admin else ""
    software = product_name(account, turn.catalogue)
    parts = [t("download.intro", software=software), summary(account, turn.catalogue, turn.local_zone())]
    if account.seats_taken:
        parts.append(t("download.steps", email=email, software=software))
    else:  # signing in would fail: nobody has an account on the software
        parts.append("⚠️ " + t("download.nobody_can_sign_in", software=software))
        if account.has_free_seat:
            keyboard.add("👤 " + t("button.admin_is_user"), "added_own_user")
    if account.services.get(MOBILE_DATA):
        parts.append(t("download.mobile_data_note"))
    return "\n\n".join(parts)


def _in_menu(turn: TurnBase, keyboard: Keyboard) -> str:
    t = turn.catalogue.text
    keyboard.row(("📋 " + t("button.summary"), "asked_summary", ""),
                 ("👥 " + t("button.users"), "chose_section", "managing_users"))
    keyboard.row(("🔌 " + t("button.services"), "chose_section", "choosing_services"),
                 ("⬇️ " + t("button.downloads"), "chose_section", "showing_downloads"))
    keyboard.add("🔐 " + t("button.my_account"), "chose_section", "in_admin_account")
    return t("menu.intro", subscription=subscription_line(turn.account(), turn.catalogue),
             services=active_services(turn.account(), turn.catalogue))


def _reviewing_member(turn: TurnBase, keyboard: Keyboard) -> str:
    """An invited user as the administrator sees them: their status, and what can be done about it."""
    t = turn.catalogue.text
    user = turn.account().user(turn.answers.get("member_id", ""))
    assert user is not None
    if user.status is UserStatus.INVITED:
        keyboard.add("📧 " + t("button.resend_invitation"), "resent_invitation")
    if user.holds_seat:
        keyboard.add("⛔ " + t("button.deactivate_user"), "deactivated_member")
    else:
        keyboard.add("♻️ " + t("button.reactivate_user"), "reactivated_member")
    keyboard.add("👥 " + t("button.users"), "listed_users")
    return "\n".join([user_line(user, turn.catalogue, turn.local_zone()), t(f"members.explain_{user.status.value}")])


def _in_admin_account(turn: TurnBase, keyboard: Keyboard) -> str:
    """The administrator's own account after the setup: what it is, and each thing they can change."""
    t = turn.catalogue.text
    admin = turn.account().admin
    assert admin is not None
    _change_buttons(turn, keyboard, tuple(f for f in ACCOUNT_FORM.fields if not f.secret))
    keyboard.add("🔒 " + t("button.change_password"), "chose_to_change", "asking_account_current_password")
    keyboard.add("🏠 " + t("button.menu"), "opened_menu")
    return t("account.summary", last_name=admin.last_name, first_name=admin.first_name, email=admin.email)


def member_summary(turn: TurnBase) -> str:
    """An invited user's own account: what they can see of it, never anyone else's."""
    t = turn.catalogue.text
    user = turn.member()
    mobile = t("yes" if user.mobile_data else "no")
    return t("member.summary", last_name=user.last_name, first_name=user.first_name, email=user.email,
             address=user.address or t("member.no_address"), status=t(f"status.{user.status.value}"),
             subscription=subscription_line(turn.account(), turn.catalogue), mobile_data=mobile)


def _in_member_menu(turn: TurnBase, keyboard: Keyboard) -> str:
    t = turn.catalogue.text
    _change_buttons(turn, keyboard, tuple(f for f in MEMBER_FORM.fields if not f.secret))
    keyboard.add("🔒 " + t("button.change_password"), "chose_to_change", "asking_member_current_password")
    keyboard.add("🔑 " + t("button.declaration_password"), "asked_declaration_password")
    mobile_data = t(f"service.{MOBILE_DATA}")
    offered = turn.account().services.get(MOBILE_DATA, False)
    box = ("☑" if turn.member().mobile_data else "☐") if offered else "🚫"
    keyboard.add(f"{box} {mobile_data}", "toggled_mobile_data")
    keyboard.link("⬇️ " + t("button.subscription_download", software=product_name(turn.account(), turn.catalogue)),
                  turn.toolkit.settings.software_download_url)
    parts = [t("member.menu"), member_summary(turn)]
    if not offered:
        parts.append(t("member.mobile_data_unavailable"))
    return "\n\n".join(parts)


def _asking_email_code(turn: TurnBase, keyboard: Keyboard) -> str:
    return turn.catalogue.text("member.ask_email_code", email=turn.answers.get("new_email", {}).get("address", ""))


def _asking_current_password(turn: TurnBase, keyboard: Keyboard) -> str:
    return turn.catalogue.text("member.ask_current_password")


QUESTIONS: dict[str, Callable[[TurnBase, Keyboard], str]] = {
    "awaiting_code": _awaiting_code,
    "asking_subscription_number": _asking_subscription_number,
    "asking_purchase_email": lambda turn, keyboard: turn.catalogue.text("entry.ask_purchase_email"),
    "asking_emailed_code": _asking_emailed_code,
    "welcoming": _welcoming,
    "reviewing_admin": _reviewing_admin,
    "managing_users": _managing_users,
    "reviewing_user": _reviewing_user,
    "choosing_services": _choosing_services,
    "showing_downloads": _showing_downloads,
    "in_menu": _in_menu,
    "reviewing_member": _reviewing_member,
    "confirming_activation": _confirming_activation,
    "confirming_deactivation": _confirming_deactivation,
    "confirming_switch": _confirming_switch,
    "asking_member_email_code": _asking_email_code,
    "asking_member_current_password": _asking_current_password,
    "in_member_menu": _in_member_menu,
    "in_admin_account": _in_admin_account,
    "asking_account_email_code": _asking_email_code,
    "asking_account_current_password": _asking_current_password,
}
