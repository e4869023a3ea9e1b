"""End to end: invited users follow the links a real SMTP server received and finish their accounts in the bot."""

import asyncio
import re
from email.message import EmailMessage

import pytest

from bot.config import Settings
from tests.conftest import SmtpServer, running_bot, with_smtp
from tests.fake_bot_api import FakeBotAPI
from tests.telegram_user import TelegramUser
from tests.test_telegram_journey import PASSWORD, assert_nowhere_in_clear, create_admin, open_subscription

MARIE_PASSWORD, MARIE_NEW_PASSWORD, LOUIS_PASSWORD = "Marguerite77x", "Coquelicot2027", "Pissenlit88y"


async def mail_to(smtp: SmtpServer, address: str, count: int = 1) -> EmailMessage:
    """The `count`-th mail the SMTP server received for `address`, once it is there."""
    async def arrived() -> None:
        while len(smtp.sent_to(address)) < count:
            await asyncio.sleep(0.01)
    await asyncio.wait_for(arrived(), 10)
    return smtp.sent_to(address)[count - 1]


def html(mail: EmailMessage) -> str:
    return mail.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]


def text(mail: EmailMessage) -> str:
    return mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


def button_link(mail: EmailMessage, bot_api: FakeBotAPI) -> str:
    """What the person taps in the e-mail: the button's deep link, reduced to the /start it opens."""
    match = re.search(rf'<a href="https://t\.me/{bot_api.username}\?start=([A-Za-z0-9_-]+)"', html(mail))
    assert match, html(mail)
    return f"/start {match.group(1)}"


async def admin_with_two_invited_users(admin: TelegramUser, code: str) -> None:
    await admin.send(f"/start {code}")
    await create_admin(admin, own_user=True)
    await admin.press("Confirmer")
    for last, first in (("Curie", "Marie"), ("Pasteur", "Louis")):
        await admin.press("Créer un nouvel utilisateur")
        await admin.send(last)
        await admin.send(first)
        await admin.send(f"{first.lower()}@garage-dupont.fr")
        await admin.press("Valider")
    await admin.press("VALIDER ET ACTIVER")
    services = await admin.press("Confirmer")
    assert "2 invitations envoyées" in services.text


async def notice_in(bot_api: FakeBotAPI, chat_id: int, words: str) -> str:
    def said() -> str | None:
        return next((m.text for m in bot_api.chats.get(chat_id, []) if m.text and words in m.text), None)
    await bot_api.wait_until(lambda: said() is not None)
    return said() or ""


async def test_users_finish_their_accounts_from_the_mails_while_the_mail_server_comes_and_goes(
        bot_api: FakeBotAPI, settings: Settings, smtp: SmtpServer, capsys: pytest.CaptureFixture[str]):
    settings = with_smtp(settings, smtp)
    opened = await open_subscription(settings, capsys, "comptabilite", 3)
    admin, marie, louis = TelegramUser(bot_api, 601), TelegramUser(bot_api, 602, "Marie"), TelegramUser(bot_api, 603, "Louis")
    async with running_bot(settings, bot_api):
        await admin_with_two_invited_users(admin, opened["code"])
        pending = await notice_in(bot_api, admin.id, "Envoi en attente")
        assert "marie@garage-dupont.fr" in pending or "louis@garage-dupont.fr" in pending
        smtp.start()
        invitation = await mail_to(smtp, "marie@garage-dupont.fr")
        assert invitation["Subject"] == "Jean Dupont vous invite à utiliser Sage 50 Comptabilité"
        assert "Bonjour Marie" in text(invitation) and "Définir mon mot de passe</a>" in html(invitation)

        greeting = await marie.send(button_link(invitation, bot_api))
        assert "Bonjour Marie ! Jean Dupont a créé votre compte" in greeting.text
        assert opened["number"] in greeting.text
        menu = await marie.send(MARIE_PASSWORD)
        assert next(m for m in bot_api.chats[marie.id] if m.text == MARIE_PASSWORD).deleted
        assert "Votre compte utilisateur est actif" in menu.text
        await louis.send(button_link(await mail_to(smtp, "louis@garage-dupont.fr"), bot_api))
        await louis.send(LOUIS_PASSWORD)
        summary = await admin.send("/etat")
        assert "Marie Curie <marie@garage-dupont.fr> — compte actif" in summary.text
        assert "Louis Pasteur <louis@garage-dupont.fr> — compte actif" in summary.text

        smtp.stop()
        await marie.press("Adresse e-mail")
        asked = await marie.send("marie.curie@labo.fr")
        assert "Un code de confirmation vient d'être envoyé à marie.curie@labo.fr" in asked.text
        await notice_in(bot_api, marie.id, "Envoi en attente")
        smtp.start()
        code = re.search(r"nouvelle adresse e-mail : (\w+)", text(await mail_to(smtp, "marie.curie@labo.fr")))
        assert code
        changed = await marie.send(code.group(1))
        assert "Votre adresse e-mail est à présent marie.curie@labo.fr" in changed.text

        await marie.press("Mot de passe")
        await marie.send(MARIE_PASSWORD)
        changed = await marie.send(MARIE_NEW_PASSWORD)
        assert "Votre mot de passe a été modifié" in changed.text
        assert all(m.deleted for m in bot_api.chats[marie.id] if m.text in {MARIE_PASSWORD, MARIE_NEW_PASSWORD})

        said = await marie.press("Recevoir le mot de passe pour direct Déclaration")
        assert "envoyé par e-mail à marie.curie@labo.fr" in said.text
        declaration = await mail_to(smtp, "marie.curie@labo.fr", 2)
        password = re.search(r"direct Déclaration : (\S+)", text(declaration))
        assert password
        assert not [m for m in bot_api.chats[marie.id] if m.text and password.group(1) in m.text]
        await asyncio.wait_for(until_outbox_empty(settings), 10)
    for secret in (PASSWORD, MARIE_PASSWORD, MARIE_NEW_PASSWORD, LOUIS_PASSWORD, password.group(1)):
        assert_nowhere_in_clear(secret, settings.flexbot_data_dir)


