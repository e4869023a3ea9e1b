"""End to end: the real python-telegram-bot Application against the fake Bot API on loopback."""

import asyncio
import copy
import json
from email import message_from_bytes
from email.message import EmailMessage
from email import policy
from pathlib import Path

import pytest

from bot.cli import main as flexbot
from bot.config import Settings
from tests.conftest import running_bot
from tests.fake_bot_api import FakeBotAPI
from tests.telegram_user import TelegramUser

PASSWORD = "Tournesol2026"


async def open_subscription(settings: Settings, capsys: pytest.CaptureFixture[str], product: str, seats: int) -> dict:
    """The operator's command, in a thread of its own since it asks the Bot API for the bot's name."""
    assert await asyncio.to_thread(flexbot, ["subscription", "add", "--email", "achat@garage-dupont.fr", "--product", product,
                    "--seats", str(seats), "--json"], settings) == 0
    return json.loads(capsys.readouterr().out)


def outbox(settings: Settings) -> list[EmailMessage]:
    files = sorted((settings.outbox_dir / "new").glob("*"), key=lambda p: p.stat().st_mtime_ns)
    return [message_from_bytes(p.read_bytes(), policy=policy.default) for p in files]  # type: ignore[misc]


def plain_text(mail: EmailMessage) -> str:
    return mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


async def up_to_the_first_name(admin: TelegramUser, code: str) -> None:
    """The Commencer link, CRÉER mon compte Administrateur, the last name: the first name is asked next."""
    await admin.send(f"/start {code}")
    await admin.press("CRÉER mon compte Administrateur")
    await admin.send("Dupont")


async def create_admin(admin: TelegramUser, *, own_user: bool) -> None:
    await admin.press("CRÉER mon compte Administrateur")
    await admin.send("Dupont")
    await admin.send("Jean")
    await admin.send("jean.dupont@garage-dupont.fr")
    review = await admin.send(PASSWORD)
    assert "Vérifiez votre compte administrateur" in review.text
    if ("☑ Créer automatiquement mon compte utilisateur" in admin.labels(review)) != own_user:
        review = await admin.press("Créer automatiquement mon compte utilisateur")
    box = "☑" if own_user else "☐"
    assert f"{box} Créer automatiquement mon compte utilisateur" in admin.labels(review)


async def test_commencer_link_takes_a_one_seat_administrator_to_the_download(bot_api: FakeBotAPI, settings: Settings, capsys):
    opened = await open_subscription(settings, capsys, "comptabilite", 1)
    assert opened["link"] == f"https://t.me/{bot_api.username}?start={opened['code']}"
    assert opened["link"] in plain_text(outbox(settings)[0])
    admin = TelegramUser(bot_api, 501)
    async with running_bot(settings, bot_api):
        welcome = await admin.send(f"/start {opened['code']}")
        assert "Offre : « Souscription »" in welcome.text and "Nombre d'utilisateurs : 1" in welcome.text
        await create_admin(admin, own_user=True)
        password_message = next(m for m in bot_api.chats[501] if m.text == PASSWORD)
        assert password_message.deleted
        services = await admin.press("Confirmer")
        assert "Le compte administrateur est à présent configuré." in services.text
        assert "Étape 3/4 — Services connectés" in services.text
        assert "Télédéclaration DUCS, DADS-U, DUE et AED : indisponible" in services.text
        await admin.press("Ciel Données Mobiles")
        refused = await admin.press("Télédéclaration DUCS")
        assert "réservée à Ciel Paye" in refused.text
        download = await admin.press("Télécharger mon logiciel")
        assert "Étape 4/4" in download.text
        assert "requiert une connexion internet permanente" in download.text
        urls = [b.get("url") for b in download.buttons() if "url" in b]
        assert len(urls) == 2 and any("TÉLÉCHARGER mon logiciel" in b["text"] for b in download.buttons())
        assert "Jean Dupont <jean.dupont@garage-dupont.fr> — compte actif — administrateur" in download.text
    assert_nowhere_in_clear(PASSWORD, settings.flexbot_data_dir)


