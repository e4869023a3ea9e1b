"""Mail delivery through a real SMTP server on loopback: MIME parts, retries, reports, the outbox commands."""

import asyncio
import json
import time
from dataclasses import replace

import pytest

from bot.app import build_delivery
from bot.stores import build_outbox, build_queue
from bot.cli import main as flexbot
from bot.config import Settings
from bot.mail_delivery import MailDelivery, RetryPolicy
from flows.catalogue import catalogue
from flows.mails import compose
from tests.conftest import SmtpServer, running_bot, with_smtp
from tests.fake_bot_api import FakeBotAPI

LINK = "https://t.me/FlexTestBot?start=AbC_123-xyz"


def queue_invitation(settings: Settings, to: str = "marie@garage.fr", chat: int | None = 42) -> None:
    mail = compose(catalogue("fr"), to, "mail.invitation", LINK, vendor="Sage Flex", first_name="Marie",
                   admin_name="Jean Dupont", software="Sage 50 Comptabilité", validity="7 jours",
                   number="FLX00000001")
    build_outbox(settings).put(replace(mail, notify_chat=chat))


def outbox_rows(settings: Settings, capsys: pytest.CaptureFixture[str]) -> list[dict]:
    assert flexbot(["outbox", "--json"], settings) == 0
    return json.loads(capsys.readouterr().out)


class Reports:
    """Collects the "envoi en attente" notices a chat would get."""

    def __init__(self) -> None:
        self.notices: list[tuple[int, str, str, bool]] = []

    async def __call__(self, chat_id: int, to: str, subject: str, for_good: bool) -> None:
        self.notices.append((chat_id, to, subject, for_good))


def delivery(settings: Settings, reports: Reports | None = None) -> MailDelivery:
    built = build_delivery(settings, reports)
    assert built is not None
    return built


async def test_a_mail_goes_out_in_french_with_a_text_part_and_an_html_button(settings: Settings, smtp: SmtpServer, capsys):
    settings = with_smtp(settings, smtp)
    smtp.start()
    queue_invitation(settings)
    report = await delivery(settings).deliver_due()
    assert (report.sent, report.waiting) == (1, 0)
    [received] = await smtp.wait_for(1)
    assert received["To"] == "marie@garage.fr" and received["Subject"] == "Jean Dupont vous invite à utiliser Sage 50 Comptabilité"
    assert received.get_content_type() == "multipart/alternative"
    text = received.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    html = received.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert "Bonjour Marie" in text and LINK in text
    assert f'<a href="{LINK}"' in html and "Définir mon mot de passe</a>" in html and 'lang="fr"' in html
    assert not any(name.lower().startswith("x-flexbot") for name in received.keys())
    assert [row["status"] for row in outbox_rows(settings, capsys)] == ["sent"]
    assert not list((settings.outbox_dir / "new").iterdir())


async def test_a_server_down_then_up_loses_nothing_and_a_stalled_mail_is_reported_once(settings: Settings, smtp: SmtpServer, capsys, caplog):
    settings = with_smtp(settings, smtp)
    queue_invitation(settings, "marie@garage.fr", chat=42)
    queue_invitation(settings, "louis@garage.fr", chat=None)
    reports = Reports()
    deliverer = delivery(settings, reports)
    first = await deliverer.deliver_due(everything=True)
    assert (first.sent, first.waiting) == (0, 2)
    assert [row["status"] for row in outbox_rows(settings, capsys)] == ["pending", "pending"]
    await deliverer.deliver_due(everything=True)
    await deliverer.deliver_due(everything=True)
    rows = outbox_rows(settings, capsys)
    assert [(row["status"], row["attempts"]) for row in rows] == [("failed", 3), ("failed", 3)]
    assert "SMTPConnectError" in rows[0]["last_error"]
    assert reports.notices == [(42, "marie@garage.fr", "Jean Dupont vous invite à utiliser Sage 50 Comptabilité", False)]
    assert sum("still not delivered after 2 attempts" in r.getMessage() for r in caplog.records) == 2
    smtp.start()
    assert await asyncio.to_thread(flexbot, ["outbox", "retry"], settings) == 0
    assert "Sent: 2. Still waiting: 0." in capsys.readouterr().out
    received = await smtp.wait_for(2)
    assert sorted(m["To"] for m in received) == ["louis@garage.fr", "marie@garage.fr"]
    assert [row["status"] for row in outbox_rows(settings, capsys)] == ["sent", "sent"]
    assert not list((settings.outbox_dir / "delivery").iterdir())


