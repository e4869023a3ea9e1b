"""Invited users without Telegram: their link, their password, their menu, and the administrator's side."""

import re

import pytest

from flows.assistant import Assistant
from flows.ports import Mail
from tests.flow_harness import Chat, make_toolkit, open_account

PASSWORD = "Tournesol2026"
USER_PASSWORD = "Marguerite77x"
DAY = 24 * 3600


class Account:
    """A three-seat subscription: the administrator holds a seat and invited Marie and Louis."""

    def __init__(self) -> None:
        self.toolkit, self.outbox, self.clock = make_toolkit()
        self.assistant = Assistant(self.toolkit)
        opened = open_account(self.toolkit, seats=3)
        self.number = opened.subscription.number
        self.chats: dict[int, Chat] = {}
        self.admin = self.chat(100)
        self.admin.command(f"/start {opened.code}")
        self.admin.press("CRÉER mon compte Administrateur")
        for answer in ("Dupont", "Jean", "jean@entreprise.fr", PASSWORD):
            self.admin.type(answer)
        self.admin.press("Créer automatiquement mon compte utilisateur")
        self.admin.press("Confirmer")
        for last, first in (("Curie", "Marie"), ("Pasteur", "Louis")):
            self.admin.press("Créer un nouvel utilisateur")
            for answer in (last, first, f"{first.lower()}@entreprise.fr"):
                self.admin.type(answer)
            self.admin.press("Valider")
        self.admin.press("VALIDER ET ACTIVER")
        self.admin.press("Confirmer")

    def link_for(self, address: str) -> str:
        """The token of the newest invitation sent to `address`."""
        mail = next(m for m in reversed(self.outbox.mails) if m.to == address and "invite" in m.subject)
        return link_token(mail)

    def user(self, first_name: str):
        subscription = self.toolkit.store.load_subscription(self.number)
        assert subscription is not None
        return next(u for u in subscription.users if u.first_name == first_name)

    def chat(self, chat_id: int) -> Chat:
        """The same chat object each time, so its update ids keep growing."""
        return self.chats.setdefault(chat_id, Chat(self.assistant, chat_id))

    def admin_reviews(self, first_name: str) -> None:
        """From the administrator's menu to one invited user."""
        self.admin.press("Télécharger mon logiciel")
        self.admin.press("Menu")
        self.admin.press("Utilisateurs")
        self.admin.press(first_name)

    def admin_adds(self, last_name: str, first_name: str, email: str) -> None:
        """From the users' list, one more user up to Valider."""
        self.admin.press("Créer un nouvel utilisateur")
        for answer in (last_name, first_name, email):
            self.admin.type(answer)
        self.admin.press("Valider")


def link_token(mail: Mail) -> str:
    match = re.search(r"\?start=([A-Za-z0-9_-]+)", mail.text)
    assert match, mail.text
    return match.group(1)


def joined(account: Account, chat_id: int = 200) -> Chat:
    marie = account.chat(chat_id)
    marie.command(f"/start {account.link_for('marie@entreprise.fr')}")
    marie.type(USER_PASSWORD)
    return marie


@pytest.fixture
def account() -> Account:
    return Account()


def test_the_link_greets_the_user_and_their_password_makes_them_active(account: Account):
    marie = account.chat(200)
    greeting = marie.command(f"/start {account.link_for('marie@entreprise.fr')}")
    assert "Bonjour Marie ! Jean Dupont a créé votre compte" in greeting.text
    assert f"Abonnement {account.number}" in greeting.text and "Sage 50 Comptabilité" in greeting.text
    assert greeting.secret_answer and "au moins 10 caractères" in greeting.text
    weak = marie.type("court")
    assert "Ce mot de passe ne convient pas" in weak.text and marie.outcomes[-1].delete_incoming
    menu = marie.type(USER_PASSWORD)
    assert marie.outcomes[-1].delete_incoming
    assert "Votre compte utilisateur est actif" in menu.text and "Recevoir le mot de passe pour direct Déclaration" in str(marie.labels())
    assert account.user("Marie").status.value == "active"
    assert account.user("Marie").password_hash == account.toolkit.hasher.hash(USER_PASSWORD)
    summary = account.admin.command("/etat")
    assert "Marie Curie <marie@entreprise.fr> — compte actif" in summary.text
    assert "Louis Pasteur <louis@entreprise.fr> — invitation envoyée" in summary.text
    assert not any("Retour" in label for label in marie.labels(menu))


