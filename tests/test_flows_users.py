"""Step 2 as a transcript: users within the seats, unique addresses, changes, and the invitations."""

import pytest

from bot.console_transport import render
from flows.records import CodeKind, UserStatus
from tests.flow_harness import Chat, Desk, add_user, admin_through_step_1

MARIE = ("Curie", "Marie", "marie@entreprise.fr")
LOUIS = ("Pasteur", "Louis", "louis@entreprise.fr")


def at_users(desk: Desk, seats: int = 3, own_user: bool = True) -> tuple[Chat, str]:
    """A chat at step 2 of a fresh subscription; returns it and the subscription number."""
    chat, opened = desk.opened_chat(seats=seats)
    admin_through_step_1(chat, own_user=own_user)
    return chat, opened.subscription.number


def full_account(desk: Desk) -> tuple[Chat, str]:
    """Three seats: the administrator's own, Marie's and Louis's."""
    chat, number = at_users(desk)
    add_user(chat, *MARIE)
    add_user(chat, *LOUIS)
    return chat, number


@pytest.mark.parametrize(("answered", "bad", "message", "question"), [
    (0, " ", "Merci d'indiquer un nom.", "Nom du nouvel utilisateur ?"),
    (0, "R2D2", "Ce nom ne semble pas valide", "Nom du nouvel utilisateur ?"),
    (1, "M_rie", "Ce nom ne semble pas valide", "Prénom du nouvel utilisateur ?"),
    (2, "marie.entreprise.fr", "Cette adresse e-mail n'est pas valide", "Adresse e-mail du nouvel utilisateur ?"),
])
def test_a_bad_user_answer_is_explained_and_the_question_asked_again(
        desk: Desk, answered: int, bad: str, message: str, question: str) -> None:
    chat, _ = at_users(desk)
    chat.press("Créer un nouvel utilisateur")
    for answer in MARIE[:answered]:
        chat.type(answer)
    refused = chat.type(bad)
    assert message in refused.text and question in refused.text
    assert question not in chat.type(MARIE[answered]).text


def test_the_seat_count_is_always_shown(desk: Desk) -> None:
    chat, _ = at_users(desk)
    assert "Étape 2/4 — Comptes utilisateurs" in chat.last.text and "Utilisateurs : 1 / 3" in chat.last.text
    listed = add_user(chat, *MARIE)
    assert "Marie Curie figure maintenant dans la liste." in listed.text
    assert "Utilisateurs : 2 / 3" in listed.text
    assert "Marie Curie <marie@entreprise.fr> — en attente d'activation" in listed.text


def test_the_seat_limit_hides_the_create_button(desk: Desk) -> None:
    chat, _ = full_account(desk)
    assert "Utilisateurs : 3 / 3" in chat.last.text
    assert "Toutes les places de l'abonnement sont attribuées" in chat.last.text
    assert not [label for label in chat.labels() if "Créer un nouvel utilisateur" in label]


def test_a_forged_create_press_is_refused_at_the_seat_limit(desk: Desk) -> None:
    chat, number = full_account(desk)
    refused = chat.forge("chose_to_add_user")
    assert "Votre abonnement comprend 3 utilisateurs et toutes les places sont attribuées" in refused.text
    assert "Nom du nouvel utilisateur" not in refused.text
    assert desk.account(number).seats_taken == 3


def test_an_old_create_button_is_answered_with_the_current_question(desk: Desk) -> None:
    chat, number = at_users(desk)
    add_user(chat, *MARIE)
    old = chat.button_data("Créer un nouvel utilisateur")
    add_user(chat, *LOUIS)
    stale = chat.press_data(old)
    assert chat.outcomes[-1].notice == "Ce bouton n'est plus valable : voici la question en cours."
    assert not chat.outcomes[-1].in_place
    assert "Utilisateurs : 3 / 3" in stale.text and "Nom du nouvel utilisateur" not in stale.text


def test_a_double_press_on_valider_creates_the_user_once(desk: Desk) -> None:
    chat, number = at_users(desk)
    chat.press("Créer un nouvel utilisateur")
    for answer in MARIE:
        review = chat.type(answer)
    chat.press("Valider", review)
    again = chat.press("Valider", review)
    assert "Utilisateurs : 2 / 3" in again.text
    assert [u.email for u in desk.account(number).users].count("marie@entreprise.fr") == 1


@pytest.mark.parametrize("address", ["JEAN.DUPONT@entreprise.fr", "Marie@Entreprise.FR"])
def test_user_addresses_are_unique_in_the_account_whatever_the_case(desk: Desk, address: str) -> None:
    """Neither the administrator's address nor another user's can be used again."""
    chat, number = at_users(desk, own_user=False)
    add_user(chat, *MARIE)
    chat.press("Créer un nouvel utilisateur")
    chat.type("Pasteur")
    chat.type("Louis")
    refused = chat.type(address)
    assert "Cette adresse e-mail est déjà utilisée dans ce compte" in refused.text
    assert "Adresse e-mail du nouvel utilisateur ?" in refused.text
    assert len(desk.account(number).users) == 1


