"""The e-mail outbox as a standard maildir: mail waits in new/ until it is delivered."""

import mailbox
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from flows.ports import Mail
from storage.mail_queue import NOTIFY_HEADER, SECRET_HEADER


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
    """Implements `flows.ports.Outbox`: each mail becomes one file, written atomically by `mailbox`."""

    def __init__(self, path: str | Path, sender: str) -> None:
        self.path = Path(path)
        self.sender = sender

    def put(self, mail: Mail) -> str:
        """Who to tell if delivery stalls, and whether to empty it once sent, travel as private headers."""
        message = to_email_message(mail, self.sender)
        if mail.notify_chat is not None:
            message[NOTIFY_HEADER] = str(mail.notify_chat)
        if mail.secret:
            message[SECRET_HEADER] = "yes"
        for folder in ("tmp", "new", "cur"):  # `mailbox` creates them only with the outbox folder itself
            (self.path / folder).mkdir(parents=True, exist_ok=True)
        return mailbox.Maildir(self.path).add(message)
