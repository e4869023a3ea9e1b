"""The PostgreSQL schema as an ordered list of migrations, applied by the bot itself.

`schema_version` holds one row per migration applied. `upgrade` applies the missing ones in a
single transaction under an advisory lock, so two processes starting at once apply each migration
once (the second waits, then finds nothing left to do). A later release appends a migration to
`MIGRATIONS`; never edit one that has shipped.

Documents are JSON kept as text, not jsonb: jsonb refuses a NUL character or a lone surrogate,
which a Telegram message may hold, and text lets an unreadable row be found and set aside like a
torn file (`quarantine`). `version` is what an event read: its commit updates a row only if the
version is still the one it read (optimistic concurrency, see `postgres_store`).
"""

from dataclasses import dataclass

import psycopg

MIGRATION_LOCK = (0x666C6578, 1)  # two int4 keys: a space apart from the chats' bigint locks


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "documents, audit trail, handled updates, quarantine, mail queue", """
        CREATE TABLE documents (
            kind text NOT NULL,
            key text NOT NULL,
            body text NOT NULL,
            version bigint NOT NULL DEFAULT 1,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (kind, key)
        );
        CREATE TABLE quarantine (
            id bigserial PRIMARY KEY,
            kind text NOT NULL,
            key text NOT NULL,
            body text NOT NULL,
            set_aside_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE audit (
            seq bigserial PRIMARY KEY,
            id text NOT NULL,
            trail text NOT NULL,
            entry text NOT NULL,
            written_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX audit_by_trail ON audit (trail, seq);
        CREATE TABLE handled_updates (
            chat_id bigint NOT NULL,
            update_id bigint NOT NULL,
            handled_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (chat_id, update_id)
        );
        CREATE INDEX handled_updates_by_age ON handled_updates (handled_at);
        CREATE TABLE mail (
            key text PRIMARY KEY,
            seq bigserial NOT NULL,
            queued_at timestamptz NOT NULL DEFAULT now(),
            recipient text NOT NULL,
            subject text NOT NULL,
            notify_chat bigint,
            secret boolean NOT NULL,
            message bytea NOT NULL,
            status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'quarantined')),
            attempts integer NOT NULL DEFAULT 0,
            next_attempt_at double precision NOT NULL DEFAULT 0,
            last_error text NOT NULL DEFAULT '',
            reported boolean NOT NULL DEFAULT false,
            permanent boolean NOT NULL DEFAULT false,
            reason text NOT NULL DEFAULT '',
            done_at timestamptz
        );
        CREATE INDEX mail_waiting ON mail (seq) WHERE status = 'pending';
    """),
)
LATEST = MIGRATIONS[-1].version


class SchemaMismatch(Exception):
    """The database is not at the schema this release uses."""


def current_version(connection: psycopg.Connection) -> int:
    """0 for an empty database."""
    exists = connection.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return 0
    row = connection.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def upgrade(connection: psycopg.Connection) -> list[int]:
    """Applies the migrations the database lacks, all or none; returns their versions."""
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s::integer, %s::integer)", MIGRATION_LOCK)
        connection.execute("""CREATE TABLE IF NOT EXISTS schema_version (
            version integer PRIMARY KEY, description text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now())""")
        current = current_version(connection)
        if current > LATEST:
            raise _newer(current)
        applied = []
        for migration in MIGRATIONS:
            if migration.version > current:
                connection.execute(migration.sql)
                connection.execute("INSERT INTO schema_version (version, description) VALUES (%s, %s)",
                                   (migration.version, migration.description))
                applied.append(migration.version)
        return applied


def check(connection: psycopg.Connection) -> None:
    """For a process told not to migrate: refuses a schema it was not written for."""
    current = current_version(connection)
    if current > LATEST:
        raise _newer(current)
    if current < LATEST:
        raise SchemaMismatch(f"the database is at schema version {current}, this release needs {LATEST}: "
                             "run `flexbot db upgrade` (or start without DB_MIGRATE=0)")


def _newer(current: int) -> SchemaMismatch:
    return SchemaMismatch(f"the database is at schema version {current}, newer than this release knows "
                          f"({LATEST}): run the newer release")
