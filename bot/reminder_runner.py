"""Sends the due reminders from inside `flexbot run`: polls the store, claims each, then sends it (an
invited user's reminder is an e-mail, queued by its claim's own commit: nothing is left to send here)."""

import asyncio
import logging
import os
import socket

from telegram import Bot
from telegram.error import Forbidden, TelegramError

from bot.telegram_transport import send_text
from flows import reminder_slots, reminders
from flows.steps.base import Toolkit

log = logging.getLogger(__name__)
CLAIMANT = f"{socket.gethostname()}:{os.getpid()}"


async def send_due(bot: Bot, toolkit: Toolkit) -> int:
    """One pass: every due reminder this process could claim is sent; returns how many chat messages went.
    One that fails (an unreadable record, the database out of reach a moment) is logged by its kind only
    and left for the next pass, which looks at its hour again; the others of the pass still go."""
    sent = 0
    walk = reminder_slots.Walk(toolkit.store, toolkit.clock())
    for key in walk.keys():
        try:
            sent += await _send_one(bot, toolkit, key)
        except Exception as error:
            walk.failed()
            log.error("an %s reminder could not be dealt with in this pass (%s): its hour is looked at again",
                      reminders.kind_of(key), type(error).__name__, exc_info=True)
    return sent


async def _send_one(bot: Bot, toolkit: Toolkit, key: str) -> int:
    """Claims `key` and sends what the claim returned; 1 when a chat message went."""
    delivery = reminders.claim(toolkit, key, CLAIMANT)
    if delivery is None:
        return 0
    await toolkit.store.durable()  # the claim is on disk before the message leaves
    try:
        await send_text(bot, delivery.chat_id, delivery.text, delivery.buttons)
        return 1
    except Forbidden:  # the person blocked the bot: recorded, nothing more goes there
        log.info("reminder %s: the chat blocked the bot, reminders stopped", key)
        reminders.not_delivered(toolkit, key, blocked=True)
    except TelegramError as error:
        log.warning("reminder %s could not be sent (%s)", key, type(error).__name__)
        reminders.not_delivered(toolkit, key, blocked=False)
    return 0


async def run(bot: Bot, toolkit: Toolkit, poll_seconds: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await send_due(bot, toolkit)
        except Exception:  # one bad record never stops the reminders of everybody else
            log.exception("reminder pass failed")
        try:
            await asyncio.wait_for(stop.wait(), poll_seconds)
        except TimeoutError:
            pass
