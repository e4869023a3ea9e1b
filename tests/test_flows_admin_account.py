"""The administrator's own account after the setup: name, e-mail (confirmed by a code) and password."""

import re

import pytest

from flows.boundary import Event
from tests.flow_harness import ADMIN_PASSWORD, Chat, Desk, admin_through_step_1

NEW_PASSWORD = "Coquelicot2027"


def in_menu(desk: Desk, language: str = "fr") -> tuple[Chat, str]:
    """A one-seat setup done, the administrator (also its user) at their menu."""
    chat, opened = desk.opened_chat(seats=1, language=language)
    admin_through_step_1(chat, own_user=True)
    chat.press("Télécharger mon logiciel")
    chat.press("Menu")
    return chat, opened.subscription.number


def transcript(desk: Desk, chat: Chat) -> str:
    return " ".join(line.text for line in desk.toolkit.store.load_conversation(chat.chat_id).transcript)


@pytest.mark.parametrize(("language", "entry", "said"), [
    ("fr", "Mon compte administrateur", "Votre compte administrateur"),
    ("en", "My administrator account", "Your administrator account")])
def test_the_menu_opens_the_administrators_own_account(desk: Desk, language: str, entry: str, said: str) -> None:
    chat, _ = in_menu(desk, language)
    account = chat.press(entry)
    assert said in account.text and "jean.dupont@entreprise.fr" in account.text
    assert ADMIN_PASSWORD not in account.text


def test_a_new_name_is_saved_for_the_administrator_and_their_own_user(desk: Desk) -> None:
    chat, number = in_menu(desk)
    chat.press("Mon compte administrateur")
    asked = chat.press("Nom")
    assert "Quel est votre nom" in asked.text and "Dupont" in asked.text
    assert "Veuillez" not in chat.type("R2D2").text
    saved = chat.type("Durand")
    assert "C'est enregistré" in saved.text and "Durand" in saved.text
    account = desk.account(number)
    assert account.admin.last_name == "Durand" and account.user("admin").last_name == "Durand"
    assert "Menu" in chat.press("Retour").text


def test_a_new_email_is_taken_only_once_the_code_sent_to_it_comes_back(desk: Desk) -> None:
    chat, number = in_menu(desk)
    chat.press("Mon compte administrateur")
    chat.press("Adresse e-mail")
    asked = chat.type("jean@nouvelle-adresse.fr")
    assert "Un code de confirmation vient d'être envoyé à jean@nouvelle-adresse.fr" in asked.text
    assert desk.account(number).admin.email == "jean.dupont@entreprise.fr"
    (mail,) = desk.mails_to("jean@nouvelle-adresse.fr")
    code = re.search(r"\b([0-9A-Z]{8})\b", mail.text).group(1)  # type: ignore[union-attr]
    assert "n'est pas valable" in chat.type("AAAAAAAA").text
    done = chat.type(f"{code[:4].lower()} {code[4:]}")
    assert "Votre adresse e-mail est à présent jean@nouvelle-adresse.fr" in done.text
    account = desk.account(number)
    assert account.admin.email == account.user("admin").email == "jean@nouvelle-adresse.fr"
    assert code not in transcript(desk, chat)
    chat.press("Menu")
    assert "jean@nouvelle-adresse.fr" in chat.press("Téléchargements").text  # the sign-in of step 4


def test_an_address_used_by_one_of_the_users_is_refused(desk: Desk) -> None:
    chat, opened = desk.opened_chat(seats=2)
    admin_through_step_1(chat)
    desk.seat_users(opened.subscription.number, "marie@entreprise.fr")
    chat.press("VALIDER ET ACTIVER")
    chat.press("Confirmer")
    chat.press("Télécharger mon logiciel")
    chat.press("Menu")
    chat.press("Mon compte administrateur")
    chat.press("Adresse e-mail")
    assert "déjà utilisée" in chat.type("marie@entreprise.fr").text


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_new_password_needs_the_current_one_the_same_rule_and_is_never_kept_anywhere(
        desk: Desk, language: str) -> None:
    chat, number = in_menu(desk, language)
    chat.press("Mon compte administrateur" if language == "fr" else "My administrator account")
    asked = chat.press("🔒")
    assert asked.secret_answer
    wrong = chat.type("PasLeBon1234")
    assert chat.outcomes[-1].delete_incoming and wrong.secret_answer
    assert ("Ce n'est pas votre mot de passe actuel" if language == "fr" else "not your current password") in wrong.text
    chat.type(ADMIN_PASSWORD)
    assert chat.outcomes[-1].delete_incoming and chat.last.secret_answer
    weak = chat.type("court")
    assert chat.outcomes[-1].delete_incoming and weak.secret_answer
    changed = chat.type(NEW_PASSWORD)
    assert chat.outcomes[-1].delete_incoming
    assert ("Votre mot de passe a été modifié" if language == "fr" else "password") in changed.text
    assert desk.account(number).admin.password_hash == desk.toolkit.hasher.hash(NEW_PASSWORD)
    for secret in (ADMIN_PASSWORD, NEW_PASSWORD, "PasLeBon1234", "court"):
        assert secret not in transcript(desk, chat)
    back = chat.press("⬅️")  # to the menu, never to a password question
    assert not back.secret_answer and ("Menu" in back.text or "menu" in back.text)


def test_a_copy_of_the_new_password_sent_twice_is_deleted_too(desk: Desk) -> None:
    chat, _ = in_menu(desk)
    chat.press("Mon compte administrateur")
    chat.press("🔒")
    chat.type(ADMIN_PASSWORD)
    chat.type(NEW_PASSWORD)
    again = chat.deliver(Event.typed(NEW_PASSWORD, update_id=9999))
    assert again.delete_incoming and NEW_PASSWORD not in transcript(desk, chat)
