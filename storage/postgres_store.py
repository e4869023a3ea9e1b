"""The store on PostgreSQL, for several bot processes sharing one database.

psycopg 3 with psycopg_pool: the maintained PostgreSQL driver for Python (psycopg2's successor by
the same authors), with binary wheels, and a pool that checks a connection before lending it, so a
database restart costs the events in flight and not the ones after.

One event is one transaction. It starts with `pg_advisory_xact_lock(chat)`, so one chat's events
run one at a time across every process; then it reads what it needs, and at its end writes every
change (documents, audit entries, mail, the update it handled) and commits. Records shared between
chats (a subscription, the help queue, agent sessions) are not locked while the event thinks: each
document carries a version, and the commit writes a document only if its version is still the one
the event read (`UPDATE ... WHERE version = %s`, or an insert that finds nobody inserted it first).
Otherwise another process committed in between, and the event raises `EventConflict`, rolled back,
to be run again from the start on fresh data (`DocumentStore.run_event`); a deadlock or
serialization failure does the same. A database that cannot be reached raises `StoreUnavailable`.
"""

import json
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import errors
from psycopg_pool import ConnectionPool, PoolTimeout

from flows.ports import EventConflict, Mail, StoreUnavailable
from storage import pg_schema
from storage.documents import FACTS, Changes, DocumentStore, audit_key, json_document, safe_key
from storage.mail_cipher import MailCipher
from storage.maildir_outbox import stored_message

log = logging.getLogger(__name__)
HANDLED_UPDATES_KEPT = "2 days"  # Telegram keeps an update 24 h; after a week idle it may reuse ids
PRUNE_EVERY_SECONDS = 3600.0
WAIT_SECONDS = 3.0
UNAVAILABLE = (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout)
FACTS_BATCH = 5000  # subscriptions' report facts read per round trip by `report_facts`


def connect(url: str, size: int, migrate: bool, timeout: float = WAIT_SECONDS) -> ConnectionPool:
    """A pool on `url`, the schema migrated first (`migrate`) or else checked to be this release's.
    `timeout`: how long an event waits for a connection (the database down or restarting) before it
    fails with `StoreUnavailable`: an event waits on the thread that serves every chat."""
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=max(int(timeout), 1)) as connection:
            if migrate:
                applied = pg_schema.upgrade(connection)
                if applied:
                    log.warning("database schema migrated to version %d", applied[-1])
            else:
                pg_schema.check(connection)
    except UNAVAILABLE as error:
        raise StoreUnavailable(f"the database is unavailable ({type(error).__name__})") from error
    return ConnectionPool(url, min_size=1, max_size=max(size, 2), timeout=timeout, name="flexbot",
                          kwargs={"autocommit": True, "connect_timeout": max(int(timeout), 1)},
                          check=ConnectionPool.check_connection, open=True)


@dataclass
class _Transaction:
    connection: psycopg.Connection
    versions: dict[tuple[str, str], int | None] = field(default_factory=dict)  # None: read as absent