async def test_three_seat_payroll_subscription_with_the_seat_limit(bot_api: FakeBotAPI, settings: Settings, capsys):
    opened = await open_subscription(settings, capsys, "paye", 3)
    admin = TelegramUser(bot_api, 502)
    async with running_bot(settings, bot_api):
        await admin.send(f"/start {opened['code']}")
        await create_admin(admin, own_user=True)
        users = await admin.press("Confirmer")
        assert "Étape 2/4 — Comptes utilisateurs" in users.text and "Utilisateurs : 1 / 3" in users.text
        for last, first in (("Curie", "Marie"), ("Pasteur", "Louis")):
            double_tap = copy.deepcopy(admin.message_with_button("Créer un nouvel utilisateur"))
            await admin.press("Créer un nouvel utilisateur")
            await admin.send(last)
            await admin.send(first)
            await admin.send(f"{first.lower()}@garage-dupont.fr")
            users = await admin.press("Valider")
        assert "Utilisateurs : 3 / 3" in users.text
        assert not any("Créer un nouvel utilisateur" in label for label in admin.labels(users))
        stale = await admin.press("Créer un nouvel utilisateur", message=double_tap)
        assert "Utilisateurs : 3 / 3" in stale.text and "Nom du nouvel utilisateur" not in stale.text
        confirm = await admin.press("VALIDER ET ACTIVER")
        assert "va envoyer 2 e-mails d'invitation" in confirm.text and not outbox(settings)[1:]
        services = await admin.press("Confirmer")
        assert "2 invitations envoyées" in services.text
        assert "☐ Télédéclaration DUCS, DADS-U, DUE et AED" in admin.labels(services)
        await admin.press("Télédéclaration DUCS")
        await admin.press("Activer plus tard")
        assert "Marie Curie <marie@garage-dupont.fr> — invitation envoyée" in admin.last.text
    invitations = [m for m in outbox(settings) if m["To"] in {"marie@garage-dupont.fr", "louis@garage-dupont.fr"}]
    assert len(invitations) == 2
    assert all(f"https://t.me/{bot_api.username}?start=" in plain_text(m) for m in invitations)


async def test_administrator_without_the_email_proves_the_purchase_address(bot_api: FakeBotAPI, settings: Settings, capsys):
    opened = await open_subscription(settings, capsys, "comptabilite", 2)
    admin = TelegramUser(bot_api, 503)
    async with running_bot(settings, bot_api):
        entry = await admin.send("/start")
        assert "Mon équipement | Mes solutions" in entry.text
        route = await admin.press("Je n'ai pas reçu l'e-mail")
        assert route.message_id == entry.message_id and "Mon équipement | Mes solutions" in route.text
        await admin.send(opened["number"])
        malformed = await admin.send("quelquun-ailleurs.fr")
        assert "Cette adresse e-mail n'est pas valide" in malformed.text
        unmatched = (await admin.send("quelquun@ailleurs.fr")).text  # the message is edited later on
        assert opened["number"] not in unmatched and len(outbox(settings)) == 1
        await admin.press("Recevoir un nouveau code")
        await admin.send(opened["number"].lower())
        asked = await admin.send("ACHAT@garage-dupont.fr")
        assert asked.text == unmatched and "Saisissez ce code" in asked.text
        mail = outbox(settings)[-1]
        assert mail["To"] == "achat@garage-dupont.fr"
        code = plain_text(mail).split(f"n° {opened['number']} : ")[1].split()[0]
        wrong = await admin.send("AAAAAAAA")
        assert "Ce code n'est pas valable" in wrong.text
        welcome = await admin.send(f" {code[:4].lower()} {code[4:]} ")
        assert "Nombre d'utilisateurs : 2" in welcome.text


async def test_stickers_text_and_old_buttons_get_the_current_question_again(bot_api: FakeBotAPI, settings: Settings, capsys):
    opened = await open_subscription(settings, capsys, "comptabilite", 1)
    admin = TelegramUser(bot_api, 504)
    async with running_bot(settings, bot_api):
        welcome = await admin.send(f"/start {opened['code']}")
        answer = await admin.send("bonjour")
        assert "utilisez les boutons" in answer.text and "CRÉER mon compte Administrateur" in str(admin.labels(answer))
        await admin.press("CRÉER mon compte Administrateur")
        sticker = await admin.send_sticker()
        assert "Je ne peux pas lire ce type de message" in sticker.text and "Quel est votre nom" in sticker.text
        old = await admin.press("CRÉER mon compte Administrateur", message=welcome)
        assert "Quel est votre nom" in old.text
        assert bot_api.method_calls("answerCallbackQuery")[-1].get("text", "").startswith("Ce bouton n'est plus valable")
        name = await admin.send("Dupont")
        assert "Quel est votre prénom" in name.text
        state = await admin.send("/État")  # as French is typed: Telegram registers only /etat
        assert opened["number"] in state.text and "Quel est votre prénom" in state.text


async def test_editing_an_earlier_answer_is_explained_and_never_taken_as_the_current_one(
        bot_api: FakeBotAPI, settings: Settings, capsys):
    opened = await open_subscription(settings, capsys, "comptabilite", 1)
    admin = TelegramUser(bot_api, 506)
    async with running_bot(settings, bot_api):
        await up_to_the_first_name(admin, opened["code"])
        await admin.send("Jean")
        await admin.send("Jean.Dupont2026@garage-dupont.fr")
        typo = next(m for m in bot_api.chats[506] if m.text == "Jean.Dupont2026@garage-dupont.fr")

        edited = await admin.edit(typo.message_id, "Jean.Dupont2025@garage-dupont.fr")

        assert "message modifié" in edited.text and "mot de passe" in edited.text
        review = await admin.send(PASSWORD)
        assert "Adresse e-mail : Jean.Dupont2026@garage-dupont.fr" in review.text
        changed = await admin.press("Adresse e-mail")
        assert "Jean.Dupont2026@garage-dupont.fr" in changed.text


