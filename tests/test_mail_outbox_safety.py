"""The outbox on a bad day: damaged records and mails set aside, mail refused for good, secrets sealed at rest."""

import asyncio
import base64
import logging
import os
import quopri
import stat
import time
from collections.abc import Iterator
from dataclasses import replace
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr, ValidationError

from bot.stores import build_outbox
from bot.cli import main as flexbot
from bot.config import Settings
from flows.catalogue import catalogue
from flows.mails import compose
from tests.conftest import SmtpServer, running_bot, with_smtp
from tests.fake_bot_api import FakeBotAPI
from tests.telegram_user import TelegramUser
from tests.test_invited_users import admin_with_two_invited_users, mail_to, notice_in
from tests.test_mail_delivery import Reports, delivery, outbox_rows, queue_invitation
from tests.test_telegram_journey import open_subscription

PASSWORD = "Zq7-Secret-Passw0rd!"
SUBJECT = "Jean Dupont vous invite à utiliser Sage 50 Comptabilité"


def waiting_keys(settings: Settings) -> list[str]:
    files = sorted((settings.outbox_dir / "new").iterdir(), key=lambda path: path.stat().st_mtime_ns)
    return [path.name for path in files]


def queue_password(settings: Settings, chat: int | None = 42) -> str:
    mail = compose(catalogue("fr"), "marie@garage.fr", "mail.declaration_password", vendor="Sage Flex", password=PASSWORD,
                   first_name="Marie")
    return build_outbox(settings).put(replace(mail, secret=True, notify_chat=chat))


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual default umask, under which `mailbox` and `open` make world-readable files."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.mark.parametrize("record", [b"", b"\x00garbage{", b'{"delivery": {"attempts": 2, "next_att', b'[1, 2]',
                                    b'{"delivery": {"attempts": "many"}}'])
async def test_a_corrupt_delivery_record_sets_its_mail_aside_and_the_others_go(settings: Settings, smtp: SmtpServer,
                                                                               record: bytes, capsys, caplog):
    settings = with_smtp(settings, smtp)
    smtp.start()
    for to in ("first@garage.fr", "damaged@garage.fr", "last@garage.fr"):
        queue_invitation(settings, to)
    damaged = waiting_keys(settings)[1]
    (settings.outbox_dir / "delivery").mkdir(exist_ok=True)
    (settings.outbox_dir / "delivery" / f"{damaged}.json").write_bytes(record)
    assert [row["status"] for row in outbox_rows(settings, capsys)] == ["pending", "damaged", "pending"]
    report = await delivery(settings).deliver_due()
    assert (report.sent, report.waiting, report.set_aside) == (2, 0, 1)
    assert sorted(m["To"] for m in await smtp.wait_for(2)) == ["first@garage.fr", "last@garage.fr"]
    quarantine = settings.outbox_dir / "quarantine"
    assert (quarantine / damaged).exists() and (quarantine / "notes" / f"{damaged}.delivery.json").read_bytes() == record
    [line] = [r.getMessage() for r in caplog.records if "set aside" in r.getMessage()]
    assert damaged in line and "unreadable delivery record" in line
    rows = {row["key"]: row for row in outbox_rows(settings, capsys)}
    assert rows[damaged]["status"] == "quarantined" and rows[damaged]["to"] == "damaged@garage.fr"
    assert rows[damaged]["last_error"].startswith("unreadable delivery record")
    assert (await delivery(settings).deliver_due()).set_aside == 0  # set aside once, then out of the way


async def test_a_notify_header_that_is_no_chat_id_means_no_chat_to_tell(settings: Settings, smtp: SmtpServer, capsys):
    settings = with_smtp(settings, smtp)
    queue_invitation(settings, "odd@garage.fr", chat=42)
    queue_invitation(settings, "marie@garage.fr", chat=43)
    odd = settings.outbox_dir / "new" / waiting_keys(settings)[0]
    odd.write_bytes(odd.read_bytes().replace(b"X-Flexbot-Notify-Chat: 42", b"X-Flexbot-Notify-Chat: quarante-deux"))
    reports = Reports()
    deliverer = delivery(settings, reports)
    for _ in range(2):  # the server is down: both mails stall
        await deliverer.deliver_due(everything=True)
    assert reports.notices == [(43, "marie@garage.fr", SUBJECT, False)]
    assert [row["status"] for row in outbox_rows(settings, capsys)] == ["failed", "failed"]
    smtp.start()
    assert (await deliverer.deliver_due(everything=True)).sent == 2