async def test_a_pass_respects_the_backoff_until_the_mail_is_due(settings: Settings, smtp: SmtpServer):
    settings = with_smtp(settings, smtp)
    queue_invitation(settings)
    now = [1000.0]
    deliverer = MailDelivery(build_queue(settings), delivery(settings).send, RetryPolicy(10, 60), clock=lambda: now[0])
    await deliverer.deliver_due()
    smtp.start()
    now[0] += 9
    assert (await deliverer.deliver_due()).sent == 0
    now[0] += 1
    assert (await deliverer.deliver_due()).sent == 1
    assert [RetryPolicy(10, 60).delay(n) for n in (1, 2, 3, 4, 5)] == [10, 20, 40, 60, 60]


def test_retry_needs_smtp_and_mail_then_stays_in_the_maildir(settings: Settings, capsys):
    queue_invitation(settings)
    assert flexbot(["outbox", "retry"], settings) == 2
    assert "SMTP_HOST is not set" in capsys.readouterr().err
    assert len(list((settings.outbox_dir / "new").iterdir())) == 1


async def test_a_broken_mail_file_does_not_hold_back_the_mail_behind_it(settings: Settings, smtp: SmtpServer, capsys):
    settings = with_smtp(settings, smtp)
    smtp.start()
    queue_invitation(settings, "first@garage.fr")
    broken = settings.outbox_dir / "new" / "broken"
    broken.write_bytes(b"this is not an e-mail\n")
    queue_invitation(settings, "marie@garage.fr")
    listed = {row["key"]: row for row in outbox_rows(settings, capsys)}  # damaged, not a crash
    assert (listed["broken"]["status"], listed["broken"]["last_error"]) == ("damaged", "not an e-mail (no To header)")
    report = await delivery(settings).deliver_due()
    assert (report.sent, report.waiting, report.set_aside) == (2, 0, 1)
    assert sorted(m["To"] for m in await smtp.wait_for(2)) == ["first@garage.fr", "marie@garage.fr"]
    [aside] = [row for row in outbox_rows(settings, capsys) if row["status"] != "sent"]
    assert (aside["key"], aside["status"], aside["last_error"]) == ("broken", "quarantined", "not an e-mail (no To header)")
    assert not broken.exists() and (settings.outbox_dir / "quarantine" / "broken").exists()


async def test_mail_can_be_queued_after_a_delivery_pass_on_a_fresh_data_dir(settings: Settings, smtp: SmtpServer):
    settings = with_smtp(settings, smtp)
    smtp.start()
    assert (await delivery(settings).deliver_due()).sent == 0
    queue_invitation(settings)
    assert (await delivery(settings).deliver_due()).sent == 1


async def test_a_stop_cuts_a_pass_short_on_a_server_that_never_answers_and_the_mail_stays_queued(
        bot_api: FakeBotAPI, settings: Settings, smtp: SmtpServer, capsys) -> None:
    """Three mails on an SMTP server that accepts and never speaks: the stop must not wait for a
    30 s timeout per mail (systemd kills at 90 s)."""
    connections: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", smtp.port)
    for n in range(3):
        queue_invitation(settings, f"marie{n}@garage.fr")
    settings = with_smtp(settings, smtp).model_copy(update={"smtp_timeout_seconds": 30})
    try:
        async with running_bot(settings, bot_api):
            while not connections:  # the first mail is being sent
                await asyncio.sleep(0.01)
            started = time.monotonic()
        assert time.monotonic() - started < 3
    finally:
        server.close()
        for writer in connections:
            writer.close()
    assert [row["status"] for row in outbox_rows(settings, capsys)] == ["pending"] * 3
