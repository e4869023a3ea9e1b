"""The conversation written down as data: what the assistant waits for, and what moves it on.

States are named for what the assistant is waiting for; triggers for what the person did.
The README's diagram is generated from these tables (`python -m flows.diagram`).
Commands (/start, /etat, /aide), "Retour", "Parler à un conseiller" and the feedback question
(`flows.feedback`, its buttons keyed by the feedback itself) work from every state
and are handled by the assistant itself, outside these tables.
"""

from dataclasses import dataclass, replace
from typing import Any, Callable

from flows import validation

HISTORY_LIMIT = 30  # how many questions Retour can go back through
ENTRY_STATES = ("awaiting_code", "asking_subscription_number", "asking_purchase_email", "asking_emailed_code")


@dataclass(frozen=True)
class Field:
    """One typed answer of a form: where it is asked, where it is kept, how it is checked."""

    state: str
    key: str
    check: Callable[[str], str]
    secret: bool = False


@dataclass(frozen=True)
class Form:
    """Questions asked one at a time, then a review where any answer can be changed."""

    name: str
    fields: tuple[Field, ...]
    review: str
    prompts: str = ""  # whose questions it asks, when another form's say it already (default: its own)

    def prompt(self, field: Field) -> str:
        return f"{self.prompts or self.name}.ask_{field.key}"

    def field(self, state: str) -> Field | None:
        return next((f for f in self.fields if f.state == state), None)

    @property
    def states(self) -> frozenset[str]:
        return frozenset({*(f.state for f in self.fields), self.review})


ADMIN_FORM = Form(
    "admin",
    (
        Field("asking_admin_last_name", "last_name", validation.person_name),
        Field("asking_admin_first_name", "first_name", validation.person_name),
        Field("asking_admin_email", "email", validation.email_address),
        Field("asking_admin_password", "password", validation.password, secret=True),
    ),
    review="reviewing_admin",
)

USER_FORM = Form(
    "user",
    (
        Field("asking_user_last_name", "last_name", validation.person_name),
        Field("asking_user_first_name", "first_name", validation.person_name),
        Field("asking_user_email", "email", validation.email_address),
    ),
    review="reviewing_user",
)

MEMBER_FORM = Form(
    "member",
    (
        Field("asking_member_last_name", "last_name", validation.person_name),
        Field("asking_member_first_name", "first_name", validation.person_name),
        Field("asking_member_address", "address", validation.postal_address),
        Field("asking_member_email", "email", validation.email_address),
        Field("asking_member_password", "password", validation.password, secret=True),
    ),
    review="in_member_menu",  # an invited user changes one answer at a time, from their menu
)
MEMBER_PROFILE = tuple(f.state for f in MEMBER_FORM.fields[:3])  # saved as soon as answered
MEMBER_STATES = (*(f.state for f in MEMBER_FORM.fields), "asking_member_email_code",
                 "asking_member_current_password", "in_member_menu")

# The administrator's own account, after the setup: step 1's answers, changed one at a time the way an
# invited user changes theirs (and asked in the same words).
ACCOUNT_FORM = Form(
    "account",
    tuple(replace(f, state=f.state.replace("_admin_", "_account_")) for f in ADMIN_FORM.fields),
    review="in_admin_account",
    prompts="member",
)
ACCOUNT_PROFILE = tuple(f.state for f in ACCOUNT_FORM.fields[:2])
ACCOUNT_STATES = (*(f.state for f in ACCOUNT_FORM.fields), "asking_account_email_code",
                  "asking_account_current_password", "in_admin_account")
# Retour never leads back to these: a new password needs the current one (typed once), a code is
# used up, a question asking to confirm an action is answered once.
CONFIRMATIONS = frozenset({"confirming_activation", "confirming_deactivation", "confirming_switch"})
NO_WAY_BACK = frozenset({"asking_member_password", "asking_member_email_code", "asking_member_current_password",
                         "asking_account_password", "asking_account_email_code", "asking_account_current_password",
                         *CONFIRMATIONS})
