"""Wiring: settings in, a running assistant out, on Telegram or in the terminal."""

import asyncio
import logging
import signal
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from telegram import Bot, BotCommand
from telegram.error import Conflict, TelegramError
from telegram.ext import Application, ApplicationBuilder

from bot import logs, operations, reminder_runner
from bot.agents import AgentDirectory
from bot.config import Settings
from bot.console_transport import CONSOLE_AGENT_ID, ConsoleTransport
from bot.http_server import HttpServer
from bot.inbox_journal import InboxJournal, JournalingRequest
from bot.mail_delivery import MailDelivery, SmtpSender, Stalled
from bot.rate_limiter import ChatRateLimiter
from bot.stores import build_queue, build_store
from bot.telegram_transport import TelegramTransport, send_text
from bot.telemetry import CountingRequest, Telemetry
from bot.update_processor import PerChatUpdateProcessor
from bot.webhook import WebhookReceiver, WebhookRefused, register, secret_token
from flows.assistant import Assistant
from flows.catalogue import DEFAULT_LANGUAGE, LANGUAGES, catalogue
from flows.ports import RecordUnavailable, Store, StoreUnavailable
from flows.steps.base import Toolkit
from storage.data_dir import DataDirInUse, claim
from storage.passwords import Argon2Hasher
from storage.pg_schema import SchemaMismatch

log = logging.getLogger(__name__)
CONCURRENT_UPDATES = 64
# Connections to the Bot API. PTB's default, 256, costs more than it gives: httpcore scans every
# pooled connection (a syscall each) on each request, and on a fast link 16 are never all busy.
CONNECTION_POOL_SIZE = 16
RATE_LIMIT_RETRIES = 3
COMMANDS = ("start", "etat", "aide")
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]  # private chats and the support group only
CONFLICT_EXIT_STATUS = 3  # another poller: a supervisor should not restart it (systemd RestartPreventExitStatus=3)


def build_toolkit(settings: Settings, bot_username: str | None = None, hasher: Argon2Hasher | None = None,
                  owner: bool = False) -> Toolkit:
    """`owner`: this process is the running bot: with TinyDB it finishes what a killed run left in
    the write-ahead log; with PostgreSQL it migrates the schema first (unless DB_MIGRATE=0)."""
    return Toolkit(
        store=build_store(settings, owner),
        hasher=hasher or Argon2Hasher(),
        settings=settings.assistant_settings(bot_username),
        clock=time.time,
    )


def build_delivery(settings: Settings, on_stalled: Stalled | None = None, store: Store | None = None) -> MailDelivery | None:
    """SMTP delivery of the outbox when SMTP_HOST is set; without it, mail stays queued."""
    smtp = settings.smtp()
    if smtp is None:
        return None
    return MailDelivery(build_queue(settings, store), SmtpSender(smtp), settings.retry_policy(), on_stalled)


def pending_notice(to: str, subject: str, for_good: bool = False, language: str = DEFAULT_LANGUAGE) -> str:
    """Still retried ("envoi en attente"), or refused for good by the mail server."""
    key = "mail.undeliverable_notice" if for_good else "mail.pending_notice"
    return catalogue(language).text(key, to=to, subject=subject)


def tell_chat_about_stalled_mail(bot: Bot, store: Store) -> Stalled:
    """The chat whose action queued the mail hears that it is still waiting (or refused), in its language."""
    async def notify(chat_id: int, to: str, subject: str, for_good: bool) -> None:
        try:
            conversation = store.peek_conversation(chat_id)
        except RecordUnavailable:  # the chat's next event sets it aside and says so
            conversation = None
        text = pending_notice(to, subject, for_good, conversation.language if conversation else DEFAULT_LANGUAGE)
        try:
            await send_text(bot, chat_id, text)
        except TelegramError:
            log.warning("could not tell chat %s about a delayed mail", chat_id)
    return notify


def rate_limiter(settings: Settings) -> ChatRateLimiter:
    """A 429 from Telegram delays a reply instead of losing it (waited out and retried, in its chat
    only, for TELEGRAM_RETRY_AFTER_LIMIT_SECONDS at most), and the support group stays under
    Telegram's 20 messages a minute."""
    return ChatRateLimiter(settings.telegram_retry_after_limit_seconds, RATE_LIMIT_RETRIES)


def build_application(settings: Settings, journal: InboxJournal | None = None,
                      telemetry: Telemetry | None = None) -> Application:
    """`journal`: long polling, whose fetched updates it keeps until handled; a webhook needs none.
    `telemetry` counts the updates handled and the Bot API calls."""
    assert settings.telegram_bot_token is not None
    on_processed = journal.processed if journal else None
    observe = telemetry.handling if telemetry else None
    builder = (ApplicationBuilder().token(settings.telegram_bot_token.get_secret_value())
               .request(CountingRequest(telemetry, connection_pool_size=CONNECTION_POOL_SIZE))
               .rate_limiter(rate_limiter(settings))
               .concurrent_updates(PerChatUpdateProcessor(CONCURRENT_UPDATES, on_processed=on_processed,
                                                          observe=observe)))
    if journal is not None:
        builder = builder.get_updates_request(JournalingRequest(journal, telemetry))
    if settings.telegram_api_base_url:
        builder = builder.base_url(settings.telegram_api_base_url)
    application = builder.build()
    if telemetry is not None:
        application.add_error_handler(telemetry.note_failure)
    return application


