"""The framework's ceiling: a bare python-telegram-bot bot that echoes, run as a process like
`flexbot run`, with the same update processor, concurrency (PerChatUpdateProcessor, 64) and
connection pool.

It makes the same Bot API calls per update as flexbot: a message gets one sendMessage, a button
press gets answerCallbackQuery then editMessageText; so the ratio measures flexbot's own work
(conversation, store, inbox journal, argon2), not a different call pattern.
"""

import os

from telegram import Update
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.app import CONCURRENT_UPDATES, CONNECTION_POOL_SIZE
from bot.update_processor import PerChatUpdateProcessor


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await context.bot.send_message(update.effective_chat.id, update.effective_message.text or "?")


async def press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer()
    await query.edit_message_text(query.data or "?")


def main() -> None:
    application = (ApplicationBuilder().token(os.environ["TELEGRAM_BOT_TOKEN"])
                   .base_url(os.environ["TELEGRAM_API_BASE_URL"])
                   .concurrent_updates(PerChatUpdateProcessor(CONCURRENT_UPDATES))
                   .connection_pool_size(CONNECTION_POOL_SIZE).build())
    application.add_handler(CallbackQueryHandler(press))
    application.add_handler(MessageHandler(filters.ChatType.PRIVATE, echo))
    application.run_polling()


if __name__ == "__main__":
    main()
