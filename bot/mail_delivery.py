"""Delivers the maildir outbox by SMTP in the background: retried with backoff, never dropped.

A mail that cannot be sent stays in new/ and is tried again later, each wait twice the one before
up to a ceiling. After `failed_after` attempts it is reported once: to the operator log, and to the
chat that caused it ("envoi en attente"); it keeps being retried at the longest interval.
A mail the server refuses for good (a 5xx reply about it) is reported once the same way ("could not
be delivered") and not tried again, unless an operator asks (`flexbot outbox retry`). A mail that
cannot be read, decrypted or handed to SMTP is set aside to the quarantine; the others go on.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib

from storage.mail_cipher import UnreadableMail
from storage.mail_queue import Damaged, MailQueue, QueuedMail
from storage.pg_mail_queue import PostgresMailQueue

log = logging.getLogger(__name__)
ERROR_TEXT_LIMIT = 300

Send = Callable[[EmailMessage], Awaitable[None]]
Stalled = Callable[[int, str, str, bool], Awaitable[None]]  # (chat id, recipient, subject, failed for good)
# 5xx replies that say our server settings or login are wrong, not this mail: retried like an outage
# so that every mail goes once the operator fixes them.
NOT_ABOUT_THE_MAIL = (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPAuthenticationError, aiosmtplib.SMTPHeloError)


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


def is_permanent(error: Exception) -> bool:
    """A 5xx about this mail: its sender, its recipients or its content refused for good."""
    if isinstance(error, NOT_ABOUT_THE_MAIL):
        return False
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return bool(error.recipients) and all(refused.code >= 500 for refused in error.recipients)
    return isinstance(error, aiosmtplib.SMTPResponseException) and error.code >= 500


@dataclass(frozen=True)
class DeliveryReport:
    sent: int = 0
    waiting: int = 0
    failed: int = 0  # refused for good: not tried again without an operator
    set_aside: int = 0  # moved to the quarantine during this pass
    busy: bool = False  # another process held the outbox: nothing was tried


class MailDelivery:
    def __init__(self, queue: MailQueue | PostgresMailQueue, send: Send, policy: RetryPolicy,
                 on_stalled: Stalled | None = None, clock: Callable[[], float] = time.time) -> None:
        self.queue, self.send, self.policy = queue, send, policy
        self.on_stalled, self.clock = on_stalled, clock

    async def run(self, poll: float, stop: asyncio.Event | None = None) -> None:
        """Delivers what is due every `poll` seconds until `stop` is set."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                await self._pass_unless_stopped(stop)
            except Exception:  # a broken mail file must not end delivery of the others
                log.exception("mail delivery pass failed")
            try:
                await asyncio.wait_for(stop.wait(), poll)
            except TimeoutError:
                pass

    async def _pass_unless_stopped(self, stop: asyncio.Event) -> None:
        """One pass, cut short when `stop` is set: a server that never answers would otherwise hold
        the stop for its timeout once per mail. The mail being sent stays queued (marked sent only
        once the server took it), so it goes at the next start: at least once, as always."""
        passing = asyncio.ensure_future(self.deliver_due())
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait((passing, stopping), return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if not passing.done():
                passing.cancel()
                log.warning("stop asked during a mail delivery pass: cut short, the mail being sent stays queued")
        try:
            await passing
        except asyncio.CancelledError:
            if not stop.is_set():
                raise  # the run itself was cancelled

    async def deliver_due(self, everything: bool = False) -> DeliveryReport:
        """One pass over the waiting mail; `everything` ignores the backoff (`flexbot outbox retry`)."""
        with self.queue.locked() as mine:
            if not mine:
                return DeliveryReport(busy=True)
            outcomes = {"sent": 0, "waiting": 0, "failed": 0, "set_aside": 0}
            for mail in self.queue.scan():
                try:
                    outcome = await self._handle(mail, everything)
                except Exception as error:  # one mail's trouble (a full disk, a bug) must not stop the others
                    log.error("mail %s could not be handled in this pass (%s)", mail.key, type(error).__name__)
                    outcome = "waiting"
                outcomes[outcome] += 1
            return DeliveryReport(**outcomes)

    async def _handle(self, mail: QueuedMail | Damaged, everything: bool) -> str:
        if isinstance(mail, Damaged):
            return self._set_aside(mail.key, mail.reason)
        with self.queue.claimed(mail) as current:  # a queue shared by processes locks the mail here
            if current is None:
                return "waiting"  # another process is trying it, or it is gone
            if current.delivery.permanent and not everything:
                return "failed"
            if everything or current.delivery.next_attempt_at <= self.clock():
                return await self._attempt(current)
            return "waiting"

    async def _attempt(self, mail: QueuedMail) -> str:
        try:
            message = self.queue.outgoing(mail.key)
        except FileNotFoundError:
            return "waiting"  # gone since the scan: nothing to do
        except UnreadableMail as error:
            return self._set_aside(mail.key, str(error))
        try:
            await self.send(message)
        except ValueError as error:  # aiosmtplib refuses the message itself: no recipient, a bad address
            return self._set_aside(mail.key, f"cannot be handed to SMTP ({type(error).__name__})")
        except (aiosmtplib.SMTPException, OSError) as error:
            text = f"{type(error).__name__}: {error}"[:ERROR_TEXT_LIMIT]
            if is_permanent(error):
                await self._give_up(mail, text)
                return "failed"
            await self._postpone(mail, text)
            return "waiting"
        self.queue.mark_sent(mail)
        log.info("mail %s delivered to %s", mail.key, mail.to)
        return "sent"

    def _set_aside(self, key: str, reason: str) -> str:
        where = self.queue.quarantine(key, reason)
        log.error("mail %s set aside to %s: %s", key, where, reason)
        return "set_aside"

    async def _give_up(self, mail: QueuedMail, error: str) -> None:
        """Refused for good: told once, even if an operator retries it and it is refused again."""
        delivery, already = mail.delivery, mail.delivery.permanent
        delivery.attempts, delivery.last_error, delivery.permanent = delivery.attempts + 1, error, True
        self.queue.postpone(mail, delivery)
        if already:
            log.warning("mail %s to %s refused again, not retried: %s", mail.key, mail.to, error)
            return
        log.error("mail %s to %s refused for good by the SMTP server, not retried: %s", mail.key, mail.to, error)
        if mail.notify_chat is not None and self.on_stalled is not None:
            await self.on_stalled(mail.notify_chat, mail.to, mail.subject, True)

    async def _postpone(self, mail: QueuedMail, error: str) -> None:
        delivery = mail.delivery
        delivery.attempts += 1
        delivery.permanent = False  # an operator's retry of a refused mail got a temporary answer: retried again
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
            await self.on_stalled(mail.notify_chat, mail.to, mail.subject, False)
