"""The peer: the bench journey written the way python-telegram-bot's docs suggest, run as a process
like `flexbot run`: a ConversationHandler (persistent, named) with PicklePersistence.

Same update processor, concurrency (PerChatUpdateProcessor, 64) and connection pool as the echo
bot, argon2id at flexbot's cost on a worker thread, and the Bot API calls flexbot makes for this
journey: sendMessage with an inline keyboard for a typed answer, answerCallbackQuery then
editMessageText for a press, deleteMessage for the password. PicklePersistence writes only every
60 s and at a clean stop, so a kill -9 loses what it acknowledged since.
"""

import asyncio
import os
import re
import warnings
from pathlib import Path

from argon2 import PasswordHasher
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes,
                          ConversationHandler, ExtBot, MessageHandler, PicklePersistence, filters)
from telegram.warnings import PTBUserWarning

from bot.app import CONCURRENT_UPDATES, CONNECTION_POOL_SIZE
from bot.update_processor import PerChatUpdateProcessor
from storage.passwords import OWASP_ARGON2ID

CHOOSING, LAST_NAME, FIRST_NAME, EMAIL, PASSWORD, RECAP, SERVICES = range(7)
HASHER = PasswordHasher(**OWASP_ARGON2ID)
PASSWORD_RULE = re.compile(r"(?=.*[a-z])(?=.*[A-Z])(?=.*\d).{10,}")
EMAIL_RULE = re.compile(r"[^@\s]+@[^@\s]+\.[a-z]{2,}")
SERVICES_OFFERED = {"donnees_mobiles": "Ciel Données Mobiles", "tva_bilan": "Télédéclaration de TVA + Bilan",
                    "sepa": "Télépaiements SEPA"}
FOOTER = (("⬅️ Retour", "back"), ("🙋 Parler à un conseiller", "help"))
DOWNLOADS = (("⬇️ TÉLÉCHARGER mon logiciel", "https://www.sage.com/fr-fr/sage-business-cloud/sage-50/telechargement/"),
             ("⬇️ Ciel direct Déclaration", "https://www.ciel.com/telechargements/ciel-directdeclaration/"))
STEP_1 = "Étape 1/4 — Compte administrateur\n\n"
SERVICES_TEXT = ("Étape 3/4 — Services connectés\n\nActivez les services connectés dont vous avez besoin "
                 "(touchez pour cocher ou décocher) :\n🚫 Télédéclaration DUCS, DADS-U, DUE et AED : "
                 "indisponible, réservé à Ciel Paye.")


def pickle_path() -> Path:
    return Path(os.environ["FLEXBOT_DATA_DIR"]) / "peer.pickle"


async def seed(path: Path, subscriptions: dict[str, dict[str, object]]) -> None:
    """Stores the activation codes in bot_data before the peer starts (the operator's part)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    persistence = PicklePersistence(path)
    persistence.set_bot(ExtBot("0:seed"))  # without a bot, the pickler takes every None for the bot
    await persistence.get_bot_data()  # starts every store empty
    await persistence.update_bot_data({"codes": subscriptions})


def keyboard(*rows: tuple[tuple[str, str], ...]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data) for label, data in row]
                                 for row in rows])


async def say(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str,
              markup: InlineKeyboardMarkup | None = None) -> None:
    await context.bot.send_message(update.effective_chat.id, text, reply_markup=markup)


async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE, question: str) -> None:
    await say(update, context, STEP_1 + question, keyboard(FOOTER))


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """The Commencer link: a single-use code opens its subscription."""
    subscription = context.bot_data.get("codes", {}).pop(context.args[0] if context.args else "", None)
    if subscription is None:
        await say(update, context, "Ce lien n'est plus valable : demandez un nouvel e-mail d'activation.")
        return ConversationHandler.END
    context.chat_data.clear()
    context.chat_data.update(subscription=subscription, own_user=subscription["seats"] == 1,
                             services=dict.fromkeys(SERVICES_OFFERED, False))
    greeting = (f"{STEP_1}Bienvenue ! Nous allons mettre en place votre abonnement Flex.\n\n"
                f"Offre : « Souscription »\nLogiciel : {subscription['product']}\n"
                f"Nombre d'utilisateurs : {subscription['seats']}\nN° d'abonnement : {subscription['number']}\n\n"
                "Première étape : le compte administrateur.")
    await say(update, context, greeting, keyboard((("👤 CRÉER mon compte Administrateur", "create"),),
                                                  (FOOTER[1],)))
    return CHOOSING


async def create(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    await query.answer()
    await query.edit_message_text(STEP_1 + "Quel est votre nom ?", reply_markup=keyboard(FOOTER))
    return LAST_NAME


async def last_name(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    context.chat_data["last_name"] = update.message.text.strip()
    await ask(update, context, "Quel est votre prénom ?")
    return FIRST_NAME


async def first_name(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    context.chat_data["first_name"] = update.message.text.strip()
    await ask(update, context, "Quelle adresse e-mail utiliserez-vous pour vous identifier dans Sage 50 ?")
    return EMAIL


async def email(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    address = update.message.text.strip().lower()
    if not EMAIL_RULE.fullmatch(address):
        await ask(update, context, "Cette adresse e-mail ne semble pas valide : vérifiez-la.")
        return EMAIL
    context.chat_data["email"] = address
    await ask(update, context, "Choisissez votre mot de passe : au moins 10 caractères, dont une majuscule, "
                               "une minuscule et un chiffre.\n\n🔒 Votre message sera effacé dès sa lecture.")
    return PASSWORD


async def password(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Deleted at once, hashed off the event loop, never kept in clear."""
    typed = update.message.text
    await update.message.delete()
    if not PASSWORD_RULE.fullmatch(typed):
        await ask(update, context, "Ce mot de passe ne respecte pas la règle : choisissez-en un autre.")
        return PASSWORD
    context.chat_data["password_hash"] = await asyncio.to_thread(HASHER.hash, typed)
    await say(update, context, *recap(context.chat_data))
    return RECAP


