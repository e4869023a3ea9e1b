"""Delivers the maildir outbox by SMTP in the background: retried with backoff, never dropped.

A mail that cannot be sent stays in new/ and is tried again later, each wait twice the one before
up to a ceiling. After `failed_after` attempts it is reported once: to the operator log, and to the
chat that caused it ("envoi en attente"); it keeps being retried at the longest interval.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib

from storage.mail_queue import MailQueue, QueuedMail

log = logging.getLogger(__name__)
ERROR_TEXT_LIMIT = 300

Send = Callable[[EmailMessage], Awaitable[None]]
Stalled = Callable[[int, str, str], Awaitable[None]]  # (chat id, recipient, subject)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    user: str | None
    password: str | None
    starttls: bool
    tls: bool
    timeout: float


class SmtpSender:
    """One connection per mail: mail is rare here, and a fresh connection never goes stale."""

    def __init__(self, smtp: SmtpSettings) -> None:
        self.smtp = smtp

    async def __call__(self, message: EmailMessage) -> None:
        smtp = self.smtp
        await aiosmtplib.send(message, hostname=smtp.host, port=smtp.port, username=smtp.user or None,
                              password=smtp.password or None, use_tls=smtp.tls, start_tls=smtp.starttls,
                              timeout=smtp.timeout)


@dataclass(frozen=True)
class RetryPolicy:
    first_delay: float
    longest_delay: float

    def delay(self, attempts: int) -> float:
        return min(self.first_delay * 2 ** (attempts - 1), self.longest_delay)


@dataclass(frozen=True)
class DeliveryReport:
    sent: int = 0
    waiting: int = 0
    busy: bool = False  # another process held the outbox: nothing was tried


class MailDelivery:
    def __init__(self, queue: MailQueue, send: Send, policy: RetryPolicy,
                 on_stalled: Stalled | None = None, clock: Callable[[], float] = time.time) -> None:
        self.queue, self.send, self.policy = queue, send, policy
        self.on_stalled, self.clock = on_stalled, clock

    async def run(self, poll: float, stop: asyncio.Event | None = None) -> None:
        """Delivers what is due every `poll` seconds until `stop` is set."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                await self.deliver_due()
            except Exception:  # a broken mail file must not end delivery of the others
                log.exception("mail delivery pass failed")
            try:
                await asyncio.wait_for(stop.wait(), poll)
            except TimeoutError:
                pass

    async def deliver_due(self, everything: bool = False) -> DeliveryReport:
        """One pass over the waiting mail; `everything` ignores the backoff (`flexbot outbox retry`)."""
        with self.queue.locked() as mine:
            if not mine:
                return DeliveryReport(busy=True)
            sent = waiting = 0
            for mail in self.queue.waiting():
                if everything or mail.delivery.next_attempt_at <= self.clock():
                    delivered = await self._attempt(mail)
                    sent, waiting = sent + delivered, waiting + (not delivered)
                else:
                    waiting += 1
            return DeliveryReport(sent, waiting)

    async def _attempt(self, mail: QueuedMail) -> bool:
        try:
            await self.send(self.queue.outgoing(mail.key))
        except (aiosmtplib.SMTPException, OSError, ValueError) as error:  # ValueError: a file that is no e-mail
            await self._postpone(mail, f"{type(error).__name__}: {error}"[:ERROR_TEXT_LIMIT])
            return False
        self.queue.mark_sent(mail)
        log.info("mail %s delivered to %s", mail.key, mail.to)
        return True

    async def _postpone(self, mail: QueuedMail, error: str) -> None:
        delivery = mail.delivery
        delivery.attempts += 1
        delay = self.policy.delay(delivery.attempts)
        delivery.next_attempt_at, delivery.last_error = self.clock() + delay, error
        stalled = delivery.attempts >= self.queue.failed_after and not delivery.reported
        delivery.reported = delivery.reported or stalled
        self.queue.postpone(mail, delivery)
        if not stalled:
            log.warning("mail %s to %s not delivered (attempt %d), next try in %.3g s: %s",
                        mail.key, mail.to, delivery.attempts, delay, error)
            return
        log.error("mail %s to %s still not delivered after %d attempts, retried every %.3g s: %s",
                  mail.key, mail.to, delivery.attempts, self.policy.longest_delay, error)
        if mail.notify_chat is not None and self.on_stalled is not None:
            await self.on_stalled(mail.notify_chat, mail.to, mail.subject)
