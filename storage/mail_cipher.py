"""Secret mail at rest: its whole message sealed with Fernet, so the outbox never holds a password in clear.

The sealed maildir message keeps the headers an operator needs (From, To, Subject, Date, Message-ID), a
short text part saying the body is encrypted, and the Fernet token as an attachment. Delivery opens it
just before sending; `flexbot outbox show` opens it for an operator without SMTP.
"""

import logging
import os
import secrets
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from functools import cached_property
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from storage.private_files import PRIVATE_FILE, private_dir

log = logging.getLogger(__name__)
SEALED_AS = "message.fernet"
SEALED_NOTICE = ("This e-mail is encrypted at rest: it holds a password. "
                 "`flexbot outbox show KEY` prints it decrypted.")
VISIBLE_HEADERS = ("From", "To", "Subject", "Date", "Message-ID")


class UnreadableMail(Exception):
    """A mail that cannot be read or opened; the message says why, never what it holds."""


class MailCipher:
    """`key` is asked for at the first secret mail, so a command that writes no mail leaves no key file."""

    def __init__(self, key: Callable[[], bytes]) -> None:
        self._key = key

    @cached_property
    def _fernet(self) -> Fernet:
        return Fernet(self._key())

    def seal(self, message: EmailMessage) -> EmailMessage:
        sealed = headers_only(message, SEALED_NOTICE)
        sealed.add_attachment(self._fernet.encrypt(message.as_bytes()), maintype="application",
                              subtype="octet-stream", filename=SEALED_AS)
        return sealed

    def open(self, sealed: EmailMessage) -> EmailMessage:
        token = next((part.get_content() for part in sealed.iter_attachments()
                      if part.get_filename() == SEALED_AS), None)
        if not isinstance(token, bytes):
            raise UnreadableMail("secret mail without its encrypted body")
        try:
            clear = self._fernet.decrypt(token)
        except InvalidToken:
            raise UnreadableMail("cannot decrypt its body with FLEXBOT_SECRET_KEY (InvalidToken: "
                                 "the key changed, or the file was altered)") from None
        return message_from_bytes(clear, policy=policy.default)  # type: ignore[return-value]


def headers_only(message: EmailMessage, text: str) -> EmailMessage:
    """What an operator may see of a secret mail: who, what, when, and `text` for a body."""
    kept = EmailMessage()
    for header in VISIBLE_HEADERS:
        if message[header]:
            kept[header] = message[header]
    kept.set_content(text)
    return kept


def key_from_file(path: Path) -> bytes:
    """The key kept in `path`, made once (0600) when there is none; two processes end up with the same key."""
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    private_dir(path.parent)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    try:
        os.fchmod(descriptor, PRIVATE_FILE)  # whatever the umask
        os.write(descriptor, Fernet.generate_key() + b"\n")
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    try:
        os.link(temporary, path)  # fails if another process made it first: theirs wins
        log.warning("FLEXBOT_SECRET_KEY is not set: generated %s to encrypt secret mail at rest. In production "
                    "set FLEXBOT_SECRET_KEY and keep the key out of the data directory's backups.", path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    return path.read_bytes().strip()