class PostgresStore(DocumentStore):
    """Implements `flows.ports.Store` on PostgreSQL; `sender` and `cipher` turn queued mail into the
    message the mail table keeps (sealed when secret), as the maildir outbox does."""

    def __init__(self, pool: ConnectionPool, sender: str, cipher: MailCipher) -> None:
        super().__init__()
        self.pool, self.sender, self.cipher = pool, sender, cipher
        self._open = threading.local()
        self._pruned_at = 0.0

    def _current(self) -> _Transaction | None:
        return getattr(self._open, "transaction", None)

    @contextmanager
    def _transaction(self, chat: int | None) -> Iterator[None]:
        try:
            with self.pool.connection() as connection, connection.transaction():
                self._open.transaction = _Transaction(connection)
                if chat is not None:
                    connection.execute("SELECT pg_advisory_xact_lock(%s::bigint)", (chat,))
                yield
        except (errors.SerializationFailure, errors.DeadlockDetected) as error:
            raise EventConflict(type(error).__name__) from error
        except UNAVAILABLE as error:
            raise StoreUnavailable(f"the database is unavailable ({type(error).__name__})") from error
        finally:
            self._open.transaction = None

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        """The event's connection inside an event; a pooled one (autocommit) outside. Losing either
        is `StoreUnavailable`."""
        current = self._current()
        try:
            if current is not None:
                yield current.connection
                return
            with self.pool.connection() as connection:
                yield connection
        except UNAVAILABLE as error:  # the event's connection too: a connection lost is no damaged record
            raise StoreUnavailable(f"the database is unavailable ({type(error).__name__})") from error

    # Reading.

    def _read(self, kind: str, key: str) -> dict[str, Any] | None:
        with self._connection() as connection:
            row = connection.execute("SELECT body, version FROM documents WHERE kind = %s AND key = %s",
                                     (kind, key)).fetchone()
        document = json_document(row[0]) if row is not None else None
        current = self._current()
        if current is not None and (kind, key) not in current.versions:
            current.versions[kind, key] = row[1] if row is not None else None
        return document

    def subscription_numbers(self) -> Iterator[str]:
        with self._connection() as connection:
            rows = connection.execute("SELECT key FROM documents WHERE kind = 'subscriptions' ORDER BY key").fetchall()
        yield from (key for (key,) in rows)

    def _facts_rows(self) -> Iterator[tuple[str, dict[str, Any] | None]]:
        """One read-only snapshot: every subscription's number with its facts (none kept: NULL), through
        a server-side cursor, a batch at a time, the batch's documents parsed at once."""
        try:
            with self.pool.connection() as connection, connection.transaction():
                connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                with connection.cursor(name="report_facts") as cursor:
                    cursor.itersize = FACTS_BATCH
                    cursor.execute("""SELECT s.key, f.body FROM documents s LEFT JOIN documents f
                        ON f.kind = %s AND f.key = s.key WHERE s.kind = 'subscriptions'""", (FACTS,))
                    while batch := cursor.fetchmany(FACTS_BATCH):
                        kept = iter(json_objects([body for _, body in batch if body is not None]))
                        for key, body in batch:
                            yield key, next(kept) if body is not None else None
        except UNAVAILABLE as error:
            raise StoreUnavailable(f"the database is unavailable ({type(error).__name__})") from error

    def _history(self, number: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        with self._connection() as connection:
            row = connection.execute("SELECT body FROM documents WHERE kind = 'subscriptions' AND key = %s",
                                     (number,)).fetchone()
        return (_json_object(row[0]) if row is not None else None), self._audit_rows(number)

    def _audit_rows(self, subscription_number: str) -> list[dict[str, Any]]:
        if not safe_key(subscription_number):
            return []
        with self._connection() as connection:
            rows = connection.execute("SELECT id, entry FROM audit WHERE trail = %s ORDER BY seq",
                                      (subscription_number,)).fetchall()
        return [{"id": row_id, "entry": entry} for (row_id, _), entry in zip(rows, json_objects([e for _, e in rows]))]

    def _was_handled(self, chat_id: int, update_id: int) -> bool:
        with self._connection() as connection:
            return connection.execute("SELECT 1 FROM handled_updates WHERE chat_id = %s AND update_id = %s",
                                      (chat_id, update_id)).fetchone() is not None

    def _remember(self, updates: list[tuple[int, int]]) -> None:
        """The table remembers them, for every process."""

    def _set_aside(self, kind: str, key: str) -> None:
        """Moved to `quarantine` on a connection of its own: the event that found it will roll back."""
        try:
            with self.pool.connection() as connection, connection.transaction():
                connection.execute("""INSERT INTO quarantine (kind, key, body)
                    SELECT kind, key, body FROM documents WHERE kind = %s AND key = %s""", (kind, key))
                connection.execute("DELETE FROM documents WHERE kind = %s AND key = %s", (kind, key))
        except (psycopg.Error, PoolTimeout) as error:
            raise OSError(f"could not set aside ({type(error).__name__})") from error

    # Writing.

    def _commit(self, changes: Changes) -> None:
        """Runs inside the event's transaction (the COMMIT is the end of `_transaction`), its writes
        sent in one pipeline: one round trip to the server, however many records changed."""
        current = self._current()
        if current is None:
            raise RuntimeError("a commit outside a transaction")
        connection = current.connection
        checks: list[tuple[psycopg.Cursor, str]] = []  # statements that must change exactly one row
        with connection.pipeline():
            for (kind, key), document in sorted(changes.documents.items()):  # one order: no deadlock
                body = json.dumps(document, ensure_ascii=True, separators=(",", ":"))
                cursor = self._write(connection, kind, key, body, current.versions.get((kind, key), ...))
                if cursor is not None:
                    checks.append((cursor, f"{kind} record {key} changed meanwhile"))
            with connection.cursor() as cursor:
                if changes.audit:
                    cursor.executemany("INSERT INTO audit (id, trail, entry) VALUES (%s, %s, %s)",
                                       [(row["id"], audit_key(row["entry"]), json.dumps(row["entry"], ensure_ascii=True))
                                        for row in changes.audit])
                if changes.mails:
                    cursor.executemany(
                        """INSERT INTO mail (key, recipient, subject, notify_chat, secret, message)
                           VALUES (%s, %s, %s, %s, %s, %s)""",
                        [self._mail_row(queued["key"], Mail(**queued["mail"])) for queued in changes.mails])
            for chat_id, update_id in changes.updates:
                checks.append((connection.execute("""INSERT INTO handled_updates (chat_id, update_id)
                    VALUES (%s, %s) ON CONFLICT DO NOTHING""", (chat_id, update_id)),
                    f"update {update_id} was handled meanwhile"))
            self._prune(connection)
        for cursor, problem in checks:
            if cursor.rowcount != 1:
                raise EventConflict(problem)

    @staticmethod
    def _write(connection: psycopg.Connection, kind: str, key: str, body: str, read: object) -> psycopg.Cursor | None:
        """`read`: the version the event read, None if it found no row, ... if it never read it (a save
        that depends on nothing read: the last one wins, and there is nothing to check)."""
        if read is ...:
            connection.execute("""INSERT INTO documents (kind, key, body) VALUES (%s, %s, %s)
                ON CONFLICT (kind, key) DO UPDATE SET body = excluded.body, version = documents.version + 1,
                updated_at = now()""", (kind, key, body))
            return None
        if read is None:
            return connection.execute("""INSERT INTO documents (kind, key, body) VALUES (%s, %s, %s)
                ON CONFLICT (kind, key) DO NOTHING""", (kind, key, body))
        return connection.execute("""UPDATE documents SET body = %s, version = version + 1, updated_at = now()
            WHERE kind = %s AND key = %s AND version = %s""", (body, kind, key, read))

    def _mail_row(self, key: str, mail: Mail) -> tuple[object, ...]:
        message = stored_message(mail, self.sender, self.cipher)
        return key, mail.to, mail.subject, mail.notify_chat, mail.secret, message.as_bytes()

    def _prune(self, connection: psycopg.Connection) -> None:
        """Handled update ids are kept as long as Telegram may redeliver, then dropped (hourly)."""
        now = time.monotonic()
        if now - self._pruned_at < PRUNE_EVERY_SECONDS:
            return
        self._pruned_at = now
        connection.execute("DELETE FROM handled_updates WHERE handled_at < now() - %s::interval",
                           (HANDLED_UPDATES_KEPT,))

    def close(self) -> None:
        self.pool.close()



def json_objects(texts: list[str]) -> list[dict[str, Any] | None]:
    """Each text's JSON object, or None for one that is none (a row damaged by hand: the reader names
    it). Parsed as one array when all are whole, which costs a fraction of parsing them one by one;
    a damaged one makes that fail (or yield a non-object), and then each is parsed alone."""
    try:
        values = json.loads("[" + ",".join(texts) + "]")
    except ValueError:
        values = None
    if values is None or len(values) != len(texts) or not all(isinstance(value, dict) for value in values):
        values = [_json_object(text) for text in texts]
    return values


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