# An invited user's menu is their home: back there, Retour has nowhere left to go.
HOME_STATES = frozenset({"in_member_menu"})

FORMS = (ADMIN_FORM, USER_FORM, MEMBER_FORM, ACCOUNT_FORM)
SECRET_STATES = frozenset(f.state for form in FORMS for f in form.fields if f.secret) | {
    "asking_member_current_password", "asking_account_current_password"}
# Questions answered with a code (a Commencer code, a code mailed to prove an address): what is typed
# there opens an account, so the transcript agents read never keeps it.
CODE_STATES = frozenset({"awaiting_code", "asking_emailed_code", "asking_member_email_code",
                         "asking_account_email_code"})

STEPS: dict[int, tuple[str, ...]] = {
    1: ("welcoming", *(f.state for f in ADMIN_FORM.fields), "reviewing_admin"),
    2: ("managing_users", *(f.state for f in USER_FORM.fields), "reviewing_user", "confirming_activation",
        "reviewing_member", "confirming_deactivation"),
    3: ("choosing_services",),
    4: ("showing_downloads",),
}
STEP_COUNT = len(STEPS)
USERS_STEP = 2  # user accounts: a subscription of one seat has none to create and goes from step 1 to 3
STATES: tuple[str, ...] = (*ENTRY_STATES, *(s for states in STEPS.values() for s in states), "in_menu",
                           *MEMBER_STATES, *ACCOUNT_STATES, "confirming_switch")


def step_of(state: str) -> int | None:
    """The article's step a state belongs to; None before the subscription is known and in the menu."""
    return next((step for step, states in STEPS.items() if state in states), None)


def steps_for(seats: int) -> list[int]:
    """The article's steps a subscription of `seats` goes through: what is left is said from these."""
    return [step for step in STEPS if step != USERS_STEP or seats > 1]


def form_of(state: str) -> Form:
    """The form a question or review state belongs to."""
    return next(form for form in FORMS if form.review == state or form.field(state))


def form_field(state: str) -> Field:
    field = form_of(state).field(state)
    if field is None:
        raise LookupError(f"{state} asks no field")
    return field


def _form_transitions(form: Form) -> list[dict[str, Any]]:
    """Answer each field in turn; when changing one answer from the review, go straight back."""
    rows: list[dict[str, Any]] = []
    states = [f.state for f in form.fields]
    for field, following in zip(form.fields, [*states[1:], form.review]):
        rows.append(
            {"trigger": "answered", "source": field.state, "dest": form.review,
             "conditions": ["is_revising", "answer_is_valid"], "after": "keep_answer"}
        )
        rows.append(
            {"trigger": "answered", "source": field.state, "dest": following,
             "conditions": "answer_is_valid", "after": "keep_answer"}
        )
        rows.append(
            {"trigger": "chose_to_change", "source": form.review, "dest": field.state,
             "conditions": "choice_is_destination", "after": "start_revising"}
        )
    return rows


def _own_account_transitions(kind: str, profile: tuple[str, ...]) -> list[dict[str, Any]]:
    """One's own account from one's menu: names saved as answered, a new e-mail confirmed by a code,
    a new password after the current one."""
    home = {"member": "in_member_menu", "account": "in_admin_account"}[kind]
    return [
        *({"trigger": "chose_to_change", "source": home, "dest": state, "conditions": "choice_is_destination",
           "after": "load_own_answers"} for state in (*profile, f"asking_{kind}_email", f"asking_{kind}_current_password")),
        *({"trigger": "answered", "source": state, "dest": home, "conditions": "answer_is_valid",
           "after": "save_own_answer"} for state in profile),
        {"trigger": "answered", "source": f"asking_{kind}_email", "dest": f"asking_{kind}_email_code",
         "conditions": ["answer_is_valid", "may_mail_answer"], "after": "send_email_code"},
        {"trigger": "answered", "source": f"asking_{kind}_email_code", "dest": home,
         "conditions": ["is_not_locked_out", "email_code_matches"], "after": "save_own_email"},
        {"trigger": "answered", "source": f"asking_{kind}_current_password", "dest": f"asking_{kind}_password",
         "conditions": ["is_not_locked_out", "current_password_matches"]},
        {"trigger": "answered", "source": f"asking_{kind}_password", "dest": home,
         "conditions": "answer_is_valid", "after": "save_own_password"},
    ]


