"""Step 1 as a transcript: the administrator's answers, the review, the own-user box, the password."""

import json

import pytest

from tests.flow_harness import ADMIN_PASSWORD, Chat, Desk, PlainHasher, admin_through_step_1, fill_admin

GOOD_ANSWERS = ("Dupont", "Jean", "jean.dupont@entreprise.fr")


def at_admin_question(desk: Desk, answered: int, seats: int = 1) -> tuple[Chat, str]:
    """A chat at the administrator's question number `answered` (0 = Nom); returns it and the number."""
    chat, opened = desk.opened_chat(seats=seats)
    chat.press("CRÉER mon compte Administrateur")
    for answer in GOOD_ANSWERS[:answered]:
        chat.type(answer)
    return chat, opened.subscription.number


@pytest.mark.parametrize(("language", "bad", "said", "unsaid"), [
    ("fr", "tournesol2026", "il manque une majuscule.", ("caractères", "chiffre", "minuscule", "espace")),
    ("fr", "court", "il faut au moins 10 caractères et il manque une majuscule et un chiffre.", ("minuscule",)),
    ("en", "tournesolbleu", "it lacks an upper-case letter and a digit.", ("characters", "lower-case", "space")),
    ("en", "Tournesol 2026", "it must not contain any space.", ("characters", "digit", "letter")),
])
def test_a_refused_password_is_told_which_part_of_the_rule_it_breaks(
        desk: Desk, language: str, bad: str, said: str, unsaid: tuple[str, ...]) -> None:
    chat, opened = desk.opened_chat(language=language)
    chat.press("CRÉER mon compte Administrateur")
    for answer in GOOD_ANSWERS:
        chat.type(answer)
    text = chat.type(bad).text
    refusal = text[:text.index("\n")]
    assert refusal.endswith(said) and not any(word in refusal for word in unsaid)


@pytest.mark.parametrize(("answered", "bad", "message", "question"), [
    (0, "   ", "Merci d'indiquer un nom.", "Quel est votre nom"),
    (0, "Dupont3", "Ce nom ne semble pas valide", "Quel est votre nom"),
    (0, "D" * 61, "60 caractères au plus", "Quel est votre nom"),
    (1, "J@an", "Ce nom ne semble pas valide", "Quel est votre prénom"),
    (1, "", "Merci d'indiquer un nom.", "Quel est votre prénom"),
    (2, "jean.dupont@", "Cette adresse e-mail n'est pas valide", "Quelle adresse e-mail"),
    (2, "jean dupont@entreprise.fr", "Cette adresse e-mail n'est pas valide", "Quelle adresse e-mail"),
    (3, "Court1a", "il faut au moins 10 caractères.", "Choisissez votre mot de passe"),
    (3, "tournesol2026", "il manque une majuscule.", "Choisissez votre mot de passe"),
    (3, "TOURNESOL2026", "il manque une minuscule.", "Choisissez votre mot de passe"),
    (3, "Tournesolsansc", "il manque un chiffre.", "Choisissez votre mot de passe"),
    (3, " Tournesol2026", "il ne doit contenir aucun espace.", "Choisissez votre mot de passe"),
    (3, "Mon Chat Felix 2024", "il ne doit contenir aucun espace.", "Choisissez votre mot de passe"),
])
def test_a_bad_administrator_answer_is_explained_and_the_question_asked_again(
        desk: Desk, answered: int, bad: str, message: str, question: str) -> None:
    """The French explanation, then the same question; a good answer then moves on."""
    chat, _ = at_admin_question(desk, answered)
    refused = chat.type(bad)
    assert message in refused.text and question in refused.text
    assert refused.text.index(message) < refused.text.index(question)
    moved_on = chat.type((*GOOD_ANSWERS, ADMIN_PASSWORD)[answered])
    assert question not in moved_on.text


def test_names_with_accents_hyphens_and_apostrophes_are_accepted(desk: Desk) -> None:
    chat, _ = at_admin_question(desk, 0)
    chat.type("  Le   Goff-d'Arcy ")
    review = fill_admin_rest(chat, first_name="Éloïse")
    assert "Nom : Le Goff-d'Arcy" in review.text and "Prénom : Éloïse" in review.text


def fill_admin_rest(chat: Chat, first_name: str = "Jean") -> str:
    """From the first-name question to the review."""
    chat.type(first_name)
    chat.type("jean.dupont@entreprise.fr")
    return chat.type(ADMIN_PASSWORD)


def test_the_password_question_states_the_rule_and_asks_for_a_secret_answer(desk: Desk) -> None:
    chat, _ = at_admin_question(desk, 3)
    assert "au moins 10 caractères sans espace, dont une majuscule, une minuscule et un chiffre" in chat.last.text
    assert chat.last.secret_answer


@pytest.mark.parametrize("password", ["court", ADMIN_PASSWORD])
def test_the_password_message_is_deleted_whether_accepted_or_refused(desk: Desk, password: str) -> None:
    chat, _ = at_admin_question(desk, 3)
    chat.type(password)
    assert chat.outcomes[-1].delete_incoming


