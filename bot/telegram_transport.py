"""Telegram transport: an update becomes an event, the assistant's replies become Bot API calls."""

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from functools import partial

from telegram import Bot, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.error import RetryAfter, TelegramError
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.agents import AgentDirectory
from bot.inbox_journal import withheld
from bot.rate_limiter import seconds
from bot.send_retry import retried
from bot.telegram_limits import CAPTION_LIMIT, NOTICE_LIMIT, TOPIC_NAME_LIMIT, shortened, split_text, units
from flows.assistant import Assistant
from flows.boundary import Button, Delivery, Event, EventKind, Outcome, Reply, Topic
from flows.catalogue import catalogue, language_for
from flows.ports import StoreUnavailable
from storage.passwords import Argon2Hasher

log = logging.getLogger(__name__)
LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # JSON can carry half an emoji; no store can encode it


def well_formed(text: str) -> str:
    """The text with any lone surrogate replaced by U+FFFD, so every store can encode it."""
    return LONE_SURROGATE.sub("\ufffd", text)


def markup(buttons: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data, url=b.url) for b in row] for row in buttons]
    )


async def send_text(bot: Bot, chat_id: int, text: str, buttons: tuple[tuple[Button, ...], ...] = (),
                    thread_id: int | None = None) -> None:
    """One message, or several when it is longer than Telegram takes; the buttons go under the last.
    A blank text is nothing to say (Telegram refuses it)."""
    if not text.strip():
        return
    *parts, last = split_text(text)
    for part in parts:
        await retried(partial(bot.send_message, chat_id, part, message_thread_id=thread_id), "sendMessage", chat_id)
    await retried(partial(bot.send_message, chat_id, last, reply_markup=markup(buttons), message_thread_id=thread_id),
                  "sendMessage", chat_id)


def message_kind(message: Message, edited: bool = False) -> tuple[EventKind, str]:
    if withheld(message):
        return EventKind.WITHHELD, ""
    if edited:
        return EventKind.EDITED, message.text or message.caption or ""
    if message.text and message.text.startswith("/"):
        return EventKind.COMMAND, message.text
    if message.text:
        return EventKind.TEXT, message.text
    return EventKind.OTHER, message.caption or ""