def recap(answers: dict) -> tuple[str, InlineKeyboardMarkup]:
    text = (f"{STEP_1}Vérifiez votre compte administrateur :\n\nNom : {answers['last_name']}\n"
            f"Prénom : {answers['first_name']}\nAdresse e-mail : {answers['email']}\nMot de passe : défini ✅\n"
            f"Créer automatiquement mon compte utilisateur : {'oui' if answers['own_user'] else 'non'}\n\n"
            "Touchez un champ pour le modifier, puis Confirmer.")
    box = "☑" if answers["own_user"] else "☐"
    return text, keyboard(((f"{box} Créer automatiquement mon compte utilisateur", "own_user"),),
                          (("✏️ Nom", "change"), ("✏️ Prénom", "change")),
                          (("✏️ Adresse e-mail", "change"), ("✏️ Mot de passe", "change")),
                          (("✅ Confirmer", "confirm"),), FOOTER)


async def toggle_own_user(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    await query.answer()
    context.chat_data["own_user"] = not context.chat_data["own_user"]
    text, markup = recap(context.chat_data)
    await query.edit_message_text(text, reply_markup=markup)
    return RECAP


def services(answers: dict) -> InlineKeyboardMarkup:
    toggles = [((f"{'☑' if answers['services'][key] else '☐'} {label}", f"service:{key}"),)
               for key, label in SERVICES_OFFERED.items()]
    return keyboard(*toggles, (("⏳ Activer plus tard", "later"), ("⬇️ Télécharger mon logiciel", "download")),
                    FOOTER)


async def confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    await query.answer()
    await query.edit_message_text("✅ Le compte administrateur est à présent configuré.\n\n" + SERVICES_TEXT,
                                  reply_markup=services(context.chat_data))
    return SERVICES


async def toggle_service(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    await query.answer()
    key = query.data.removeprefix("service:")
    context.chat_data["services"][key] = not context.chat_data["services"][key]
    await query.edit_message_text(SERVICES_TEXT, reply_markup=services(context.chat_data))
    return SERVICES


def summary(answers: dict) -> str:
    subscription, active = answers["subscription"], [SERVICES_OFFERED[k] for k, on in answers["services"].items() if on]
    return (f"Abonnement {subscription['number']} — offre « Souscription », {subscription['product']}\n"
            f"Administrateur : {answers['first_name']} {answers['last_name']} ({answers['email']})\n"
            f"Services actifs : {', '.join(active) or 'aucun'}\n\nÉtape 4/4 — Téléchargement de Sage 50\n\n"
            "Pour terminer : cliquez sur TÉLÉCHARGER mon logiciel, installez Sage 50, démarrez-le et "
            "identifiez-vous avec l'adresse e-mail et le mot de passe définis à l'étape 1.")


def downloads() -> InlineKeyboardMarkup:
    links = [[InlineKeyboardButton(label, url=url)] for label, url in DOWNLOADS]
    return InlineKeyboardMarkup([*links, *keyboard(FOOTER).inline_keyboard])


async def download(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    await query.answer()
    await query.edit_message_text(summary(context.chat_data), reply_markup=downloads())
    return ConversationHandler.END


async def status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/etat: where the setup stands."""
    if "email" not in context.chat_data:
        await say(update, context, "Aucune configuration en cours : ouvrez le lien Commencer de votre e-mail.")
        return
    await say(update, context, summary(context.chat_data), downloads())


async def not_here(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Buttons the bench journey never presses (back, help, change, later) are answered, not handled."""
    await update.callback_query.answer("Indisponible dans ce banc d'essai.")


def conversation() -> ConversationHandler:
    text = filters.TEXT & ~filters.COMMAND
    return ConversationHandler(
        entry_points=[CommandHandler("start", start)],
        states={CHOOSING: [CallbackQueryHandler(create, pattern="^create$")],
                LAST_NAME: [MessageHandler(text, last_name)], FIRST_NAME: [MessageHandler(text, first_name)],
                EMAIL: [MessageHandler(text, email)], PASSWORD: [MessageHandler(text, password)],
                RECAP: [CallbackQueryHandler(toggle_own_user, pattern="^own_user$"),
                        CallbackQueryHandler(confirm, pattern="^confirm$")],
                SERVICES: [CallbackQueryHandler(toggle_service, pattern="^service:"),
                           CallbackQueryHandler(download, pattern="^download$")]},
        fallbacks=[CommandHandler("start", start)], name="flex_setup", persistent=True)


def main() -> None:
    # PTB warns that per_message=False tracks callback queries per chat: that is what we want here.
    warnings.filterwarnings("ignore", message=".*per_message.*", category=PTBUserWarning)
    application = (ApplicationBuilder().token(os.environ["TELEGRAM_BOT_TOKEN"])
                   .base_url(os.environ["TELEGRAM_API_BASE_URL"])
                   .persistence(PicklePersistence(pickle_path()))
                   .concurrent_updates(PerChatUpdateProcessor(CONCURRENT_UPDATES))
                   .connection_pool_size(CONNECTION_POOL_SIZE).build())
    application.add_handler(conversation())
    application.add_handler(CommandHandler("etat", status))
    application.add_handler(CallbackQueryHandler(not_here))
    application.run_polling()


if __name__ == "__main__":
    main()