def test_a_password_that_looks_like_a_command_is_deleted_too(desk: Desk) -> None:
    chat, _ = at_admin_question(desk, 3)
    chat.command("/Tournesol2026")
    assert chat.outcomes[-1].delete_incoming and "Choisissez votre mot de passe" in chat.last.text


def test_other_answers_stay_in_the_chat(desk: Desk) -> None:
    chat, _ = at_admin_question(desk, 0)
    chat.type("Dupont")
    assert not chat.outcomes[-1].delete_incoming and not chat.last.secret_answer


def test_the_password_is_kept_only_as_its_hash_and_never_shown(desk: Desk) -> None:
    """PlainHasher shows what was hashed: the hash is stored, the password appears nowhere."""
    chat, opened = desk.opened_chat(seats=1)
    chat.type("court")  # a refused attempt is not kept either
    admin_through_step_1(chat, own_user=True)
    chat.press("Télécharger mon logiciel")
    chat.command("/etat")
    account = desk.account(opened.subscription.number)
    assert account.admin is not None and account.admin.password_hash == PlainHasher().hash(ADMIN_PASSWORD)
    assert_nowhere(ADMIN_PASSWORD, chat, desk)


def assert_nowhere(secret: str, chat: Chat, desk: Desk) -> None:
    """Not in any reply, button, conversation, account, audit entry or e-mail."""
    store = desk.toolkit.store
    conversation = store.load_conversation(chat.chat_id)
    assert conversation is not None
    number = conversation.subscription_number or ""
    places = [
        *(reply.text + repr(reply.buttons) for outcome in chat.outcomes for reply in outcome.replies),
        json.dumps(conversation.to_dict()),
        json.dumps(desk.account(number).to_dict()),
        *(json.dumps(entry.to_dict()) for entry in store.audit_trail(number)),
        *(mail.text + (mail.html or "") for mail in desk.outbox.mails),
    ]
    assert not [place for place in places if secret in place]


@pytest.mark.parametrize(("label", "new", "shown"), [
    ("Nom", "Martin", "Nom : Martin"),
    ("Prénom", "Paul", "Prénom : Paul"),
    ("Adresse e-mail", "paul.martin@entreprise.fr", "Adresse e-mail : paul.martin@entreprise.fr"),
])
def test_any_answer_can_be_changed_from_the_review_which_comes_back(desk: Desk, label: str, new: str,
                                                                    shown: str) -> None:
    chat, _ = desk.opened_chat()
    review = fill_admin(chat)
    chat.press(f"✏️ {label}", review)
    back = chat.type(new)
    assert "Vérifiez votre compte administrateur" in back.text and shown in back.text
    assert "Nom : Dupont" in back.text or label == "Nom"


def test_changing_the_password_from_the_review_replaces_its_hash(desk: Desk) -> None:
    chat, opened = desk.opened_chat()
    fill_admin(chat)
    asked = chat.press("✏️ Mot de passe")
    assert "Réponse actuelle" not in asked.text
    back = chat.type("Autremotdepasse9")
    assert "Vérifiez votre compte administrateur" in back.text and chat.outcomes[-1].delete_incoming
    chat.press("Confirmer")
    assert desk.account(opened.subscription.number).admin.password_hash == PlainHasher().hash("Autremotdepasse9")


def test_a_changed_question_shows_the_current_answer(desk: Desk) -> None:
    chat, _ = desk.opened_chat()
    fill_admin(chat)
    asked = chat.press("✏️ Prénom")
    assert "Quel est votre prénom" in asked.text and "(Réponse actuelle : Jean)" in asked.text


def test_back_goes_to_the_previous_question_and_keeps_the_answers(desk: Desk) -> None:
    chat, _ = at_admin_question(desk, 2)
    previous = chat.press("Retour")
    assert "Quel est votre prénom" in previous.text and "(Réponse actuelle : Jean)" in previous.text
    chat.type("Jeanne")
    chat.type("jean.dupont@entreprise.fr")
    review = chat.type(ADMIN_PASSWORD)
    assert "Nom : Dupont" in review.text and "Prénom : Jeanne" in review.text


def test_the_first_question_after_the_welcome_can_go_back_to_it(desk: Desk) -> None:
    chat, _ = at_admin_question(desk, 0)
    welcome = chat.press("Retour")
    assert "CRÉER mon compte Administrateur" in " ".join(chat.labels(welcome))
    assert "Retour" not in " ".join(chat.labels(welcome))
    refused = chat.press("Parler à un conseiller")
    assert "transmise aux conseillers" in refused.text


def test_the_own_user_box_takes_a_seat(desk: Desk) -> None:
    chat, opened = desk.opened_chat(seats=3)
    fill_admin(chat)
    ticked = chat.press("Créer automatiquement mon compte utilisateur")
    assert "☑ Créer automatiquement mon compte utilisateur" in chat.labels(ticked)
    users = chat.press("Confirmer")
    assert "Le compte administrateur est à présent configuré." in users.text
    assert "Utilisateurs : 1 / 3" in users.text
    assert [u.email for u in desk.account(opened.subscription.number).users] == ["jean.dupont@entreprise.fr"]


