"""The `flexbot` command: run the bot, and the operators' subscription commands.

The bot's own modules (Telegram, the HTTP server: half a second of imports) are imported by the
commands that run or call the bot, not at the top: a report or a listing needs only the store."""

import argparse
import asyncio
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import datetime
from pathlib import Path

import psycopg

from bot import stores
from bot.config import Settings
from bot.report_page import page
from bot.report_table import table
from flows.catalogue import DEFAULT_LANGUAGE, LANGUAGES, catalogue
from flows.offer import MAX_SEATS, Product
from flows.ports import RecordUnavailable, Store
from flows.report import FactsRow, period_from, report
from flows.subscriptions import open_subscription, opened_json
from storage import pg_schema
from storage.mail_cipher import UnreadableMail


def main(argv: Sequence[str] | None = None, settings: Settings | None = None) -> int:
    arguments = _parser().parse_args(argv)
    settings = settings or Settings()
    return arguments.action(arguments, settings) or 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flexbot", description="Flex setup assistant for Sage 50 / Ciel")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    run = commands.add_parser("run", help="run the bot (in the terminal when no token is set)")
    run.add_argument("--webhook", metavar="URL", help="serve Telegram's webhook at this URL instead of long "
                     "polling (overrides WEBHOOK_URL); listens on WEBHOOK_LISTEN")
    run.add_argument("--no-migrate", action="store_true",
                     help="with DATABASE_URL: check the database schema, do not migrate it (as DB_MIGRATE=0)")
    run.set_defaults(action=_run)
    database = commands.add_parser("db", help="the PostgreSQL database of DATABASE_URL")
    database.add_subparsers(required=True, metavar="ACTION").add_parser(
        "upgrade", help="create or migrate its schema to this release's version").set_defaults(action=_upgrade_database)
    subscription = commands.add_parser("subscription", help="open and list subscriptions")
    actions = subscription.add_subparsers(required=True, metavar="ACTION")
    add = actions.add_parser("add", help="open a subscription and e-mail its Commencer link")
    add.add_argument("--email", required=True, help="the address the subscription was bought with")
    add.add_argument("--product", required=True, help=f"one of: {', '.join(p.value for p in Product)}")
    add.add_argument("--seats", required=True, type=int, help=f"number of users bought, 1 to {MAX_SEATS}")
    add.add_argument("--language", default=DEFAULT_LANGUAGE, choices=LANGUAGES,
                     help="the buyer's language, for the Commencer e-mail (default: %(default)s)")
    add.add_argument("--time-zone", metavar="ZONE", help="IANA time zone (e.g. Europe/Brussels) whose business "
                     "hours its reminders keep to (default: REMINDER_TIME_ZONE)")
    add.add_argument("--json", action="store_true", help="print one JSON object")
    add.set_defaults(action=_add_subscription)
    listing = actions.add_parser("list", help="list subscriptions")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(action=_list_subscriptions)
    report = commands.add_parser("report", help="funnel, help requests, reminders and ratings of the subscriptions "
                                 "opened in a period")
    report.add_argument("--since", metavar="DATE", help="opened from this date (YYYY-MM-DD) or ISO datetime on "
                        "(default: the first)")
    report.add_argument("--until", metavar="DATE", help="opened before this ISO datetime, or up to this date included")
    report.add_argument("--json", action="store_true", help="print one JSON object (keys in the README)")
    report.add_argument("--html", metavar="FILE", type=Path, help="also write the report as one self-contained "
                        "HTML page, with its charts")
    report.add_argument("--language", default=DEFAULT_LANGUAGE, choices=LANGUAGES,
                        help="the labels' language (default: %(default)s)")
    report.set_defaults(action=_report)
    outbox = commands.add_parser("outbox", help="list the e-mails: pending, sent, failed, quarantined")
    outbox.add_argument("--json", action="store_true", help="print a JSON array")
    outbox.set_defaults(action=_list_outbox)
    outbox_actions = outbox.add_subparsers(metavar="ACTION")
    outbox_actions.add_parser("retry", help="try every undelivered e-mail now, refused ones included (needs SMTP_HOST)"
                              ).set_defaults(action=_retry_outbox)
    show = outbox_actions.add_parser("show", help="print one e-mail's headers and text (a secret one decrypted)")
    show.add_argument("key", help="the e-mail's key, as `flexbot outbox --json` lists it")
    show.set_defaults(action=_show_mail)
    return parser


