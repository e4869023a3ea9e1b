"""The `flexbot` command: run the bot, and the operators' subscription commands."""

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence

from telegram import Bot

from bot import app
from bot.config import Settings
from flows.offer import Product
from flows.subscriptions import open_subscription


def main(argv: Sequence[str] | None = None, settings: Settings | None = None) -> int:
    arguments = _parser().parse_args(argv)
    settings = settings or Settings()
    return arguments.action(arguments, settings) or 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flexbot", description="Flex setup assistant for Sage 50 / Ciel")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    commands.add_parser("run", help="run the bot (in the terminal when no token is set)").set_defaults(
        action=lambda arguments, settings: app.run(settings))
    subscription = commands.add_parser("subscription", help="open and list subscriptions")
    actions = subscription.add_subparsers(required=True, metavar="ACTION")
    add = actions.add_parser("add", help="open a subscription and e-mail its Commencer link")
    add.add_argument("--email", required=True, help="the address the subscription was bought with")
    add.add_argument("--product", required=True, help=f"one of: {', '.join(p.value for p in Product)}")
    add.add_argument("--seats", required=True, type=int, help="number of users bought (1 or more)")
    add.add_argument("--json", action="store_true", help="print one JSON object")
    add.set_defaults(action=_add_subscription)
    listing = actions.add_parser("list", help="list subscriptions")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(action=_list_subscriptions)
    return parser


def _add_subscription(arguments: argparse.Namespace, settings: Settings) -> int:
    toolkit = app.build_toolkit(settings, _bot_username(settings))
    try:
        opened = open_subscription(toolkit, arguments.email, arguments.product, arguments.seats)
    except ValueError as error:
        print(f"flexbot: {error}", file=sys.stderr)
        return 2
    sub = opened.subscription
    if arguments.json:
        print(json.dumps({"number": sub.number, "code": opened.code, "link": opened.link, "email": sub.email,
                          "product": sub.product.value, "seats": sub.seats}))
    else:
        print(f"Subscription {sub.number} opened for {sub.email} ({sub.product.value}, {sub.seats} seat(s)).")
        print(f"Commencer link (also e-mailed): {opened.link}")
        print(f"Code: {opened.code}")
    return 0


def _list_subscriptions(arguments: argparse.Namespace, settings: Settings) -> int:
    store = app.build_toolkit(settings).store
    rows = []
    for number in store.subscription_numbers():
        sub = store.load_subscription(number)
        if sub is not None:
            rows.append({"number": sub.number, "email": sub.email, "product": sub.product.value,
                         "seats": sub.seats, "users": sub.seats_taken,
                         "admin": sub.admin.email if sub.admin else None,
                         "setup_done": sub.setup_completed_at is not None})
    if arguments.json:
        print(json.dumps(rows))
        return 0
    header = ("number", "email", "product", "seats", "users", "admin", "setup_done")
    table = [header] + [tuple(str(row[key] if row[key] is not None else "-") for key in header) for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())
    return 0


def _bot_username(settings: Settings) -> str:
    """The username in deep links: Telegram's answer when a token is set, the setting otherwise."""
    if settings.telegram_bot_token is None:
        return settings.bot_username
    bot_options = {"base_url": settings.telegram_api_base_url} if settings.telegram_api_base_url else {}

    async def ask() -> str:
        async with Bot(settings.telegram_bot_token.get_secret_value(), **bot_options) as bot:
            return bot.username

    return asyncio.run(ask())
