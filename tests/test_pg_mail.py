"""Mail in PostgreSQL mode: queued with its event, sent once by several deliverers, retried and
reported as with the maildir, secret mail sealed at rest, the outbox commands on the mail table;
and the bot itself on PostgreSQL."""

import asyncio
import json
import threading
from email.message import EmailMessage

import psycopg
import pytest
from cryptography.fernet import Fernet

from bot.app import build_delivery
from bot.stores import build_queue, build_store
from bot.cli import main as flexbot
from bot.config import Settings
from bot.mail_delivery import MailDelivery, RetryPolicy
from flows.ports import Mail
from storage.mail_cipher import MailCipher
from storage.postgres_store import PostgresStore
from tests.conftest import SmtpServer, running_bot, with_smtp
from tests.fake_bot_api import FakeBotAPI
from tests.telegram_user import TelegramUser
from tests.test_mail_delivery import Reports
from tests.test_telegram_journey import PASSWORD, open_subscription, up_to_the_first_name

SECRET_TEXT = "Votre mot de passe : Xq7-secret-Zz"


@pytest.fixture
def store(pg_settings: Settings):
    built = build_store(pg_settings)
    assert isinstance(built, PostgresStore)
    yield built
    built.close()


def outbox_rows(settings: Settings, capsys: pytest.CaptureFixture[str]) -> list[dict]:
    assert flexbot(["outbox", "--json"], settings) == 0
    return json.loads(capsys.readouterr().out)


def queue(store: PostgresStore, to: str, chat: int | None = 42, secret: bool = False) -> None:
    store.queue_mail(Mail(to, f"Pour {to}", SECRET_TEXT if secret else "Bonjour", notify_chat=chat, secret=secret))


async def test_a_server_down_then_up_loses_nothing_and_a_stalled_mail_is_reported_once(
        pg_settings: Settings, store: PostgresStore, smtp: SmtpServer, capsys) -> None:
    settings = with_smtp(pg_settings, smtp).model_copy(update={"mail_retry_first_seconds": 60})
    queue(store, "marie@garage.fr", chat=42)
    queue(store, "louis@garage.fr", chat=None)
    reports = Reports()
    deliverer = build_delivery(settings, reports, store)
    assert deliverer is not None
    for _ in range(3):
        report = await deliverer.deliver_due(everything=True)
        assert (report.sent, report.waiting) == (0, 2)
    rows = outbox_rows(settings, capsys)
    assert [(row["status"], row["attempts"]) for row in rows] == [("failed", 3), ("failed", 3)]
    assert "SMTPConnectError" in rows[0]["last_error"]
    assert reports.notices == [(42, "marie@garage.fr", "Pour marie@garage.fr", False)]
    assert (await deliverer.deliver_due()).waiting == 2  # not due yet: the backoff is kept in the table
    assert [row["attempts"] for row in outbox_rows(settings, capsys)] == [3, 3]
    smtp.start()
    assert await asyncio.to_thread(flexbot, ["outbox", "retry"], settings) == 0
    assert "Sent: 2. Still waiting: 0." in capsys.readouterr().out
    assert sorted(m["To"] for m in await smtp.wait_for(2)) == ["louis@garage.fr", "marie@garage.fr"]
    assert [row["status"] for row in outbox_rows(settings, capsys)] == ["sent", "sent"]


async def test_a_refused_mail_is_reported_once_and_not_retried(pg_settings: Settings, store: PostgresStore,
                                                               smtp: SmtpServer, capsys) -> None:
    settings = with_smtp(pg_settings, smtp)
    smtp.replies_to_recipients["nobody@garage.fr"] = "550 no such user"
    smtp.start()
    queue(store, "nobody@garage.fr", chat=42)
    reports = Reports()
    deliverer = build_delivery(settings, reports, store)
    assert (await deliverer.deliver_due()).failed == 1  # type: ignore[union-attr]
    assert (await deliverer.deliver_due()).failed == 1  # type: ignore[union-attr]
    assert smtp.recipients_tried == ["nobody@garage.fr"]
    assert reports.notices == [(42, "nobody@garage.fr", "Pour nobody@garage.fr", True)]
    assert [row["status"] for row in outbox_rows(settings, capsys)] == ["failed (permanent)"]