async def test_a_mail_refused_for_good_is_not_retried_and_its_chat_is_told_once(settings: Settings, smtp: SmtpServer,
                                                                                capsys, caplog):
    settings = with_smtp(settings, smtp)
    smtp.replies_to_recipients = {"nobody@garage.fr": "550 5.1.1 No such user here",
                                  "busy@garage.fr": "451 4.3.0 Try again later"}
    smtp.start()
    queue_invitation(settings, "nobody@garage.fr", chat=42)
    queue_invitation(settings, "busy@garage.fr", chat=None)
    queue_invitation(settings, "marie@garage.fr", chat=43)
    reports, now = Reports(), [time.time()]
    deliverer = delivery(settings, reports)
    deliverer.clock = lambda: now[0]
    first = await deliverer.deliver_due()
    assert (first.sent, first.waiting, first.failed) == (1, 1, 1)
    for _ in range(3):
        now[0] += 1  # past any backoff
        await deliverer.deliver_due()
    assert smtp.recipients_tried.count("nobody@garage.fr") == 1
    assert smtp.recipients_tried.count("busy@garage.fr") == 4  # a 4xx is retried as before
    assert reports.notices == [(42, "nobody@garage.fr", SUBJECT, True)]
    assert sum("refused for good" in r.getMessage() for r in caplog.records) == 1
    rows = {row["to"]: row for row in outbox_rows(settings, capsys)}
    assert rows["nobody@garage.fr"]["status"] == "failed (permanent)"
    assert "550" in rows["nobody@garage.fr"]["last_error"] and rows["nobody@garage.fr"]["next_attempt"] is None
    assert await asyncio.to_thread(flexbot, ["outbox", "retry"], settings) == 1  # the operator's decision: tried again, refused again
    assert "Refused for good: 1." in capsys.readouterr().out
    assert smtp.recipients_tried.count("nobody@garage.fr") == 2 and len(reports.notices) == 1


def traces(secret: str) -> list[bytes]:
    """The secret as bytes, quoted-printable, and base64 at each of the three alignments in a stream."""
    raw = secret.encode()
    forms = [raw, quopri.encodestring(raw).strip()]
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw)
        forms.append(encoded[4 if shift else 0:-4])  # the characters that depend on the secret only
    return forms


def assert_no_trace(secret: str, directory: Path) -> None:
    files = [path for path in directory.rglob("*") if path.is_file()]
    assert files
    for path in files:
        content = path.read_bytes()
        assert not [form for form in traces(secret) if form in content], path
        parts = message_from_bytes(content, policy=policy.default).walk()  # what a mail tool would decode
        assert not [part for part in parts if secret.encode() in (part.get_payload(decode=True) or b"")], path


async def test_a_secret_mail_is_sealed_at_rest_and_goes_out_in_clear(settings: Settings, smtp: SmtpServer, capsys):
    settings = with_smtp(settings, smtp)
    key = queue_password(settings)
    assert_no_trace(PASSWORD, settings.flexbot_data_dir)
    [row] = outbox_rows(settings, capsys)
    assert (row["status"], row["to"], row["subject"]) == ("pending", "marie@garage.fr",
                                                          "Votre mot de passe pour Ciel direct Déclaration")
    assert flexbot(["outbox", "show", key], settings) == 0
    shown = capsys.readouterr().out
    assert "To: marie@garage.fr" in shown and PASSWORD in shown and "X-Flexbot" not in shown
    smtp.start()
    assert (await delivery(settings).deliver_due()).sent == 1
    [received] = await smtp.wait_for(1)
    assert PASSWORD in received.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert not any(name.lower().startswith("x-flexbot") for name in received.keys())
    assert_no_trace(PASSWORD, settings.flexbot_data_dir)
    assert flexbot(["outbox", "show", key], settings) == 0
    assert PASSWORD not in capsys.readouterr().out  # cur/ keeps only the headers


async def test_a_secret_mail_sealed_under_another_key_is_set_aside_and_the_others_go(settings: Settings,
                                                                                     smtp: SmtpServer, capsys, caplog):
    settings = with_smtp(settings, smtp)
    key = queue_password(settings.model_copy(update={"flexbot_secret_key": SecretStr(Fernet.generate_key().decode())}))
    queue_invitation(settings)
    smtp.start()
    report = await delivery(settings).deliver_due()
    assert (report.sent, report.set_aside) == (1, 1)
    assert [m["To"] for m in await smtp.wait_for(1)] == ["marie@garage.fr"]
    [line] = [r.getMessage() for r in caplog.records if "set aside" in r.getMessage()]
    assert key in line and "cannot decrypt" in line
    assert flexbot(["outbox", "show", key], settings) == 1
    assert "cannot decrypt" in capsys.readouterr().err


