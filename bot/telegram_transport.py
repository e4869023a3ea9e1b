"""Telegram transport: an update becomes an event, the assistant's replies become Bot API calls."""

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from flows.assistant import Assistant
from flows.boundary import Event, Reply
from flows.catalogue import catalogue, language_for

log = logging.getLogger(__name__)


def markup(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data, url=b.url) for b in row] for row in reply.buttons]
    )


def event_from_message(message: Message, update: Update) -> Event:
    user = update.effective_user
    extra = {"language": user.language_code if user else None, "update_id": update.update_id}
    if message.text and message.text.startswith("/"):
        return Event.command(message.text, **extra)
    if message.text:
        return Event.typed(message.text, **extra)
    return Event.other(**extra)


class TelegramTransport:
    """Registers the handlers; each one translates, asks the assistant, and renders what it says."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant

    def install(self, application: Application) -> None:
        private = filters.ChatType.PRIVATE
        application.add_handler(CallbackQueryHandler(self.on_button))
        application.add_handler(MessageHandler(private & ~filters.StatusUpdate.ALL, self.on_message))
        application.add_error_handler(self.on_error)

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A typed answer, a command, or anything else (a sticker, a photo) from a private chat."""
        message = update.effective_message
        if message is None or update.effective_chat is None:
            return
        outcome = self.assistant.handle(update.effective_chat.id, event_from_message(message, update))
        if outcome.delete_incoming:
            await self._delete(message)
        await self._send_all(context, update.effective_chat.id, outcome.replies)
        await self._tell_others(context, outcome.others)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button press: answer the query at once, then show the reply in place of the pressed message."""
        query = update.callback_query
        if query is None or query.message is None or update.effective_chat is None:
            return
        user = update.effective_user
        event = Event.pressed(query.data or "", language=user.language_code if user else None,
                              update_id=update.update_id)
        outcome = self.assistant.handle(update.effective_chat.id, event)
        await query.answer(outcome.notice)
        if outcome.duplicate or not outcome.replies:
            return
        first, *rest = outcome.replies
        if not outcome.in_place:
            rest = [first, *rest]
        else:
            try:
                await query.edit_message_text(first.text, reply_markup=markup(first))
            except BadRequest as error:
                if "not modified" not in str(error).lower():
                    rest = [first, *rest]
        await self._send_all(context, update.effective_chat.id, rest)
        await self._tell_others(context, outcome.others)

    async def _send_all(self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, replies: tuple[Reply, ...] | list[Reply]) -> None:
        for reply in replies:
            await context.bot.send_message(chat_id, reply.text, reply_markup=markup(reply))

    async def _tell_others(self, context: ContextTypes.DEFAULT_TYPE, others: tuple[tuple[int, str], ...]) -> None:
        """Another chat hears what was done to it (a user deactivated); a chat that blocked the bot is skipped."""
        for chat_id, text in others:
            try:
                await context.bot.send_message(chat_id, text)
            except (BadRequest, Forbidden):
                log.warning("could not tell chat %s", chat_id)

    async def _delete(self, message: Message) -> None:
        """Telegram lets a bot delete a private-chat message for 48 hours; past that, it cannot."""
        try:
            await message.delete()
        except (BadRequest, Forbidden):
            log.warning("could not delete a secret message in chat %s", message.chat_id)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the failure (never the message text) and tell the person to try again."""
        log.error("update %s failed", getattr(update, "update_id", "?"), exc_info=context.error)
        if isinstance(update, Update) and update.effective_chat:
            user = update.effective_user
            text = catalogue(language_for(user.language_code if user else None)).text("error.internal")
            try:
                await context.bot.send_message(update.effective_chat.id, text)
            except Exception:  # the chat may be unreachable; the error is already logged
                log.warning("could not tell chat %s about the failure", update.effective_chat.id)