def _run(arguments: argparse.Namespace, settings: Settings) -> None:
    if arguments.webhook:
        settings = Settings.model_validate({**settings.model_dump(), "webhook_url": arguments.webhook})
    if arguments.no_migrate:
        settings = settings.model_copy(update={"db_migrate": False})
    from bot import app  # the bot's own modules, for the commands that run it (see the module's docstring)
    app.run(settings)


def _upgrade_database(arguments: argparse.Namespace, settings: Settings) -> int:
    if settings.database_url is None:
        print("flexbot: DATABASE_URL is not set (the TinyDB store needs no migration)", file=sys.stderr)
        return 2
    with psycopg.connect(settings.database_url.get_secret_value(), autocommit=True) as connection:
        applied = pg_schema.upgrade(connection)
    print(f"Schema migrated to version {applied[-1]} (applied: {', '.join(map(str, applied))})." if applied
          else f"Schema already at version {pg_schema.LATEST}.")
    return 0


def _add_subscription(arguments: argparse.Namespace, settings: Settings) -> int:
    from bot import app
    toolkit = app.build_toolkit(settings, _bot_username(settings))
    try:
        opened = open_subscription(toolkit, arguments.email, arguments.product, arguments.seats, arguments.language,
                                   arguments.time_zone)
    except ValueError as error:
        print(f"flexbot: {error}", file=sys.stderr)
        return 2
    finally:
        toolkit.store.close()
    sub = opened.subscription
    if arguments.json:
        print(json.dumps(opened_json(opened)))
    else:
        seats = "1 seat" if sub.seats == 1 else f"{sub.seats} seats"
        zone = f", time zone {sub.time_zone}" if sub.time_zone else ""
        print(f"Subscription {sub.number} opened for {sub.email} ({sub.product.value}, {seats}{zone}).")
        print(f"Commencer link (also e-mailed): {opened.link}")
        print(f"Code: {opened.code}")
    return 0


def _list_subscriptions(arguments: argparse.Namespace, settings: Settings) -> int:
    """Every readable subscription; one that cannot be read is named on stderr (set aside by the
    store, for the operator) and makes the exit status 1, the others are listed all the same."""
    store = stores.build_store(settings)
    rows, unreadable = [], []
    for number in store.subscription_numbers():
        try:
            sub = store.load_subscription(number)
        except RecordUnavailable:
            unreadable.append(number)
            continue
        if sub is not None:
            rows.append({"number": sub.number, "email": sub.email, "product": sub.product.value,
                         "seats": sub.seats, "users": sub.seats_taken,
                         "admin": sub.admin.email if sub.admin else None,
                         "setup_done": sub.setup_completed_at is not None})
    store.close()
    _print_rows(rows, ("number", "email", "product", "seats", "users", "admin", "setup_done"), arguments.json)
    for number in unreadable:
        print(f"flexbot: subscription {number} cannot be read; its file is set aside in the data "
              "directory's quarantine", file=sys.stderr)
    return 1 if unreadable else 0


def _print_rows(rows: list[dict], header: tuple[str, ...], as_json: bool) -> int:
    """A JSON array, or a table with aligned columns and "-" for what is missing."""
    if as_json:
        print(json.dumps(rows))
        return 0
    table = [header] + [tuple(str(row[key] if row[key] not in (None, "") else "-") for key in header)
                        for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())
    return 0


def _report(arguments: argparse.Namespace, settings: Settings) -> int:
    """Reads the store as a stream and changes nothing; an unreadable record is named on stderr,
    left out, and makes the exit status 1 (the report is printed all the same). A bad argument,
    or a page that cannot be written, is one line on stderr and status 2."""
    zone = settings.reminder_time_zone
    try:
        period = period_from(arguments.since, arguments.until, zone)
    except ValueError as error:
        print(f"flexbot: --since/--until: {error}", file=sys.stderr)
        return 2
    damaged = 0

    def unreadable(row: FactsRow) -> None:
        nonlocal damaged
        damaged += 1
        if row.facts is None:
            print(f"flexbot: subscription {row.number} cannot be read: left out of the report", file=sys.stderr)
        else:
            print(f"flexbot: {row.unreadable_entries} audit entries of subscription {row.number} cannot "
                  "be read: left out of the report", file=sys.stderr)

    try:
        # Opened before the store is read, so a FILE that cannot be written fails at once; in append
        # mode, so a file already there keeps what it held until the page replaces it.
        target = arguments.html.open("a", encoding="utf-8") if arguments.html else nullcontext()
    except OSError as error:
        return _unwritable(arguments.html, error)
    texts = catalogue(arguments.language)
    with target as html:
        with _store(settings) as store:
            figures = report(store.report_facts(), period, unreadable)
        if html is not None:
            try:
                html.truncate(0)
                html.write(page(figures, texts, zone, arguments.since, arguments.until))
                html.flush()
            except OSError as error:
                return _unwritable(arguments.html, error)
    print(json.dumps(figures, ensure_ascii=False) if arguments.json
          else table(figures, texts, zone, arguments.since, arguments.until))
    return 1 if damaged else 0