def test_a_used_link_works_nowhere_else_and_only_resumes_in_its_own_chat(account: Account):
    token = account.link_for("marie@entreprise.fr")
    joined(account)
    stranger = account.chat(300).command(f"/start {token}")
    assert "déjà été utilisé" in stranger.text and not stranger.buttons
    assert "Marie" not in stranger.text and account.number not in stranger.text
    again = account.chat(200).command(f"/start {token}")
    assert "Bon retour" in again.text and "Votre compte utilisateur" in again.text


def test_an_expired_link_is_refused_with_nothing_else(account: Account):
    token = account.link_for("marie@entreprise.fr")
    account.clock.now += 8 * DAY
    refused = account.chat(200).command(f"/start {token}")
    assert "a expiré" in refused.text
    assert not refused.buttons and account.number not in refused.text
    assert account.user("Marie").status.value == "invited"


def test_resending_revokes_the_old_link_and_the_new_one_works(account: Account):
    old = account.link_for("marie@entreprise.fr")
    account.admin_reviews("Marie")
    review = account.admin.press("Renvoyer l'invitation")
    assert "Nouvelle invitation envoyée à marie@entreprise.fr" in review.text
    new = account.link_for("marie@entreprise.fr")
    assert new != old
    revoked = account.chat(200).command(f"/start {old}")
    assert "n'est plus valable" in revoked.text and not revoked.buttons
    assert "Bonjour Marie" in account.chat(200).command(f"/start {new}").text


def test_deactivating_frees_the_seat_closes_the_chat_and_tells_the_user(account: Account):
    marie = joined(account)
    account.admin_reviews("Marie")
    account.admin.press("Désactiver cet utilisateur")
    account.admin.press("Confirmer la désactivation")
    told = account.admin.outcomes[-1].deliveries
    assert told and told[0].chat_id == 200 and "a désactivé votre compte utilisateur" in told[0].text
    users = account.admin.press("Utilisateurs")
    assert "Utilisateurs : 2 / 3" in users.text and "Marie Curie <marie@entreprise.fr> — compte désactivé" in users.text
    closed = marie.press("Nom")
    assert "désactivé" in closed.text and not closed.buttons
    assert "Aucun abonnement" in marie.command("/etat").text
    account.admin.press("Marie")
    reactivated = account.admin.press("Réactiver cet utilisateur")
    assert "nouvelle invitation est envoyée à marie@entreprise.fr" in reactivated.text
    assert account.user("Marie").status.value == "invited"
    assert "Bonjour Marie" in marie.command(f"/start {account.link_for('marie@entreprise.fr')}").text


def test_reactivation_needs_a_free_seat(account: Account):
    account.admin_reviews("Marie")
    account.admin.press("Désactiver cet utilisateur")
    account.admin.press("Confirmer la désactivation")
    account.admin.press("Utilisateurs")
    account.admin_adds("Lovelace", "Ada", "ada@entreprise.fr")
    account.admin.press("Marie")
    refused = account.admin.press("Réactiver cet utilisateur")
    assert "toutes les places sont attribuées" in refused.text
    assert account.user("Marie").status.value == "deactivated"


def test_the_user_changes_name_address_and_email_confirmed_by_a_code(account: Account):
    marie = joined(account)
    marie.press("Nom")
    marie.type("Sklodowska-Curie")
    marie.press("Adresse postale")
    marie.type("12 rue des Lilas\n75011 Paris")
    assert account.user("Marie").address == "12 rue des Lilas, 75011 Paris"
    marie.press("Adresse e-mail")
    taken = marie.type("louis@entreprise.fr")
    assert "déjà utilisée" in taken.text
    asked = marie.type("marie.curie@labo.fr")
    assert "Un code de confirmation vient d'être envoyé à marie.curie@labo.fr" in asked.text
    mail = account.outbox.mails[-1]
    assert mail.to == "marie.curie@labo.fr" and mail.html and "<p>" in mail.html
    code = re.search(r"nouvelle adresse e-mail : (\w+)", mail.text).group(1)  # type: ignore[union-attr]
    assert "n'est pas valable" in marie.type("AAAAAAAA").text
    assert account.user("Marie").email == "marie@entreprise.fr"
    done = marie.type(code.lower())
    assert "Votre adresse e-mail est à présent marie.curie@labo.fr" in done.text
    user = account.user("Marie")
    assert (user.last_name, user.email) == ("Sklodowska-Curie", "marie.curie@labo.fr")
    assert "Marie Sklodowska-Curie <marie.curie@labo.fr> — compte actif" in account.admin.command("/etat").text