class PollingConflict(Exception):
    """Telegram answered getUpdates with 409 Conflict: another process polls with this token."""


async def run_telegram(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Long polling, or the webhook when WEBHOOK_URL is set, until SIGINT/SIGTERM (or `stop`),
    then a clean shutdown.

    Polling: updates a killed run had fetched but not handled come first, from the inbox journal.
    """
    stop = stop or _stop_on_signals()
    # The TinyDB files and the polling journal belong to one process; webhook processes on
    # PostgreSQL keep nothing in the data directory, and several of them share it.
    shared = bool(settings.webhook_url) and settings.database_url is not None
    ownership = None if shared else claim(settings.flexbot_data_dir)
    telemetry = Telemetry()
    try:
        if settings.webhook_url:
            await _serve(settings, build_application(settings, telemetry=telemetry), stop, _webhook(settings),
                         telemetry)
        else:
            journal = InboxJournal(settings.inbox_dir)
            await _serve(settings, build_application(settings, journal, telemetry), stop,
                         _polling(journal, stop, settings.webhook_stop_seconds), telemetry)
    finally:
        if ownership is not None:
            ownership.close()


Receiving = Callable[[Application, TelegramTransport, HttpServer | None], AbstractAsyncContextManager[None]]


def _http_server(settings: Settings) -> HttpServer | None:
    """The one HTTP server: the webhook's in webhook mode, else on HTTP_LISTEN, else none."""
    address = settings.http_address
    if settings.webhook_url and settings.http_listen:
        log.warning("HTTP_LISTEN is not used in webhook mode: /healthz, /metrics and the API are on WEBHOOK_LISTEN")
    return HttpServer(*address, settings.webhook_stop_seconds) if address else None


async def _serve(settings: Settings, application: Application, stop: asyncio.Event, receiving: Receiving,
                 telemetry: Telemetry) -> None:
    async with application:
        hasher = Argon2Hasher()
        toolkit = build_toolkit(settings, application.bot.username, hasher, owner=True)
        assistant = Assistant(toolkit)
        if not toolkit.settings.helpdesk_open:
            log.warning("help desk off: neither HELPDESK_AGENT_IDS nor HELPDESK_CHAT_ID is set; /aide and "
                        "'Parler à un conseiller' say no advisor is available and give SUPPORT_CONTACT")
        agents = AgentDirectory(settings.helpdesk_agent_ids, settings.helpdesk_chat_id)
        transport = TelegramTransport(assistant, agents, hasher, redelivered=bool(settings.webhook_url))
        transport.install(application)
        await _publish_commands(application)
        server = _http_server(settings)
        if server is not None:
            operations.install(server, settings, toolkit, application.bot, telemetry, build_queue(settings, toolkit.store),
                               delivering=settings.smtp() is not None)
        try:
            async with receiving(application, transport, server):
                delivery = build_delivery(settings, tell_chat_about_stalled_mail(application.bot, toolkit.store),
                                          toolkit.store)
                mailing = asyncio.create_task(delivery.run(settings.mail_poll_seconds, stop)) if delivery else None
                reminding = asyncio.create_task(reminder_runner.run(application.bot, toolkit,
                                                                    settings.reminder_poll_seconds, stop))
                try:
                    await stop.wait()
                finally:
                    await reminding
                    if mailing is not None:
                        await mailing
        finally:
            toolkit.store.close()


async def _finish_in_flight(application: Application, journal: InboxJournal, seconds: float) -> None:
    """The updates fetched are handled before the stop, for `seconds` at most: one still running then
    is left unfinished, and stays in the inbox journal for the next start."""
    try:
        await asyncio.wait_for(application.stop(), seconds)
    except TimeoutError:
        journal.hold()
        log.warning("updates still running %.0f s after the stop was asked: left in the inbox journal, "
                    "handled at the next start", seconds)


def _polling(journal: InboxJournal, stop: asyncio.Event, stop_seconds: float) -> Receiving:
    @asynccontextmanager
    async def polling(application: Application, transport: TelegramTransport, server: HttpServer | None
                      ) -> AsyncIterator[None]:
        journal.expects_secret = transport.assistant.expects_secret
        unfinished = journal.replay(application.bot)
        if unfinished:
            log.warning("handling %d update(s) a previous run fetched and did not finish", len(unfinished))
        for update in unfinished:
            await application.update_queue.put(update)
        conflicts: list[Conflict] = []
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(allowed_updates=ALLOWED_UPDATES,
                                                error_callback=_stop_on_conflict(stop, conflicts))
        log.info("polling as @%s", application.bot.username)
        try:
            if server is not None:
                await server.start()
            yield
        finally:
            if server is not None:
                await server.stop()
            await application.updater.stop()
            await _finish_in_flight(application, journal, stop_seconds)
        if conflicts:
            raise PollingConflict(str(conflicts[0]))
    return polling


def _stop_on_conflict(stop: asyncio.Event, conflicts: list[Conflict]) -> Callable[[TelegramError], None]:
    """A 409 is never retried: two pollers would take turns cancelling each other's getUpdates forever
    (Telegram ends the older request, so the process that was polling first is the one that stops)."""
    def on_error(error: TelegramError) -> None:
        if isinstance(error, Conflict):
            log.error("getUpdates answered 409 Conflict: another process polls with this bot token; stopping")
            conflicts.append(error)
            stop.set()
        else:
            log.warning("getUpdates failed (%s: %s): retrying", type(error).__name__, error)
    return on_error


def _webhook(settings: Settings) -> Receiving:
    @asynccontextmanager
    async def webhook(application: Application, transport: TelegramTransport, server: HttpServer | None
                      ) -> AsyncIterator[None]:
        assert settings.webhook_url is not None and server is not None
        secret = secret_token(settings.webhook_secret.get_secret_value() if settings.webhook_secret else None)
        receiver = WebhookReceiver(application, secret, transport.assistant.toolkit.store.durable,
                                   transport.tell_given_up, settings.webhook_give_up_after)
        server.add_post(settings.webhook_path, receiver.handle)
        await application.start()
        try:
            await server.start()
            await register(application.bot, settings.webhook_url, secret, ALLOWED_UPDATES,
                           settings.webhook_max_connections)
            log.info("webhook for @%s on %s", application.bot.username, settings.webhook_listen)
            yield
        finally:  # no deleteWebhook: other processes may serve the URL, and Telegram keeps updates meanwhile
            await server.stop()
            await receiver.finish()
            await application.stop()
    return webhook


async def _publish_commands(application: Application) -> None:
    """The command menu Telegram shows, in French and in English: a comfort, so a Bot API server
    that refuses it (a self-hosted or test one) must not keep the bot from starting."""
    try:
        for language in LANGUAGES:
            commands = [BotCommand(name, catalogue(language).text(f"command.{name}")) for name in COMMANDS]
            await application.bot.set_my_commands(commands, language_code=None if language == "fr" else language)
    except TelegramError as error:
        log.warning("the command menu could not be published: %s", error)


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop


def run(settings: Settings) -> None:
    """Telegram when a token is configured, the terminal otherwise."""
    console = settings.telegram_bot_token is None
    logs.configure(logging.WARNING if console else settings.log_level, settings.log_format)
    try:
        if console:
            _run_console(settings)
        else:
            asyncio.run(run_telegram(settings))
    except (DataDirInUse, SchemaMismatch, StoreUnavailable) as error:
        raise SystemExit(f"flexbot: {error}") from None
    except WebhookRefused as error:
        raise SystemExit(f"flexbot: Telegram refused the webhook {settings.webhook_url}: {error}") from None
    except PollingConflict:
        print("flexbot: Telegram answered 409 Conflict: another process is polling with this bot token. "
              "Run one polling process per token, or several behind a webhook (WEBHOOK_URL).", file=sys.stderr)
        raise SystemExit(CONFLICT_EXIT_STATUS) from None


def _run_console(settings: Settings) -> None:
    ownership = claim(settings.flexbot_data_dir)
    try:
        # The terminal also plays a help-desk agent (/basculer), so its help desk is always open.
        agents = settings.helpdesk_agent_ids | {CONSOLE_AGENT_ID}
        toolkit = build_toolkit(settings.model_copy(update={"helpdesk_agent_ids": agents}), owner=True)
        _deliver_in_background(settings, toolkit.store)
        try:
            language = settings.terminal_language()
            texts = catalogue(language)
            ConsoleTransport(Assistant(toolkit), language=language).run(
                intro=texts.text("console.intro"), first_steps=texts.text("console.first_steps"))
        finally:
            toolkit.store.close()
    finally:
        ownership.close()


def _deliver_in_background(settings: Settings, store: Store) -> None:
    """The terminal chat blocks on input, so SMTP delivery runs on a thread with its own event loop."""
    async def print_notice(chat_id: int, to: str, subject: str, for_good: bool) -> None:
        print(pending_notice(to, subject, for_good))

    delivery = build_delivery(settings, print_notice, store)
    if delivery is not None:
        threading.Thread(target=asyncio.run, args=(delivery.run(settings.mail_poll_seconds),), daemon=True,
                         name="mail-delivery").start()