MENU_SECTIONS = ("managing_users", "choosing_services", "showing_downloads", "in_admin_account")

STATE_CALLBACKS: dict[str, dict[str, str]] = {"showing_downloads": {"on_enter": "complete_setup"}}

TRANSITIONS: list[dict[str, Any]] = [
    # Entry without the e-mail: prove the purchase address, receive a fresh code there.
    {"trigger": "asked_for_new_code", "source": ["awaiting_code", "asking_emailed_code"],
     "dest": "asking_subscription_number"},
    {"trigger": "answered", "source": "asking_subscription_number", "dest": "asking_purchase_email",
     "after": "keep_subscription_number"},
    # Whether the details match or not, the same answer: only the mailbox's owner learns which.
    {"trigger": "answered", "source": "asking_purchase_email", "dest": "asking_emailed_code",
     "conditions": ["is_not_locked_out", "purchase_email_is_well_formed"], "after": "answer_claim"},
    {"trigger": "answered", "source": "asking_emailed_code", "dest": "welcoming",
     "conditions": "code_opens_subscription", "after": "bind_subscription"},
    # Step 1: the administrator account.
    {"trigger": "chose_to_create_admin", "source": "welcoming", "dest": "asking_admin_last_name",
     "after": "start_admin_form"},
    *_form_transitions(ADMIN_FORM),
    {"trigger": "toggled_own_user", "source": "reviewing_admin", "dest": None,
     "conditions": "own_user_can_toggle", "after": "toggle_own_user"},
    {"trigger": "confirmed", "source": "reviewing_admin", "dest": "managing_users",
     "conditions": ["admin_fits", "has_several_seats"], "after": "save_admin"},
    {"trigger": "confirmed", "source": "reviewing_admin", "dest": "choosing_services",
     "conditions": "admin_fits", "after": "save_admin"},
    # Step 2: user accounts, within the seats bought.
    {"trigger": "chose_to_add_user", "source": "managing_users", "dest": "asking_user_last_name",
     "conditions": "has_free_seat", "after": "start_new_user"},
    {"trigger": "chose_user", "source": "managing_users", "dest": "reviewing_user",
     "conditions": "user_is_pending", "after": "load_user"},
    *_form_transitions(USER_FORM),
    {"trigger": "validated", "source": "reviewing_user", "dest": "managing_users",
     "conditions": "user_fits", "after": "keep_user"},
    {"trigger": "removed_user", "source": "reviewing_user", "dest": "managing_users",
     "after": "remove_user"},
    # VALIDER ET ACTIVER e-mails every pending user: said, and confirmed, first.
    {"trigger": "activated_users", "source": "managing_users", "dest": "confirming_activation",
     "conditions": "has_pending_users"},
    {"trigger": "activated_users", "source": "managing_users", "dest": None,
     "conditions": "setup_is_done", "after": "activate_users"},
    {"trigger": "activated_users", "source": "managing_users", "dest": "choosing_services",
     "after": "activate_users"},
    {"trigger": "confirmed", "source": "confirming_activation", "dest": "managing_users",
     "conditions": "setup_is_done", "after": "activate_users"},
    {"trigger": "confirmed", "source": "confirming_activation", "dest": "choosing_services",
     "after": "activate_users"},
    {"trigger": "cancelled", "source": "confirming_activation", "dest": "managing_users"},
    # Step 3: connected services.
    {"trigger": "toggled_service", "source": "choosing_services", "dest": None,
     "conditions": "service_can_toggle", "after": "toggle_service"},
    {"trigger": "deferred_services", "source": "choosing_services", "dest": "showing_downloads",
     "after": "note_deferred_services"},
    {"trigger": "chose_download", "source": "choosing_services", "dest": "showing_downloads"},
    # A setup that leaves nobody able to use the software says so there, and offers the fix.
    {"trigger": "added_own_user", "source": "showing_downloads", "dest": None,
     "conditions": "admin_may_take_a_seat", "after": "seat_admin"},
    # Step 4, then the menu the administrator keeps.
    {"trigger": "opened_menu", "source": list(MENU_SECTIONS), "dest": "in_menu",
     "conditions": "setup_is_done"},
    *({"trigger": "chose_section", "source": "in_menu", "dest": section,
       "conditions": "choice_is_destination"} for section in MENU_SECTIONS),
    {"trigger": "asked_summary", "source": "in_menu", "dest": None, "after": "note_summary"},
    # The administrator and the users already invited: resend, deactivate, re-add within the seats.
    {"trigger": "chose_member", "source": "managing_users", "dest": "reviewing_member",
     "conditions": "user_was_invited", "after": "select_member"},
    {"trigger": "resent_invitation", "source": "reviewing_member", "dest": None,
     "conditions": ["member_is_invited", "may_mail_member"], "after": "resend_invitation"},
    # Désactiver takes access away: said, and confirmed, first.
    {"trigger": "deactivated_member", "source": "reviewing_member", "dest": "confirming_deactivation",
     "conditions": "member_holds_seat"},
    {"trigger": "confirmed", "source": "confirming_deactivation", "dest": "reviewing_member",
     "conditions": "member_holds_seat", "after": "deactivate_member"},
    {"trigger": "cancelled", "source": "confirming_deactivation", "dest": "reviewing_member"},
    {"trigger": "reactivated_member", "source": "reviewing_member", "dest": None,
     "conditions": ["member_is_deactivated", "has_free_seat", "member_email_is_free", "may_mail_member"],
     "after": "reactivate_member"},
    {"trigger": "listed_users", "source": "reviewing_member", "dest": "managing_users"},
    # An invited user, in their own chat: set the password, then their menu.
    *_own_account_transitions("member", MEMBER_PROFILE),
    {"trigger": "asked_declaration_password", "source": "in_member_menu", "dest": None,
     "conditions": "may_mail_own_address", "after": "send_declaration_password"},
    {"trigger": "toggled_mobile_data", "source": "in_member_menu", "dest": None,
     "conditions": "mobile_data_is_offered", "after": "toggle_mobile_data"},
    # The administrator's own account, from the menu after the setup.
    *_own_account_transitions("account", ACCOUNT_PROFILE),
    # /start with a link for another account, in a chat already bound (entered by the assistant):
    # switch to it, or stay; either way the chat goes on where the account it chose stands.
    {"trigger": "switched", "source": "confirming_switch", "dest": None, "after": "switch_chat"},
    {"trigger": "stayed", "source": "confirming_switch", "dest": None, "after": "stay_in_chat"},
]

BUTTON_TRIGGERS = frozenset(row["trigger"] for row in TRANSITIONS) - {"answered"}
TEXT_STATES = frozenset(
    state for row in TRANSITIONS if row["trigger"] == "answered"
    for state in ([row["source"]] if isinstance(row["source"], str) else row["source"])
)


def takes_typed_answer(state: str, assisted: bool) -> bool:
    """Whether a text typed at `state` answers something: its question, the first question's code or,
    with an agent in the conversation (`assisted`), the agent."""
    return state in TEXT_STATES or state == ENTRY_STATES[0] or assisted


def _sources(row: dict[str, Any]) -> list[str]:
    return [row["source"]] if isinstance(row["source"], str) else list(row["source"])


# States one answer away from a password question: a message right behind the answer may be one.
SECRET_AHEAD = frozenset(source for row in TRANSITIONS if row["dest"] in SECRET_STATES for source in _sources(row))
