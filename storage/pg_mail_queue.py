"""The mail table seen as a delivery queue, with the maildir queue's interface (`MailQueue`).

A mail is queued by the event that caused it, in its transaction (`PostgresStore`). Each delivery
attempt locks its row with `SELECT ... FOR UPDATE SKIP LOCKED` in a transaction held while the mail
is sent: every other process skips it meanwhile, and a process killed mid-send lets go of the lock
with its connection, so another one tries again later. The attempt's outcome (sent, postponed,
refused for good, quarantined) commits with that transaction. Statuses, backoff and notices are
`MailDelivery`'s, as for the maildir. A quarantined mail is sent after all with
`UPDATE mail SET status = 'pending' WHERE key = '...'`.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage

import psycopg
from psycopg_pool import ConnectionPool

from storage.mail_cipher import MailCipher, UnreadableMail, headers_only
from storage.mail_queue import REDACTED, Damaged, Delivery, QueuedMail, opened

COLUMNS = "key, status, recipient, subject, notify_chat, secret, attempts, next_attempt_at, last_error, reported, " \
          "permanent, reason, extract(epoch FROM queued_at)"


class PostgresMailQueue:
    def __init__(self, pool: ConnectionPool, failed_after: int, cipher: MailCipher) -> None:
        self.pool, self.failed_after, self.cipher = pool, failed_after, cipher
        self._claim = threading.local()

    def scan(self) -> list[QueuedMail | Damaged]:
        """Every mail waiting, oldest first (as read now: `claimed` reads it again under its lock)."""
        with self.pool.connection() as connection:
            rows = connection.execute(f"SELECT {COLUMNS} FROM mail WHERE status = 'pending' ORDER BY seq").fetchall()
        return [self._queued(row) for row in rows]

    @contextmanager
    def locked(self) -> Iterator[bool]:
        """Always ours: each mail is locked on its own, in `claimed`."""
        yield True

    @contextmanager
    def claimed(self, mail: QueuedMail) -> Iterator[QueuedMail | None]:
        """The mail as it is now, locked until the block ends; None when another process holds it or
        it is no longer waiting."""
        with self.pool.connection() as connection, connection.transaction():
            row = connection.execute(f"SELECT {COLUMNS} FROM mail WHERE key = %s AND status = 'pending' "
                                     "FOR UPDATE SKIP LOCKED", (mail.key,)).fetchone()
            if row is None:
                yield None
                return
            self._claim.connection = connection
            try:
                yield self._queued(row)
            finally:
                self._claim.connection = None

    def outgoing(self, key: str) -> EmailMessage:
        with self._connection() as connection:
            row = connection.execute("SELECT message FROM mail WHERE key = %s", (key,)).fetchone()
        if row is None:
            raise FileNotFoundError(key)  # as the maildir says a mail gone meanwhile
        try:
            message = message_from_bytes(row[0], policy=policy.default)
        except Exception as error:  # bytes that are no e-mail must not stop the others
            raise UnreadableMail(f"unreadable ({type(error).__name__})") from None
        return opened(self.cipher, message)  # type: ignore[arg-type]

    def postpone(self, mail: QueuedMail, delivery: Delivery) -> None:
        with self._connection() as connection:
            connection.execute("""UPDATE mail SET attempts = %s, next_attempt_at = %s, last_error = %s,
                reported = %s, permanent = %s WHERE key = %s""",
                               (delivery.attempts, delivery.next_attempt_at, delivery.last_error,
                                delivery.reported, delivery.permanent, mail.key))

    def mark_sent(self, mail: QueuedMail) -> None:
        """A secret mail keeps only its headers once sent, as in the maildir's cur/."""
        with self._connection() as connection:
            if mail.secret:
                row = connection.execute("SELECT message FROM mail WHERE key = %s", (mail.key,)).fetchone()
                if row is not None:
                    kept = headers_only(message_from_bytes(row[0], policy=policy.default), REDACTED)  # type: ignore[arg-type]
                    connection.execute("UPDATE mail SET message = %s WHERE key = %s", (kept.as_bytes(), mail.key))
            connection.execute("UPDATE mail SET status = 'sent', done_at = now() WHERE key = %s", (mail.key,))

    def quarantine(self, key: str, reason: str) -> str:
        with self._connection() as connection:
            connection.execute("UPDATE mail SET status = 'quarantined', reason = %s, done_at = now() WHERE key = %s",
                               (reason, key))
        return "the mail table (status 'quarantined')"

    def entries(self) -> list[QueuedMail]:
        """Sent, waiting and quarantined mail, for the operator."""
        with self.pool.connection() as connection:
            rows = connection.execute(f"SELECT {COLUMNS} FROM mail ORDER BY status <> 'sent', status = 'quarantined', "
                                      "seq").fetchall()
        return [self._queued(row) for row in rows]

    def message(self, key: str) -> EmailMessage:
        """One mail as an operator may read it (a secret one decrypted); KeyError if none."""
        with self.pool.connection() as connection:
            row = connection.execute("SELECT message, status FROM mail WHERE key = %s", (key,)).fetchone()
        if row is None:
            raise KeyError(key)
        message: EmailMessage = message_from_bytes(row[0], policy=policy.default)  # type: ignore[assignment]
        return message if row[1] == "sent" else opened(self.cipher, message)

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        """The claim's connection during an attempt, so its outcome commits with it."""
        claimed = getattr(self._claim, "connection", None)
        if claimed is not None:
            yield claimed
            return
        with self.pool.connection() as connection:
            yield connection

    def _queued(self, row: tuple) -> QueuedMail:
        (key, status, to, subject, notify_chat, secret, attempts, next_attempt_at, last_error, reported, permanent,
         reason, queued_at) = row
        delivery = Delivery(attempts, next_attempt_at, reason if status == "quarantined" else last_error, reported,
                            permanent)
        if status == "pending":
            status = ("failed (permanent)" if permanent
                      else "failed" if attempts >= self.failed_after else "pending")
        return QueuedMail(key, status, to, subject, notify_chat, secret, delivery, float(queued_at))