async def test_a_restart_in_the_middle_resumes_where_the_chat_stood(bot_api: FakeBotAPI, settings: Settings, capsys):
    opened = await open_subscription(settings, capsys, "comptabilite", 1)
    admin = TelegramUser(bot_api, 505)
    async with running_bot(settings, bot_api):
        await up_to_the_first_name(admin, opened["code"])
    async with running_bot(settings, bot_api):
        resumed = await admin.send("/start")
        assert "Bon retour" in resumed.text and "Quel est votre prénom" in resumed.text
        await admin.send("Jean")
        again = await admin.send(f"/start {opened['code']}")
        assert "Bon retour" in again.text and "adresse e-mail" in again.text
        await admin.send("jean@garage-dupont.fr")
        review = await admin.send(PASSWORD)
        assert "Nom : Dupont" in review.text and "Prénom : Jean" in review.text


def assert_nowhere_in_clear(secret: str, directory: Path) -> None:
    files = [path for path in directory.rglob("*") if path.is_file()]
    assert files
    for path in files:
        assert secret.encode() not in path.read_bytes(), f"{secret!r} found in clear in {path}"


async def test_a_minimal_bot_api_server_still_gets_every_reply(bot_api: FakeBotAPI, settings: Settings, capsys):
    """No command menu, no deletions, no answers to button presses, presses that do not say which
    message they came from: the conversation goes on, and nothing is lost but the comforts."""
    bot_api.missing_methods |= {"setMyCommands", "deleteMessage", "answerCallbackQuery"}
    opened = await open_subscription(settings, capsys, "comptabilite", 1)
    admin = TelegramUser(bot_api, 506)
    async with running_bot(settings, bot_api):
        welcome = await admin.send(f"/start {opened['code']}")
        button = next(b for b in welcome.buttons() if "CRÉER" in b["text"])
        asked = await admin._reply_to(lambda: bot_api.press(admin.user, welcome, button["callback_data"],
                                                            say_which=False))
        assert "Quel est votre nom" in asked.text and asked.message_id != welcome.message_id
        await admin.send("Dupont")
        await admin.send("Jean")
        await admin.send("jean@garage-dupont.fr")
        review = await admin.send(PASSWORD)
        assert "Vérifiez votre compte administrateur" in review.text
        assert "Le compte administrateur est à présent configuré." in (await admin.press("Confirmer")).text


async def test_a_flood_limit_delays_a_reply_but_does_not_lose_it(bot_api: FakeBotAPI, settings: Settings, capsys):
    opened = await open_subscription(settings, capsys, "comptabilite", 1)
    admin = TelegramUser(bot_api, 507)
    bot_api.fail_next["sendMessage"] = {"error_code": 429, "description": "Too Many Requests: retry after 1",
                                        "parameters": {"retry_after": 1}}
    async with running_bot(settings, bot_api):
        welcome = await admin.send(f"/start {opened['code']}")
        assert "Offre : « Souscription »" in welcome.text
        assert len([p for p in bot_api.method_calls("sendMessage") if p.get("chat_id") == admin.id]) == 2


async def test_another_commencer_link_in_a_bound_chat_asks_before_switching(bot_api: FakeBotAPI, settings: Settings,
                                                                          capsys):
    first = await open_subscription(settings, capsys, "comptabilite", 1)
    other = await open_subscription(settings, capsys, "paye", 3)
    admin = TelegramUser(bot_api, 520)
    async with running_bot(settings, bot_api):
        await up_to_the_first_name(admin, first["code"])
        asked = await admin.send(f"/start {other['code']}")
        assert "Ce lien ouvre un autre abonnement" in asked.text and other["number"] in asked.text
        stayed = await admin.press("Rester sur l'abonnement")
        assert "prénom" in stayed.text and "Étape 1/4" in stayed.text
        await admin.send(f"/start {other['code']}")
        switched = await admin.press("Ouvrir ce lien ici")
        assert other["number"] in switched.text and "Ciel Paye" in switched.text


async def test_the_administrator_changes_their_password_after_the_setup(bot_api: FakeBotAPI, settings: Settings,
                                                                      capsys):
    opened = await open_subscription(settings, capsys, "comptabilite", 1)
    admin = TelegramUser(bot_api, 521)
    new_password = "Coquelicot2027"
    async with running_bot(settings, bot_api):
        await admin.send(f"/start {opened['code']}")
        await create_admin(admin, own_user=True)
        await admin.press("Confirmer")
        await admin.press("Télécharger mon logiciel")
        await admin.sees("Cet assistant vous a-t-il été utile")  # the article's question follows the step
        await admin.press("Menu")
        account = await admin.press("Mon compte administrateur")
        assert "Votre compte administrateur" in account.text
        await admin.press("Mot de passe")
        await admin.send(PASSWORD)
        changed = await admin.send(new_password)
        assert "Votre mot de passe a été modifié" in changed.text
        typed = [m for m in bot_api.chats[521] if m.text in (PASSWORD, new_password) and not m.from_bot]
        assert len(typed) == 3 and all(m.deleted for m in typed)  # the first one at step 1, then these two
    assert_nowhere_in_clear(new_password, settings.flexbot_data_dir)