def test_changing_the_password_asks_the_current_one_first(account: Account):
    marie = joined(account)
    asked = marie.press("Mot de passe")
    assert asked.secret_answer and "mot de passe actuel" in asked.text
    wrong = marie.type("PasLeBon1234")
    assert "Ce n'est pas votre mot de passe actuel" in wrong.text and marie.outcomes[-1].delete_incoming
    marie.type(USER_PASSWORD)
    changed = marie.type("Coquelicot2027")
    assert "Votre mot de passe a été modifié" in changed.text and marie.outcomes[-1].delete_incoming
    assert account.user("Marie").password_hash == account.toolkit.hasher.hash("Coquelicot2027")
    assert not any("Retour" in label for label in marie.labels(changed))


def test_the_menu_is_home_retour_never_reopens_a_question_answered_from_it(account: Account):
    marie = joined(account)
    marie.press("Prénom")
    menu = marie.type("Marie-Anne")
    assert "C'est enregistré" in menu.text and "Prénom : Marie-Anne" in menu.text
    assert not any("Retour" in label for label in marie.labels(menu))
    asked = marie.press("Prénom")
    assert "(Réponse actuelle : Marie-Anne)" in asked.text
    assert "Votre compte utilisateur" in marie.press("Retour").text


def test_the_direct_declaration_password_goes_by_mail_and_never_to_the_chat(account: Account):
    marie = joined(account)
    said = marie.press("Recevoir le mot de passe pour direct Déclaration")
    mail = account.outbox.mails[-1]
    assert mail.to == "marie@entreprise.fr" and mail.secret and mail.notify_chat == 200
    password = re.search(r"direct Déclaration : (\S+)", mail.text).group(1)  # type: ignore[union-attr]
    assert len(password) >= 10 and password in (mail.html or "")
    assert "envoyé par e-mail à marie@entreprise.fr" in said.text
    assert all(password not in reply.text for outcome in marie.outcomes for reply in outcome.replies)
    assert account.user("Marie").declaration_password_hash == account.toolkit.hasher.hash(password)


def test_mobile_data_only_when_the_subscription_has_it(account: Account):
    marie = joined(account)
    refused = marie.press("Ciel Données Mobiles")
    assert "n'est pas activé sur l'abonnement" in refused.text and not account.user("Marie").mobile_data
    account.admin.press("Ciel Données Mobiles")
    menu = marie.command("/start")
    assert "☐ Ciel Données Mobiles" in marie.labels(menu)
    on = marie.press("Ciel Données Mobiles")
    assert "☑ Ciel Données Mobiles" in marie.labels(on) and account.user("Marie").mobile_data
    assert any(b.url for row in on.buttons for b in row if "Souscription" in b.label)


def test_reactivation_refuses_an_address_given_to_someone_else_meanwhile(account: Account):
    account.admin_reviews("Marie")
    account.admin.press("Désactiver cet utilisateur")
    account.admin.press("Confirmer la désactivation")
    account.admin.press("Utilisateurs")
    account.admin.press("Louis")
    account.admin.press("Désactiver cet utilisateur")
    account.admin.press("Confirmer la désactivation")
    account.admin.press("Utilisateurs")
    account.admin_adds("Curie", "Marion", "marie@entreprise.fr")
    account.admin.press("Marie Curie")
    refused = account.admin.press("Réactiver cet utilisateur")
    assert "déjà utilisée" in refused.text and account.user("Marie").status.value == "deactivated"
    assert "Utilisateurs : 2 / 3" in account.admin.press("Utilisateurs").text


@pytest.mark.parametrize(("language", "said", "cancel"), [
    ("fr", "Désactiver Marie Curie", "Annuler"), ("en", "Deactivate Marie Curie?", "Cancel")])
def test_deactivating_asks_first_and_cancelling_keeps_the_access(account: Account, language: str, said: str,
                                                                 cancel: str):
    marie = joined(account)
    account.admin_reviews("Marie")
    account.admin.language = language
    asked = account.admin.press("⛔")
    assert said in asked.text and not account.admin.outcomes[-1].deliveries
    assert account.user("Marie").status.value == "active"
    card = account.admin.press(cancel)
    assert "Marie Curie" in card.text and account.user("Marie").status.value == "active"
    assert "Bonjour" not in marie.press("Nom").text and account.user("Marie").chat_id == marie.chat_id
