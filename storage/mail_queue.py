"""The outbox seen as a delivery queue: new/ is waiting, cur/ is sent, a small record per mail tells how it goes.

The maildir stays standard, so any mail tool can read it. A mail still waiting may have a record in
`delivery/<key>.json` (attempts, next try, last error), written atomically. An exclusive lock keeps
two processes (the bot and `flexbot outbox retry`) from sending the same mail at once.
"""

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_binary_file, policy
from email.message import EmailMessage
from pathlib import Path

from flows.records import Record
from storage.atomic_json import AtomicJSONStorage

NOTIFY_HEADER = "X-Flexbot-Notify-Chat"
SECRET_HEADER = "X-Flexbot-Secret"
SENT_INFO = ":2,S"  # maildir flag "seen": delivered
KEPT_AFTER_SENDING = ("From", "To", "Subject", "Date", "Message-ID")
REDACTED = "(Body removed from the outbox once delivered: it held a password.)"


@dataclass
class Delivery(Record):
    attempts: int = 0
    next_attempt_at: float = 0.0
    last_error: str = ""
    reported: bool = False


@dataclass(frozen=True)
class QueuedMail:
    key: str
    status: str  # "pending", "failed" (still retried, already reported) or "sent"
    to: str
    subject: str
    notify_chat: int | None
    secret: bool
    delivery: Delivery


class MailQueue:
    """Reads and updates the maildir outbox; `failed_after` attempts turn a pending mail into a failed one."""

    def __init__(self, path: str | Path, failed_after: int, fsync: bool = True) -> None:
        self.path = Path(path)
        self.failed_after = failed_after
        self.fsync = fsync

    def waiting(self) -> list[QueuedMail]:
        """Mail not yet delivered, oldest first."""
        return [self._entry(path, sent=False) for path in self._files("new")]

    def entries(self) -> list[QueuedMail]:
        return [*(self._entry(path, sent=True) for path in self._files("cur")), *self.waiting()]

    def outgoing(self, key: str) -> EmailMessage:
        """The message as it goes out: without the headers meant for the bot."""
        message = self._read(self.path / "new" / key)
        del message[NOTIFY_HEADER], message[SECRET_HEADER]
        return message

    def postpone(self, mail: QueuedMail, delivery: Delivery) -> None:
        self._record(mail.key).write({"delivery": delivery.to_dict()})

    def mark_sent(self, mail: QueuedMail) -> None:
        """Into cur/ as seen; a secret mail keeps only its headers there."""
        source = self.path / "new" / mail.key
        target = self.path / "cur" / f"{mail.key}{SENT_INFO}"
        target.parent.mkdir(parents=True, exist_ok=True)
        if mail.secret:
            original, redacted = self._read(source), EmailMessage()
            for header in KEPT_AFTER_SENDING:
                if original[header]:
                    redacted[header] = original[header]
            redacted.set_content(REDACTED)
            temporary = self.path / "tmp" / mail.key
            temporary.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_bytes(redacted.as_bytes())
            os.replace(temporary, target)
            source.unlink()
        else:
            os.replace(source, target)
        self._record(mail.key).path.unlink(missing_ok=True)

    @contextmanager
    def locked(self) -> Iterator[bool]:
        """True while this process may deliver; False when another one is delivering right now."""
        self.path.mkdir(parents=True, exist_ok=True)
        with (self.path / "delivery.lock").open("a") as file:
            try:
                fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(file, fcntl.LOCK_UN)

    def _files(self, folder: str) -> list[Path]:
        directory = self.path / folder
        if not directory.is_dir():
            return []
        files = [path for path in directory.iterdir() if not path.name.startswith(".")]
        return sorted(files, key=lambda path: path.stat().st_mtime_ns)

    def _entry(self, path: Path, *, sent: bool) -> QueuedMail:
        message = self._read(path)
        key = path.name.split(":")[0]
        delivery = Delivery() if sent else self._delivery(key)
        status = "sent" if sent else "failed" if delivery.attempts >= self.failed_after else "pending"
        chat = message[NOTIFY_HEADER]
        return QueuedMail(key, status, str(message["To"] or ""), str(message["Subject"] or ""),
                          int(chat) if chat else None, bool(message[SECRET_HEADER]), delivery)

    def _delivery(self, key: str) -> Delivery:
        document = self._record(key).read()
        return Delivery.from_dict(document["delivery"]) if document else Delivery()

    def _record(self, key: str) -> AtomicJSONStorage:
        return AtomicJSONStorage(self.path / "delivery" / f"{key}.json", fsync=self.fsync)

    @staticmethod
    def _read(path: Path) -> EmailMessage:
        with path.open("rb") as file:
            return message_from_binary_file(file, policy=policy.default)  # type: ignore[return-value]