def test_a_pending_user_can_be_changed(desk: Desk) -> None:
    chat, number = at_users(desk)
    add_user(chat, *MARIE)
    review = chat.press("Marie Curie")
    assert "Nom : Curie" in review.text and "Adresse e-mail : marie@entreprise.fr" in review.text
    asked = chat.press("✏️ Prénom")
    assert "(Réponse actuelle : Marie)" in asked.text
    back = chat.type("Marion")
    assert "Prénom : Marion" in back.text and "Nom : Curie" in back.text
    listed = chat.press("Valider")
    assert "Utilisateurs : 2 / 3" in listed.text and "Marion Curie <marie@entreprise.fr>" in listed.text
    assert [u.first_name for u in desk.account(number).users if not u.is_admin] == ["Marion"]


def test_a_pending_user_keeps_their_own_address_when_changed(desk: Desk) -> None:
    chat, _ = at_users(desk)
    add_user(chat, *MARIE)
    chat.press("Marie Curie")
    chat.press("✏️ Adresse e-mail")
    back = chat.type("MARIE@entreprise.fr")
    assert "Utilisateur en attente d'activation" in back.text and "Nouvel utilisateur" not in back.text
    assert "déjà utilisée" not in back.text


def test_a_pending_user_can_be_removed_and_the_seat_given_again(desk: Desk) -> None:
    chat, number = full_account(desk)
    chat.press("Marie Curie")
    listed = chat.press("Supprimer cet utilisateur")
    assert "Marie Curie ne figure plus dans la liste." in listed.text and "Utilisateurs : 2 / 3" in listed.text
    assert "marie@entreprise.fr" not in {u.email for u in desk.account(number).users}
    assert "Utilisateurs : 3 / 3" in add_user(chat, "Curie", "Irène", "irene@entreprise.fr").text


def test_valider_et_activer_invites_each_pending_user_once(desk: Desk) -> None:
    chat, number = full_account(desk)
    activate = chat.button_data("VALIDER ET ACTIVER")
    chat.press_data(activate)
    services = chat.press("Confirmer")
    assert "2 invitations envoyées" in services.text and "Étape 3/4" in services.text
    chat.press_data(activate)  # a double tap
    for _, _, address in (MARIE, LOUIS):
        (mail,) = desk.mails_to(address)
        code = mail.text.split("?start=")[1].split()[0]
        invitation = desk.toolkit.store.load_code(code)
        assert invitation is not None and invitation.kind == CodeKind.INVITATION.value
        assert desk.account(number).user(invitation.user_id).email == address
    statuses = {u.email: u.status for u in desk.account(number).users}
    assert statuses == {"jean.dupont@entreprise.fr": UserStatus.ACTIVE, "marie@entreprise.fr": UserStatus.INVITED,
                        "louis@entreprise.fr": UserStatus.INVITED}
    assert not desk.mails_to("jean.dupont@entreprise.fr")


def test_invited_users_can_no_longer_be_changed_here(desk: Desk) -> None:
    chat, number = at_users(desk)
    add_user(chat, *MARIE)
    chat.press("VALIDER ET ACTIVER")
    chat.press("Confirmer")
    chat.press("Retour")
    marie = next(u for u in desk.account(number).users if u.first_name == "Marie")
    refused = chat.forge("chose_user", marie.id)
    assert "Cet utilisateur ne peut plus être modifié ici." in refused.text
    assert "✏️ Marie Curie" not in chat.labels(refused)
    assert "👤 Marie Curie" in chat.labels(refused)  # her card: resend the invitation, deactivate


def test_activating_with_nobody_pending_says_so_and_moves_on(desk: Desk) -> None:
    chat, _ = at_users(desk)
    services = chat.press("VALIDER ET ACTIVER")
    assert "Aucun nouvel utilisateur à activer." in services.text and "Étape 3/4" in services.text
    assert len(desk.outbox.mails) == 1  # the subscription's own e-mail only


def test_users_added_from_the_menu_are_invited_without_leaving_the_list(desk: Desk) -> None:
    chat, number = at_users(desk)
    chat.press("VALIDER ET ACTIVER")
    chat.press("Télécharger mon logiciel")
    chat.press("Menu")
    chat.press("Utilisateurs")
    add_user(chat, *MARIE)
    chat.press("VALIDER ET ACTIVER")
    listed = chat.press("Confirmer")
    assert "📧 1 invitation envoyée" in listed.text and "Utilisateurs : 2 / 3" in listed.text
    assert "Menu" in " ".join(chat.labels(listed))
    assert len(desk.mails_to("marie@entreprise.fr")) == 1