class TelegramTransport:
    """Registers the handlers; each one translates, asks the assistant, and renders what it says."""

    def __init__(self, assistant: Assistant, agents: AgentDirectory, hasher: Argon2Hasher,
                 redelivered: bool = False) -> None:
        """`redelivered`: a failed update comes back (a webhook answered 500), so the person is not
        told of each failure: Telegram's retries would repeat the notice."""
        self.assistant = assistant
        self.agents = agents
        self.hasher = hasher
        self.redelivered = redelivered
        self._password_expected: set[int] = set()  # in memory only: after a restart, hashed in line
        self._forums: dict[int, bool] = {}
        self._bot: Bot | None = None
        self._deleting_later: set[asyncio.Task[None]] = set()

    def install(self, application: Application) -> None:
        self._bot = application.bot
        chats = filters.ChatType.PRIVATE
        if self.agents.group_id is not None:
            chats = chats | filters.Chat(self.agents.group_id)
        application.add_handler(CallbackQueryHandler(self.on_button))
        # Business messages are a business account's chats with its customers: never the assistant's.
        typed = chats & ~filters.StatusUpdate.ALL & ~filters.UpdateType.BUSINESS_MESSAGES
        application.add_handler(MessageHandler(typed, self.on_message))
        application.add_error_handler(self.on_error)

    async def _event(self, update: Update, context: ContextTypes.DEFAULT_TYPE, kind: EventKind, text: str) -> Event:
        user = update.effective_user
        message = update.effective_message
        return Event(kind, well_formed(text), language=user.language_code if user else None,
                     update_id=update.update_id, sender_id=user.id if user else None,
                     sender_name=well_formed(user.first_name) if user else "",
                     agent=await self.agents.is_agent(context.bot, user.id if user else None),
                     message_id=message.message_id if message else None,
                     thread_id=message.message_thread_id if message and message.is_topic_message else None)

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A typed answer, a command, or anything else (a sticker, a photo, a document)."""
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None:
            return
        event = await self._event(update, context, *message_kind(message, update.edited_message is not None))
        try:
            outcome = await self._handle_typed(chat.id, event)
        except StoreUnavailable as error:  # the update comes again (a webhook answers 500), with its text
            if error.delete_incoming:
                await self._delete(message)
            raise
        await self.assistant.toolkit.store.durable()  # the reply acknowledges: only once it is stored
        if outcome.delete_incoming or event.kind is EventKind.WITHHELD:  # withheld: it may be a password
            await self._delete(message)
        await self._replying(self._send_all(context, chat.id, outcome.replies, event.thread_id), context, chat.id)
        await self._deliver(context, chat.id, outcome)

    async def _handle_typed(self, chat_id: int, event: Event) -> Outcome:
        """A password is hashed on a worker thread first, so one slow hash never stalls other chats."""
        if event.kind is EventKind.TEXT and chat_id in self._password_expected:
            await self.hasher.prepare(event.text)
        try:
            return self._handle(chat_id, event)
        finally:
            self.hasher.forget(event.text)

    def _handle(self, chat_id: int, event: Event) -> Outcome:
        """Asks the assistant, noting which chats were just asked for a password."""
        return self._noted(chat_id, self.assistant.handle(chat_id, event))

    def _noted(self, chat_id: int, outcome: Outcome) -> Outcome:
        if outcome.replies and outcome.replies[-1].secret_answer:
            self._password_expected.add(chat_id)
        elif outcome.replies:
            self._password_expected.discard(chat_id)
        return outcome

    async def _replying(self, sending: Awaitable[None], context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> None:
        """Sends the replies of an event already saved. When they cannot go (the Bot API failing past
        the retries), "try again" would have the person retype an answer that was kept, filling the
        next field: they are told it was saved, with the current question. A webhook's update comes
        back by itself instead, and is answered the same way then."""
        try:
            await sending
        except TelegramError as error:
            if self.redelivered:
                raise
            log.warning("chat %s: the reply could not be sent (%s): the chat is told its message was kept",
                        chat_id, type(error).__name__)
            await self._tell_reply_not_sent(context.bot, chat_id)

    async def _tell_reply_not_sent(self, bot: Bot, chat_id: int) -> None:
        """Its message was kept, and here is the current question: never "try again"."""
        outcome = self._noted(chat_id, self.assistant.ask_again(chat_id, "error.reply_not_sent"))
        await self.assistant.toolkit.store.durable()
        try:
            for reply in outcome.replies:
                await send_text(bot, chat_id, reply.text, reply.buttons)
        except TelegramError as again:
            log.warning("chat %s: could not be told either (%s)", chat_id, type(again).__name__)

    async def tell_given_up(self, update: Update, cause: BaseException) -> None:
        """A webhook's update failed too often. When the Bot API refused its reply, the event may have
        been saved: the person gets the current question, so that retyping never fills the next field.
        Otherwise (a defect: nothing was saved) they are told to try again."""
        chat = update.effective_chat
        if chat is None or self._bot is None:
            return
        if isinstance(cause, TelegramError) and chat.type == ChatType.PRIVATE and not await self.agents.is_agent(
                self._bot, update.effective_user.id if update.effective_user else None):
            try:
                await self._tell_reply_not_sent(self._bot, chat.id)
                return
            except Exception as error:  # the store failing too: the plain notice still goes
                log.warning("chat %s: the current question could not be asked again (%s)", chat.id,
                            type(error).__name__)
        await tell_failure(self._bot, update)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button press: answer the query at once, then show the reply in place of the pressed message
        (or below it, when the server did not say which message it was)."""
        query = update.callback_query
        if query is None:
            return
        chat = update.effective_chat
        if chat is not None and chat.type != chat.PRIVATE and chat.id != self.agents.group_id:
            await self._answer_elsewhere(query)
            return
        chat_id = chat.id if chat else query.from_user.id  # private chats
        event = await self._event(update, context, EventKind.BUTTON, query.data or "")
        outcome = self._handle(chat_id, event)
        await self.assistant.toolkit.store.durable()
        try:
            await query.answer(shortened(outcome.notice, NOTICE_LIMIT) if outcome.notice else None)
        except TelegramError as error:  # a query too old to answer: the reply matters more
            log.warning("could not answer a button press in chat %s: %s", chat_id, error)
        await self._replying(self._show(context, chat_id, query, outcome), context, chat_id)
        await self._deliver(context, chat_id, outcome)

    async def _show(self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, query: CallbackQuery,
                    outcome: Outcome) -> None:
        rest = list(outcome.replies)
        if rest and outcome.in_place and query.message is not None:
            rest[:1] = await self._edit(query.edit_message_text, rest[0])
        await self._send_all(context, chat_id, rest)

    async def _answer_elsewhere(self, query: CallbackQuery) -> None:
        """A button of the bot's in a group (a forwarded or inline message): the assistant lives in private chats."""
        user = query.from_user
        try:
            await query.answer(catalogue(language_for(user.language_code)).text("notice.private_only"))
        except TelegramError as error:
            log.warning("could not answer a button press from group %s: %s", query.message.chat.id
                        if query.message else "?", error)

    async def _edit(self, edit: Callable[..., Awaitable[object]], reply: Reply) -> list[Reply]:
        """Show the reply in place of the pressed message: its first part there, what is left of it returned
        to be sent below (all of it when the message cannot be edited)."""
        first, *others = split_text(reply.text)
        try:
            await edit(first, reply_markup=None if others else markup(reply.buttons))
        except TelegramError as error:  # too old to edit, or gone: the reply goes below instead
            if "not modified" not in str(error).lower():
                return [reply]
        return [*(Reply(part) for part in others[:-1]), Reply(others[-1], reply.buttons)] if others else []

    async def _send_all(self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, replies: Iterable[Reply],
                        thread_id: int | None = None) -> None:
        for reply in replies:
            await send_text(context.bot, chat_id, reply.text, reply.buttons, thread_id)

    async def _deliver(self, context: ContextTypes.DEFAULT_TYPE, origin: int, outcome: Outcome) -> None:
        """Messages for other chats; one that cannot be delivered is reported back, never dropped silently."""
        for delivery in outcome.deliveries:
            try:
                await self._deliver_one(context, origin, delivery)
            except TelegramError as error:
                log.warning("could not deliver to chat %s: %s", delivery.chat_id, error)
                if delivery.failure_notice:
                    await send_text(context.bot, origin, delivery.failure_notice)

    async def _deliver_one(self, context: ContextTypes.DEFAULT_TYPE, origin: int, delivery: Delivery) -> None:
        """A copy keeps its caption when it fits; a longer one follows the copy as text, with the buttons."""
        thread_id = delivery.thread_id
        if delivery.topic is not None:
            thread_id = await self._open_topic(context, delivery.chat_id, delivery.topic)
        if delivery.copy_message_id is None:
            await send_text(context.bot, delivery.chat_id, delivery.text, delivery.buttons, thread_id)
            return
        fits = units(delivery.text) <= CAPTION_LIMIT
        # An empty caption replaces the original one, which may be what must not be relayed.
        await context.bot.copy_message(delivery.chat_id, origin, delivery.copy_message_id,
                                       caption=delivery.text if fits else "",
                                       reply_markup=markup(delivery.buttons) if fits else None,
                                       message_thread_id=thread_id)
        if not fits:
            await send_text(context.bot, delivery.chat_id, delivery.text, delivery.buttons, thread_id)

    async def _open_topic(self, context: ContextTypes.DEFAULT_TYPE, group_id: int, topic: Topic) -> int | None:
        """In a forum, each request gets a topic; elsewhere (or without the right) the general chat."""
        if group_id not in self._forums:
            self._forums[group_id] = bool((await context.bot.get_chat(group_id)).is_forum)
        if not self._forums[group_id]:
            return None
        try:
            created = await context.bot.create_forum_topic(group_id, shortened(topic.name, TOPIC_NAME_LIMIT))
        except TelegramError as error:  # the bot needs can_manage_topics in the group
            log.warning("could not open a topic in %s: %s", group_id, error)
            return None
        self.assistant.helpdesk.topic_opened(topic.ticket, created.message_thread_id)
        return created.message_thread_id

    async def _delete(self, message: Message) -> None:
        """Telegram lets a bot delete a private-chat message for 48 hours; past that, it cannot. A chat
        Telegram has paused for longer than the rate limiter waits gets its delete once the pause is
        over, in the background: the password must not stay, nor the reply wait that long."""
        try:
            await message.delete()
        except RetryAfter as error:
            log.warning("chat %s is paused by Telegram: its secret message is deleted in %.0f s", message.chat_id,
                        seconds(error))
            later = asyncio.create_task(self._delete_later(message, seconds(error)))
            self._deleting_later.add(later)
            later.add_done_callback(self._deleting_later.discard)
        except TelegramError as error:  # never let it keep the reply from being sent
            log.warning("could not delete a secret message in chat %s: %s", message.chat_id, error)

    async def _delete_later(self, message: Message, wait: float) -> None:
        await asyncio.sleep(wait)
        await self._delete(message)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the failure (never the message text) and tell the person to try again, unless the update
        comes back by itself."""
        log.error("update %s failed", getattr(update, "update_id", "?"), exc_info=context.error)
        if isinstance(update, Update) and not self.redelivered:
            await tell_failure(context.bot, update)


async def tell_failure(bot: Bot, update: Update) -> None:
    """Tells the update's chat, in its language, that its message could not be handled."""
    if update.effective_chat is None:
        return
    user = update.effective_user
    text = catalogue(language_for(user.language_code if user else None)).text("error.internal")
    try:
        await send_text(bot, update.effective_chat.id, text)
    except TelegramError:
        log.warning("could not tell chat %s about the failure", update.effective_chat.id)
