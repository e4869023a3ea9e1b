"""The e-mail outbox as a standard maildir: mail waits in new/ until it is delivered."""

import mailbox
import os
import secrets
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from flows.ports import Mail
from storage.atomic_json import write_atomically
from storage.mail_cipher import MailCipher
from storage.mail_queue import NOTIFY_HEADER, SEALED, SECRET_HEADER
from storage.private_files import private_dir, private_file

FOLDERS = ("tmp", "new", "cur")


def to_email_message(mail: Mail, sender: str) -> EmailMessage:
    """A MIME e-mail with a plain-text part, and an HTML alternative when there is one."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "flexbot.local")
    message.set_content(mail.text)
    if mail.html:
        message.add_alternative(mail.html, subtype="html")
    return message


def stored_message(mail: Mail, sender: str, cipher: MailCipher) -> EmailMessage:
    """The mail as it waits for delivery: sealed when secret; who to tell if delivery stalls, and
    whether the body is sealed, travel as private headers that delivery removes."""
    message = to_email_message(mail, sender)
    if mail.secret:
        message = cipher.seal(message)
        message[SECRET_HEADER] = SEALED
    if mail.notify_chat is not None:
        message[NOTIFY_HEADER] = str(mail.notify_chat)
    return message


class MaildirOutbox:
    """Where the store's events put their mail: each mail becomes one owner-only file, written atomically by `mailbox`.

    A `secret` mail is sealed before it touches the disk (`MailCipher`): the file holds its headers
    and an encrypted body only.
    """

    def __init__(self, path: str | Path, sender: str, cipher: MailCipher) -> None:
        self.path = Path(path)
        self.sender = sender
        self.cipher = cipher

    def put(self, mail: Mail) -> str:
        """Queues a mail under a fresh key (the store's events use `deposit`)."""
        key = f"{secrets.token_hex(12)}.flexbot"
        self.deposit(key, mail)
        return key

    def deposit(self, key: str, mail: Mail) -> Path | None:
        """Writes the mail into new/ under `key`, once: a mail already there, sent or set aside (an event
        applied again after a kill) is left alone. Returns the file written, if any."""
        self._maildir()
        if any(next((self.path / folder).glob(f"{key}*"), None) for folder in ("new", "cur", "quarantine")):
            return None
        message = stored_message(mail, self.sender, self.cipher)
        target = self.path / "new" / key
        write_atomically(self.path / "tmp" / key, message.as_bytes(), fsync=False)
        os.replace(self.path / "tmp" / key, target)
        return target

    def _maildir(self) -> mailbox.Maildir:
        """`mailbox` makes the subfolders only with the outbox folder itself, and with the umask's mode."""
        for folder in FOLDERS:
            private_dir(self.path / folder)
        private_dir(self.path)
        return mailbox.Maildir(self.path)