def test_the_own_user_box_unticked_again_takes_no_seat(desk: Desk) -> None:
    chat, _ = desk.opened_chat(seats=3)
    fill_admin(chat)
    chat.press("Créer automatiquement mon compte utilisateur")
    unticked = chat.press("Créer automatiquement mon compte utilisateur")
    assert "☐ Créer automatiquement mon compte utilisateur" in chat.labels(unticked)
    assert "Utilisateurs : 0 / 3" in chat.press("Confirmer").text


def test_the_own_user_box_is_refused_when_no_seat_is_free(desk: Desk) -> None:
    chat, opened = desk.opened_chat(seats=2)
    fill_admin(chat)
    desk.seat_users(opened.subscription.number, "a@entreprise.fr", "b@entreprise.fr")
    refused = chat.press("Créer automatiquement mon compte utilisateur")
    assert "Toutes les places (2) sont déjà attribuées" in refused.text
    assert "☐ Créer automatiquement mon compte utilisateur" in chat.labels(refused)


def test_confirming_with_the_box_ticked_is_refused_once_the_seats_are_gone(desk: Desk) -> None:
    """Checked again on Confirmer: another chat may have used the last seats meanwhile."""
    chat, opened = desk.opened_chat(seats=2)
    fill_admin(chat)
    chat.press("Créer automatiquement mon compte utilisateur")
    desk.seat_users(opened.subscription.number, "a@entreprise.fr", "b@entreprise.fr")
    refused = chat.press("Confirmer")
    assert "Toutes les places (2) sont déjà attribuées" in refused.text
    assert "Vérifiez votre compte administrateur" in refused.text
    account = desk.account(opened.subscription.number)
    assert account.admin is None and account.seats_taken == 2


def test_a_one_seat_subscription_skips_the_users_step(desk: Desk) -> None:
    chat, _ = desk.opened_chat(seats=1)
    services = admin_through_step_1(chat, own_user=True)
    assert "Étape 3/4 — Services connectés" in services.text
    assert "Créer un nouvel utilisateur" not in " ".join(chat.labels(services))


def test_the_administrator_address_cannot_be_a_users_whatever_the_case(desk: Desk) -> None:
    chat, number = at_admin_question(desk, 2, seats=3)
    desk.seat_users(number, "marie@entreprise.fr")
    refused = chat.type("MARIE@entreprise.fr")
    assert "Cette adresse e-mail est déjà utilisée dans ce compte" in refused.text
    assert "Quelle adresse e-mail" in refused.text


def test_the_review_cannot_be_confirmed_with_answers_missing(desk: Desk) -> None:
    """A forged Confirmer before the review is refused and changes nothing."""
    chat, number = at_admin_question(desk, 3)
    refused = chat.forge("confirmed")
    assert "Ce choix n'est pas possible à cette étape." in refused.text
    assert "Choisissez votre mot de passe" in refused.text and desk.account(number).admin is None


@pytest.mark.parametrize(("language", "explained"), [
    ("fr", "une seule place d'utilisateur, la vôtre d'office"), ("en", "a single user seat, yours by default")])
def test_with_one_seat_the_own_user_box_is_ticked_and_explained(desk: Desk, language: str, explained: str) -> None:
    chat, opened = desk.opened_chat(seats=1, language=language)
    review = fill_admin(chat)
    assert any(label.startswith("☑") for label in chat.labels(review)) and explained in review.text
    chat.press("Confirm" if language == "en" else "Confirmer")
    account = desk.account(opened.subscription.number)
    assert account.admin is not None and account.admin.is_user and account.seats_taken == 1


def test_with_several_seats_the_own_user_box_starts_unticked(desk: Desk) -> None:
    chat, _ = desk.opened_chat(seats=3)
    review = fill_admin(chat)
    assert "☐ Créer automatiquement mon compte utilisateur" in chat.labels(review)
    assert "une seule place" not in review.text


@pytest.mark.parametrize(("language", "warned", "sign_in"), [
    ("fr", "Personne ne peut encore utiliser Sage 50", "Identifiez-vous"),
    ("en", "Nobody can use Sage 50", "Sign in")])
def test_a_setup_that_leaves_nobody_on_the_software_says_so_and_offers_the_fix(
        desk: Desk, language: str, warned: str, sign_in: str) -> None:
    chat, opened = desk.opened_chat(seats=1, language=language)
    fill_admin(chat)
    unticked = chat.press("Créer automatiquement mon compte utilisateur")
    assert ("personne ne pourra se connecter" if language == "fr" else "nobody can sign in") in unticked.text
    chat.press("Confirm" if language == "en" else "Confirmer")
    download = chat.press("Télécharger mon logiciel")
    assert warned in download.text and sign_in not in download.text
    fixed = chat.press("Créer automatiquement mon compte utilisateur")
    assert warned not in fixed.text and sign_in in fixed.text
    account = desk.account(opened.subscription.number)
    assert account.seats_taken == 1 and account.admin is not None and account.admin.is_user
    assert "Créer automatiquement" not in " ".join(chat.labels(fixed))