def test_outbox_show_prints_a_plain_mail_and_refuses_an_unknown_key(settings: Settings, capsys):
    queue_invitation(settings)
    [key] = waiting_keys(settings)
    assert flexbot(["outbox", "show", key], settings) == 0
    shown = capsys.readouterr().out
    assert f"Subject: {SUBJECT}" in shown and "Bonjour Marie" in shown and "=C3" not in shown
    for unknown in ("no-such-mail", "../secret.key"):
        assert flexbot(["outbox", "show", unknown], settings) == 2
        assert "no e-mail" in capsys.readouterr().err


async def test_the_outbox_and_the_key_file_are_owner_only_under_umask_022(settings: Settings, smtp: SmtpServer,
                                                                          umask_022, capsys):
    settings = with_smtp(settings, smtp)
    queue_invitation(settings, "first@garage.fr")
    queue_password(settings)
    (settings.outbox_dir / "new" / "broken").write_bytes(b"not a mail")
    await delivery(settings).deliver_due()  # the server is down: delivery records, a quarantine
    smtp.start()
    queue_invitation(settings, "last@garage.fr")
    await delivery(settings).deliver_due(everything=True)  # now sent: cur/
    assert {row["status"] for row in outbox_rows(settings, capsys)} == {"sent", "quarantined"}
    paths = [settings.secret_key_file, *settings.outbox_dir.rglob("*")]
    modes = {str(path.relative_to(settings.flexbot_data_dir)): oct(stat.S_IMODE(path.stat().st_mode)) for path in paths}
    expected = {name: "0o700" if (settings.flexbot_data_dir / name).is_dir() else "0o600" for name in modes}
    assert modes == expected and "outbox/quarantine/notes" in modes and "outbox/delivery" in modes


def test_without_a_configured_key_one_is_generated_once_and_kept_private(settings: Settings, umask_022, caplog):
    caplog.set_level(logging.WARNING)
    queue_invitation(settings)
    assert not settings.secret_key_file.exists()  # no secret mail yet, no key
    sealed = settings.mail_cipher().seal(EmailMessage())
    settings.mail_cipher().open(sealed)  # the same key, read back
    assert stat.S_IMODE(settings.secret_key_file.stat().st_mode) == 0o600
    Fernet(settings.secret_key_file.read_bytes().strip())
    [warning] = [r.getMessage() for r in caplog.records if "FLEXBOT_SECRET_KEY" in r.getMessage()]
    assert "production" in warning and "backups" in warning


def test_a_secret_key_that_is_no_fernet_key_is_refused_at_start(tmp_path: Path):
    with pytest.raises(ValidationError, match="FLEXBOT_SECRET_KEY must be a Fernet key"):
        Settings(_env_file=None, flexbot_data_dir=tmp_path, flexbot_secret_key="not-a-key")


async def test_the_administrator_hears_once_that_an_invitation_was_refused_for_good(
        bot_api: FakeBotAPI, settings: Settings, smtp: SmtpServer, capsys):
    settings = with_smtp(settings, smtp)
    smtp.replies_to_recipients = {"marie@garage-dupont.fr": "550 5.1.1 No such user here"}
    smtp.start()
    opened = await open_subscription(settings, capsys, "comptabilite", 3)
    admin = TelegramUser(bot_api, 601)
    async with running_bot(settings, bot_api):
        await admin_with_two_invited_users(admin, opened["code"])
        refused = await notice_in(bot_api, admin.id, "Envoi impossible")
        assert "marie@garage-dupont.fr" in refused and "ne sera pas renvoyé" in refused
        await mail_to(smtp, "louis@garage-dupont.fr")
        await asyncio.sleep(10 * settings.mail_poll_seconds)  # several delivery passes
    assert smtp.recipients_tried.count("marie@garage-dupont.fr") == 1
    assert sum("Envoi impossible" in (m.text or "") for m in bot_api.chats[admin.id]) == 1


@pytest.mark.parametrize("failing_read", [1, 2])  # the scan's read of the mail, then the read that sends it
async def test_a_mail_the_disk_cannot_read_now_waits_where_it_is_and_goes_later(settings: Settings, smtp: SmtpServer,
                                                                               monkeypatch, failing_read: int):
    """An I/O error says nothing of the mail: it is not set aside, the next pass sends it."""
    from storage.mail_queue import MailQueue

    settings = with_smtp(settings, smtp)
    queue_invitation(settings)
    smtp.start()
    real_read, reads = MailQueue._read, []

    def input_output_error_once(path: Path) -> EmailMessage:
        reads.append(path)
        if len(reads) == failing_read:
            raise OSError(5, "Input/output error")
        return real_read(path)

    monkeypatch.setattr(MailQueue, "_read", staticmethod(input_output_error_once))
    report = await delivery(settings).deliver_due()
    assert (report.sent, report.set_aside) == (0, 0)
    assert not (settings.outbox_dir / "quarantine").exists() and len(waiting_keys(settings)) == 1
    assert (await delivery(settings).deliver_due()).sent == 1