async def test_a_secret_mail_is_sealed_in_the_table_shown_decrypted_and_emptied_once_sent(
        pg_settings: Settings, store: PostgresStore, smtp: SmtpServer, capsys) -> None:
    settings = with_smtp(pg_settings, smtp)
    queue(store, "marie@garage.fr", secret=True)
    with store.pool.connection() as connection:
        [(message,)] = connection.execute("SELECT message FROM mail").fetchall()
    assert b"Xq7-secret-Zz" not in message and b"message.fernet" in message
    [row] = outbox_rows(settings, capsys)
    assert flexbot(["outbox", "show", row["key"]], settings) == 0
    assert SECRET_TEXT in capsys.readouterr().out
    smtp.start()
    assert (await build_delivery(settings, None, store).deliver_due()).sent == 1  # type: ignore[union-attr]
    [sent] = await smtp.wait_for(1)
    assert SECRET_TEXT in sent.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    with store.pool.connection() as connection:
        [(message,)] = connection.execute("SELECT message FROM mail").fetchall()
    assert b"message.fernet" not in message and b"Xq7" not in message


async def test_an_unreadable_mail_is_quarantined_and_the_next_one_goes(pg_settings: Settings, store: PostgresStore,
                                                                       smtp: SmtpServer, capsys) -> None:
    settings = with_smtp(pg_settings, smtp)
    smtp.start()
    other_key = MailCipher(lambda: Fernet.generate_key())  # sealed under another key: it cannot be opened
    queue(PostgresStore(store.pool, "bot@flex.example", other_key), "first@garage.fr", secret=True)
    queue(store, "marie@garage.fr")
    report = await build_delivery(settings, None, store).deliver_due()  # type: ignore[union-attr]
    assert (report.sent, report.set_aside) == (1, 1)
    statuses = {row["to"]: (row["status"], row["last_error"]) for row in outbox_rows(settings, capsys)}
    assert statuses["marie@garage.fr"] == ("sent", "")
    assert statuses["first@garage.fr"][0] == "quarantined" and "decrypt" in statuses["first@garage.fr"][1]


def test_two_deliverers_send_each_mail_once(pg_settings: Settings, store: PostgresStore) -> None:
    """Two processes' delivery passes at the same moment: each mail is locked by the one trying it
    (SKIP LOCKED), so the other goes on to the next."""
    for index in range(12):
        queue(store, f"user{index}@garage.fr")
    sent: list[str] = []
    lock = threading.Lock()

    async def slow_send(message: EmailMessage) -> None:
        await asyncio.sleep(0.02)
        with lock:
            sent.append(str(message["To"]))

    def deliverer() -> None:
        other = build_store(pg_settings)  # a pool of its own, as another process has
        try:
            queue_ = build_queue(pg_settings, other)
            asyncio.run(MailDelivery(queue_, slow_send, RetryPolicy(1, 1)).deliver_due())
        finally:
            other.close()

    threads = [threading.Thread(target=deliverer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(sent) == sorted(f"user{index}@garage.fr" for index in range(12))
    with store.pool.connection() as connection:
        assert connection.execute("SELECT status, count(*) FROM mail GROUP BY status").fetchall() == [("sent", 12)]


async def test_the_bot_on_postgresql_from_the_commencer_link_to_a_restart(
        pg_settings: Settings, bot_api: FakeBotAPI, smtp: SmtpServer, capsys) -> None:
    """`flexbot run` with DATABASE_URL: the subscription's mail leaves from the mail table, the chat
    resumes after a restart, and no password is in clear in the database."""
    settings = with_smtp(pg_settings, smtp)
    smtp.start()
    opened = await open_subscription(settings, capsys, "comptabilite", 1)
    admin = TelegramUser(bot_api, 505)
    async with running_bot(settings, bot_api):
        [mail] = await smtp.wait_for(1)
        assert opened["link"] in mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        await up_to_the_first_name(admin, opened["code"])
    async with running_bot(settings, bot_api):
        resumed = await admin.send("/start")
        assert "Bon retour" in resumed.text and "Quel est votre prénom" in resumed.text
        await admin.send("Jean")
        await admin.send("jean@garage-dupont.fr")
        review = await admin.send(PASSWORD)
        assert "Nom : Dupont" in review.text and "Prénom : Jean" in review.text
    with psycopg.connect(pg_settings.database_url.get_secret_value()) as connection:  # type: ignore[union-attr]
        dumped = connection.execute("SELECT string_agg(body, '') FROM documents").fetchone()[0]  # type: ignore[index]
        trail = [action for (action,) in connection.execute(
            "SELECT entry::jsonb ->> 'action' FROM audit WHERE trail = %s ORDER BY seq", (opened["number"],))]
    assert PASSWORD not in dumped and "jean@garage-dupont.fr" in dumped
    assert trail[0] == "subscription_opened" and "chat_bound" in trail
