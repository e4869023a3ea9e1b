"""The store and the mail queue a process works on, from the settings: everything a command that
reads or fixes the data needs, without the bot's own modules (Telegram, the HTTP server), so that
`flexbot report` and the other operator commands start in a fraction of the time."""

from bot.config import Settings
from flows.ports import Store
from storage.mail_queue import MailQueue
from storage.maildir_outbox import MaildirOutbox
from storage.pg_mail_queue import PostgresMailQueue
from storage.postgres_store import PostgresStore, connect
from storage.tinydb_store import TinyDBStore


def build_store(settings: Settings, owner: bool = False) -> Store:
    """PostgreSQL when DATABASE_URL is set, TinyDB files in the data directory otherwise."""
    if settings.database_url is not None:
        pool = connect(settings.database_url.get_secret_value(), settings.database_pool_size,
                       migrate=owner and settings.db_migrate)
        return PostgresStore(pool, settings.mail_from, settings.mail_cipher())
    return TinyDBStore(settings.database_dir, fsync=settings.flexbot_fsync, outbox=build_outbox(settings),
                       recover=owner)


def build_outbox(settings: Settings) -> MaildirOutbox:
    return MaildirOutbox(settings.outbox_dir, settings.mail_from, settings.mail_cipher())


def build_queue(settings: Settings, store: Store | None = None) -> MailQueue | PostgresMailQueue:
    """The mail table of the PostgreSQL `store` (sharing its connections), else the maildir outbox."""
    if settings.database_url is not None:
        if not isinstance(store, PostgresStore):
            raise ValueError("with DATABASE_URL, mail is queued in the PostgreSQL store: pass it")
        return PostgresMailQueue(store.pool, settings.mail_failed_after_attempts, settings.mail_cipher())
    return MailQueue(settings.outbox_dir, settings.mail_failed_after_attempts, settings.mail_cipher(),
                     fsync=settings.flexbot_fsync)