def test_back_from_the_list_never_reopens_a_user_already_validated_or_removed(desk: Desk) -> None:
    chat, number = at_users(desk)
    add_user(chat, *MARIE)
    back = chat.press("Retour")
    assert "Vérifiez votre compte administrateur" in back.text and "Nouvel utilisateur" not in back.text
    chat.press("Confirmer")
    chat.press("Marie Curie")
    chat.press("Supprimer")
    back = chat.press("Retour")
    assert "Vérifiez votre compte administrateur" in back.text and "Nouvel utilisateur" not in back.text
    assert [u.first_name for u in desk.account(number).users] == ["Jean"]


@pytest.mark.parametrize(("language", "said", "confirm", "cancel"), [
    ("fr", "VALIDER ET ACTIVER va envoyer 2 e-mails d'invitation", "Confirmer l'envoi de 2 e-mails", "Annuler"),
    ("en", "VALIDER ET ACTIVER will send 2 invitation e-mails", "Confirm sending 2 e-mails", "Cancel")])
def test_valider_et_activer_says_how_many_mails_will_go_and_sends_nothing_until_confirmed(
        desk: Desk, language: str, said: str, confirm: str, cancel: str) -> None:
    chat, number = full_account(desk)
    chat.language = language
    asked = chat.press("VALIDER ET ACTIVER")
    assert said in asked.text and "Marie Curie — marie@entreprise.fr" in asked.text and "Louis Pasteur" in asked.text
    assert chat.labels(asked)[:2] == [f"❌ {cancel}", f"📧 {confirm}"]
    assert len(desk.outbox.mails) == 1
    listed = chat.press(cancel)
    assert "VALIDER ET ACTIVER" in chat.labels(listed)[0] and len(desk.outbox.mails) == 1
    assert {u.status for u in desk.account(number).users if not u.is_admin} == {UserStatus.PENDING}
    chat.press("VALIDER ET ACTIVER")
    chat.press(confirm)
    assert len(desk.mails_to("marie@entreprise.fr")) == len(desk.mails_to("louis@entreprise.fr")) == 1


def test_one_pending_user_is_one_mail_said_in_the_singular(desk: Desk) -> None:
    chat, _ = at_users(desk)
    add_user(chat, *MARIE)
    asked = chat.press("VALIDER ET ACTIVER")
    assert "va envoyer 1 e-mail d'invitation, à la personne ci-dessous" in asked.text
    assert "Confirmer l'envoi de 1 e-mail" in " ".join(chat.labels(asked))


def test_retour_after_confirming_never_reopens_the_confirmation(desk: Desk) -> None:
    chat, _ = at_users(desk)
    add_user(chat, *MARIE)
    chat.press("VALIDER ET ACTIVER")
    chat.press("Confirmer")
    back = chat.press("Retour")
    assert "Utilisateurs : 2 / 3" in back.text and "va envoyer" not in back.text


def test_in_the_terminal_valider_et_activer_keeps_its_number_as_users_are_added(desk: Desk) -> None:
    chat, _ = at_users(desk, seats=4)
    numbers = [terminal_number(chat.last, "VALIDER ET ACTIVER")]
    for user in (MARIE, LOUIS):
        chat.press("Créer un nouvel utilisateur")
        for answer in user:
            chat.type(answer)
        review = chat.last
        listed = chat.press("Valider")
        numbers.append(terminal_number(listed, "VALIDER ET ACTIVER"))
        assert terminal_number(review, "Valider") != numbers[-1]  # typing "Valider"'s number twice
    assert numbers == [2, 2, 2]


def terminal_number(reply, label: str) -> int:
    """The number the terminal prints in front of the button labelled `label`."""
    _, choices = render(reply)
    return next(index for index, button in enumerate(choices, 1) if label in button.label)



def test_a_listed_users_card_is_not_titled_new_and_the_activation_hint_goes_once_all_is_sent(desk: Desk) -> None:
    chat, _ = at_users(desk)
    chat.press("Créer un nouvel utilisateur")
    for answer in MARIE:
        review = chat.type(answer)
    assert "Nouvel utilisateur\u202f:" in review.text
    listed = chat.press("Valider")
    assert "Quand la liste est prête, VALIDER ET ACTIVER" in listed.text
    card = chat.press("Marie Curie")
    assert "Utilisateur en attente d'activation\u202f:" in card.text and "Nouvel utilisateur" not in card.text
    chat.press("Valider")
    chat.press("VALIDER ET ACTIVER")
    chat.press("Confirmer")
    back = chat.press("Retour")
    assert "Marie Curie <marie@entreprise.fr> — invitation envoyée" in back.text
    assert "VALIDER ET ACTIVER" not in back.text and "Toutes les invitations sont envoyées." in back.text
