"""A link for another account, in a chat already bound to one: said and asked, never a silent switch."""

import pytest

from tests.flow_harness import Desk, fill_admin
from tests.test_members_flow import Account, USER_PASSWORD


@pytest.fixture
def account() -> Account:
    """A three-seat account whose administrator invited Marie and Louis."""
    return Account()


@pytest.mark.parametrize(("language", "said", "stay", "switch"), [
    ("fr", "Ce lien ouvre un autre abonnement", "Rester sur l'abonnement", "Ouvrir ce lien ici"),
    ("en", "This link opens another subscription", "Stay on subscription", "Open this link here")])
def test_another_commencer_link_in_a_bound_chat_asks_before_switching(desk: Desk, language: str, said: str,
                                                                      stay: str, switch: str) -> None:
    chat, first = desk.opened_chat(language=language)
    chat.press("CRÉER mon compte Administrateur")
    chat.type("Dupont")
    other = desk.open(seats=3)
    asked = chat.command(f"/start {other.code}")
    assert said in asked.text and other.subscription.number in asked.text
    assert first.subscription.number in asked.text
    conversation = desk.toolkit.store.load_conversation(chat.chat_id)
    assert conversation.subscription_number == first.subscription.number
    assert desk.toolkit.store.load_code(other.code).used_at is None
    stayed = chat.press(stay)
    assert ("prénom" if language == "fr" else "first name") in stayed.text
    assert desk.toolkit.store.load_conversation(chat.chat_id).answers["admin"]["last_name"] == "Dupont"
    chat.command(f"/start {other.code}")
    switched = chat.press(switch)
    assert other.subscription.number in switched.text and "3" in switched.text
    assert desk.toolkit.store.load_conversation(chat.chat_id).subscription_number == other.subscription.number


def test_retour_from_the_question_is_staying(desk: Desk) -> None:
    chat, first = desk.opened_chat()
    fill_admin(chat)
    chat.command(f"/start {desk.open().code}")
    back = chat.press("Retour")
    assert "Vérifiez votre compte administrateur" in back.text
    assert desk.toolkit.store.load_conversation(chat.chat_id).subscription_number == first.subscription.number
    assert "switch" not in desk.toolkit.store.load_conversation(chat.chat_id).answers


def test_an_unbound_chat_opens_a_link_at_once(desk: Desk) -> None:
    opened = desk.open()
    chat = desk.chat()
    chat.command("/start")
    assert "Bienvenue" in chat.command(f"/start {opened.code}").text


@pytest.mark.parametrize(("language", "said"), [("fr", "Ce lien est l'invitation de Marie Curie"),
                                                  ("en", "This link is Marie Curie's invitation")])
def test_an_invitation_opened_in_the_administrators_chat_asks_and_staying_keeps_everything(
        language: str, said: str) -> None:
    account = Account()
    link = account.link_for("marie@entreprise.fr")
    account.admin.language = language
    asked = account.admin.command(f"/start {link}")
    assert said in asked.text and account.toolkit.store.load_code(link).used_at is None
    assert account.toolkit.store.load_conversation(account.admin.chat_id).user_id is None
    account.admin.press("Rester sur l'abonnement" if language == "fr" else "Stay on subscription")
    assert account.toolkit.store.load_conversation(account.admin.chat_id).user_id is None
    marie = account.chat(200)
    marie.command(f"/start {link}")
    assert "Marie" in marie.type(USER_PASSWORD).text and account.user("Marie").status.value == "active"


def test_switching_to_the_invitation_makes_it_that_users_chat(account: Account) -> None:
    link = account.link_for("marie@entreprise.fr")
    account.admin.command(f"/start {link}")
    joined = account.admin.press("Ouvrir ce lien ici")
    assert "Bonjour Marie" in joined.text
    assert account.toolkit.store.load_conversation(account.admin.chat_id).user_id == account.user("Marie").id


def test_a_link_revoked_while_asked_is_refused_and_the_chat_stays(account: Account) -> None:
    link = account.link_for("marie@entreprise.fr")
    account.admin.command(f"/start {link}")
    subscription = account.toolkit.store.load_subscription(account.number)
    next(u for u in subscription.users if u.first_name == "Marie").invitation = None
    account.toolkit.store.save_subscription(subscription)
    refused = account.admin.press("Ouvrir ce lien ici")
    assert "⚠️" in refused.text and account.toolkit.store.load_conversation(account.admin.chat_id).user_id is None