def _unwritable(path: Path, error: OSError) -> int:
    """A page that cannot be written is the operator's FILE to fix: one line, status 2."""
    print(f"flexbot: --html {path}: {error.strerror or error}", file=sys.stderr)
    return 2


@contextmanager
def _store(settings: Settings) -> Iterator[Store]:
    """The store for one command (the PostgreSQL mail queue shares its connections), closed after."""
    store = stores.build_store(settings)
    try:
        yield store
    finally:
        store.close()


def _list_outbox(arguments: argparse.Namespace, settings: Settings) -> int:
    rows = []
    with _store(settings) as store:
        entries = stores.build_queue(settings, store).entries()
    for mail in entries:
        retry_at = mail.delivery.next_attempt_at
        rows.append({"status": mail.status, "to": mail.to, "subject": mail.subject,
                     "attempts": mail.delivery.attempts,
                     "next_attempt": datetime.fromtimestamp(retry_at).isoformat(timespec="seconds")
                     if mail.status in ("pending", "failed") and retry_at else None,
                     "last_error": mail.delivery.last_error, "key": mail.key})
    return _print_rows(rows, ("status", "to", "subject", "attempts", "next_attempt", "last_error", "key"),
                       arguments.json)


def _retry_outbox(arguments: argparse.Namespace, settings: Settings) -> int:
    from bot import app
    with _store(settings) as store:
        delivery = app.build_delivery(settings, store=store)
        if delivery is None:
            print(f"flexbot: SMTP_HOST is not set; mail stays queued ({_where(settings)})", file=sys.stderr)
            return 2
        report = asyncio.run(delivery.deliver_due(everything=True))
    if report.busy:
        print("The running bot is delivering the outbox right now; try again in a moment.")
        return 1
    counts = [f"Sent: {report.sent}.", f"Still waiting: {report.waiting}."]
    counts += [f"Refused for good: {report.failed}."] if report.failed else []
    counts += [f"Set aside to {_where(settings, 'quarantine')}: {report.set_aside}."] if report.set_aside else []
    print(" ".join(counts))
    return 0 if report.waiting == report.failed == report.set_aside == 0 else 1


def _show_mail(arguments: argparse.Namespace, settings: Settings) -> int:
    """For an operator without SMTP: the code or password a mail carries, without decoding MIME by hand."""
    try:
        with _store(settings) as store:
            message = stores.build_queue(settings, store).message(arguments.key)
    except KeyError:
        print(f"flexbot: no e-mail {arguments.key} in {_where(settings)}", file=sys.stderr)
        return 2
    except UnreadableMail as error:
        print(f"flexbot: e-mail {arguments.key} cannot be read: {error}", file=sys.stderr)
        return 1
    for name, value in message.items():
        print(f"{name}: {value}")
    body = message.get_body(preferencelist=("plain",))
    print()
    print(body.get_content() if body is not None else "(no text part)")
    return 0


def _where(settings: Settings, folder: str = "new") -> str:
    """Where the mail waits, for messages to the operator."""
    return "the database's mail table" if settings.database_url is not None else f"{settings.outbox_dir}/{folder}"


def _bot_username(settings: Settings) -> str:
    """The username in deep links: Telegram's answer when a token is set, the setting otherwise."""
    if settings.telegram_bot_token is None:
        return settings.bot_username
    from telegram import Bot
    bot_options = {"base_url": settings.telegram_api_base_url} if settings.telegram_api_base_url else {}

    async def ask() -> str:
        async with Bot(settings.telegram_bot_token.get_secret_value(), **bot_options) as bot:
            return bot.username

    return asyncio.run(ask())
