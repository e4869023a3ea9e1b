"""The e-mails as their recipients read them: in their language, the button after the sentence that
introduces it, how long the link works, and who signs."""

from dataclasses import replace

import pytest

from bot.cli import main as flexbot
from bot.config import Settings
from flows.ports import Mail
from flows.subscriptions import open_subscription
from tests.flow_harness import PURCHASE_EMAIL, Chat, Desk, add_user, fill_admin
from tests.test_telegram_journey import outbox, plain_text

MARIE = ("Curie", "Marie", "marie@entreprise.fr")
DAY = 24 * 3600


def invite_marie(desk: Desk, language: str) -> tuple[Chat, Mail]:
    """The administrator's chat, at step 3 once Marie is invited, and her invitation."""
    chat, _ = desk.opened_chat(seats=2, language=language)
    fill_admin(chat)
    chat.press("Confirm" if language == "en" else "Confirmer")
    add_user(chat, *MARIE)
    chat.press("VALIDER ET ACTIVER")
    chat.press("📧")  # Confirmer l'envoi, Confirm sending
    return chat, desk.mails_to("marie@entreprise.fr")[-1]


@pytest.mark.parametrize(("language", "subject", "lasts", "signed"), [
    ("fr", "Jean Dupont vous invite à utiliser Sage 50 Comptabilité", "Ce lien fonctionne pendant 7 jours.",
     "Cordialement,\nL'équipe Sage Flex"),
    ("en", "Jean Dupont invites you to use Sage 50 Comptabilité", "This link works for 7 days.",
     "Kind regards,\nThe Sage Flex team"),
])
def test_an_invitation_is_in_the_administrators_language_says_how_long_it_works_and_is_signed(
        desk: Desk, language: str, subject: str, lasts: str, signed: str) -> None:
    _, mail = invite_marie(desk, language)
    assert mail.subject == subject and lasts in mail.text and mail.text.endswith(signed)
    assert f'lang="{language}"' in mail.html and "Sage Flex" in mail.html.split(lasts)[1]


def test_the_html_button_comes_after_the_sentence_that_introduces_it(desk: Desk) -> None:
    _, mail = invite_marie(desk, "fr")
    introduced, button, lasts = (mail.html.index(part) for part in
                                 ("en suivant ce lien personnel", "Définir mon mot de passe", "pendant 7 jours"))
    assert introduced < button < lasts and mail.html.count("<a ") == 1


def test_an_invited_user_whose_language_is_known_gets_the_next_invitation_in_it(desk: Desk) -> None:
    admin, first = invite_marie(desk, "en")
    marie = desk.chat(200, language="fr")
    marie.command("/start " + first.text.split("?start=")[1].split()[0])
    admin.press("Back")
    admin.press("Marie Curie")
    admin.press("Resend the invitation")
    resent = desk.mails_to("marie@entreprise.fr")[-1]
    assert first.subject.startswith("Jean Dupont invites you") and resent.subject.startswith("Jean Dupont vous invite")


@pytest.mark.parametrize(("ttl_days", "lasts"), [(30, "pendant 30 jours"), (1, "pendant 1 jour")])
def test_the_commencer_mail_says_how_long_its_link_works(ttl_days: int, lasts: str) -> None:
    desk = Desk.build()
    settings = replace(desk.toolkit.settings, activation_code_ttl=ttl_days * DAY, vendor_name="Ciel")
    open_subscription(replace(desk.toolkit, settings=settings), PURCHASE_EMAIL, "comptabilite", 1)
    (mail,) = desk.mails_to(PURCHASE_EMAIL)
    assert lasts in mail.text and mail.text.endswith("L'équipe Ciel") and "(s)" not in mail.text


def test_the_code_mail_follows_the_chats_language(desk: Desk) -> None:
    number = desk.open().subscription.number
    chat = desk.chat(language="en")
    chat.command("/start")
    chat.press("I did not get the e-mail")
    chat.type(number)
    chat.type(PURCHASE_EMAIL)
    mail = desk.mails_to(PURCHASE_EMAIL)[-1]
    assert mail.subject == "Your Flex activation code" and "It is valid for 15 minutes." in mail.text


def test_the_operator_chooses_the_language_of_the_commencer_mail(tmp_path, capsys) -> None:
    settings = Settings(_env_file=None, flexbot_data_dir=tmp_path / "data", bot_username="FlexCliBot")
    assert flexbot(["subscription", "add", "--email", "buyer@company.com", "--product", "paye", "--seats", "2",
                    "--language", "en"], settings) == 0
    (mail,) = outbox(settings)
    assert mail["Subject"].strip().startswith("Your Flex subscription") and "It works for 30 days." in plain_text(mail)
    assert "(Ciel Paye, 2 users)" in plain_text(mail)
