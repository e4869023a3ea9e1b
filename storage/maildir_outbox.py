"""The e-mail outbox as a standard maildir: mail waits in new/ until it is delivered."""

import mailbox
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from flows.ports import Mail
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


class MaildirOutbox:
    """Implements `flows.ports.Outbox`: each mail becomes one owner-only file, written atomically by `mailbox`.

    A `secret` mail is sealed before it touches the disk (`MailCipher`): the file holds its headers
    and an encrypted body only.
    """

    def __init__(self, path: str | Path, sender: str, cipher: MailCipher) -> None:
        self.path = Path(path)
        self.sender = sender
        self.cipher = cipher

    def put(self, mail: Mail) -> str:
        """Who to tell if delivery stalls, and whether the body is sealed, travel as private headers."""
        message = to_email_message(mail, self.sender)
        if mail.secret:
            message = self.cipher.seal(message)
            message[SECRET_HEADER] = SEALED
        if mail.notify_chat is not None:
            message[NOTIFY_HEADER] = str(mail.notify_chat)
        key = self._maildir().add(message)
        private_file(self.path / "new" / key)  # `mailbox` creates it 0o666 & ~umask; new/ is 0700 meanwhile
        return key

    def _maildir(self) -> mailbox.Maildir:
        """`mailbox` makes the subfolders only with the outbox folder itself, and with the umask's mode."""
        for folder in FOLDERS:
            private_dir(self.path / folder)
        private_dir(self.path)
        return mailbox.Maildir(self.path)