async def until_outbox_empty(settings: Settings) -> None:
    while any((settings.outbox_dir / "new").iterdir()):
        await asyncio.sleep(0.01)


async def test_links_used_resent_or_deactivated_stop_working_and_the_user_is_told(
        bot_api: FakeBotAPI, settings: Settings, smtp: SmtpServer, capsys: pytest.CaptureFixture[str]):
    settings = with_smtp(settings, smtp)
    smtp.start()
    opened = await open_subscription(settings, capsys, "comptabilite", 3)
    admin, marie, louis, other = (TelegramUser(bot_api, 611), TelegramUser(bot_api, 612, "Marie"),
                                  TelegramUser(bot_api, 613, "Louis"), TelegramUser(bot_api, 614, "Eve"))
    async with running_bot(settings, bot_api):
        await admin_with_two_invited_users(admin, opened["code"])
        marie_link = button_link(await mail_to(smtp, "marie@garage-dupont.fr"), bot_api)
        louis_first = button_link(await mail_to(smtp, "louis@garage-dupont.fr"), bot_api)
        await marie.send(marie_link)
        await marie.send(MARIE_PASSWORD)
        used = await other.send(marie_link)
        assert "déjà été utilisé" in used.text and not used.buttons() and opened["number"] not in used.text

        await admin.press("Télécharger mon logiciel")
        await admin.sees("Cet assistant vous a-t-il été utile")  # the article's question follows the step
        await admin.press("Menu")
        await admin.press("Utilisateurs")
        louis_card = await admin.press("Louis Pasteur")
        assert "invitation envoyée" in louis_card.text
        await admin.press("Renvoyer l'invitation")
        revoked = await louis.send(louis_first)
        assert "n'est plus valable" in revoked.text and not revoked.buttons()
        greeting = await louis.send(button_link(await mail_to(smtp, "louis@garage-dupont.fr", 2), bot_api))
        assert "Bonjour Louis" in greeting.text

        await admin.press("Utilisateurs")
        await admin.press("Marie Curie")
        await admin.press("Désactiver cet utilisateur")
        await admin.press("Confirmer la désactivation")
        told = await notice_in(bot_api, marie.id, "a désactivé votre compte utilisateur")
        assert told
        users = await admin.press("Utilisateurs")
        assert "Utilisateurs : 2 / 3" in users.text and "Marie Curie <marie@garage-dupont.fr> — compte désactivé" in users.text
        closed = await marie.press("Nom")
        assert "désactivé" in closed.text and not closed.buttons()
        again = await marie.send(marie_link)
        assert "n'est plus valable" in again.text
