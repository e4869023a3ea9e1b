"""The outbox seen as a delivery queue: new/ is waiting, cur/ is sent, a small record per mail tells how it goes.

The maildir stays standard, so any mail tool can read it. A mail still waiting may have a record in
`delivery/<key>.json` (attempts, next try, last error, failed for good), written atomically. A mail
that cannot be read, decrypted or sent, or whose record is unreadable, is set aside to
`quarantine/<key>`, with `quarantine/notes/<key>.json` saying why (and the unreadable record kept
beside it): one bad file never holds back the others. An exclusive lock keeps two processes (the bot
and `flexbot outbox retry`) from sending the same mail at once. Everything is owner-only.
"""

import fcntl
import json
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_binary_file, policy
from email.message import EmailMessage
from pathlib import Path

from flows.records import Record
from storage.atomic_json import AtomicJSONStorage, write_atomically
from storage.mail_cipher import MailCipher, UnreadableMail, headers_only
from storage.private_files import PRIVATE_FILE, private_dir, private_file

log = logging.getLogger(__name__)
NOTIFY_HEADER = "X-Flexbot-Notify-Chat"
SECRET_HEADER = "X-Flexbot-Secret"
SEALED = "fernet"  # SECRET_HEADER of a mail whose body is encrypted; older outboxes hold "yes" and a clear body
SENT_INFO = ":2,S"  # maildir flag "seen": delivered
REDACTED = "(Body removed from the outbox once delivered: it held a password.)"


@dataclass
class Delivery(Record):
    attempts: int = 0
    next_attempt_at: float = 0.0
    last_error: str = ""
    reported: bool = False
    permanent: bool = False  # the server refused it for good (5xx): no more automatic attempts

    def __post_init__(self) -> None:
        """A record with the wrong types is as unreadable as a torn one."""
        self.attempts, self.next_attempt_at = int(self.attempts), float(self.next_attempt_at)
        if not isinstance(self.last_error, str) or not isinstance(self.reported, bool) \
                or not isinstance(self.permanent, bool):
            raise TypeError("delivery record field of the wrong type")


@dataclass(frozen=True)
class QueuedMail:
    key: str
    status: str  # "pending", "failed" (retried), "failed (permanent)", "sent", "damaged", "quarantined"
    to: str
    subject: str
    notify_chat: int | None
    secret: bool
    delivery: Delivery
    queued_at: float = 0.0  # when it was written to the outbox (its file's time); 0 when not known


@dataclass(frozen=True)
class Damaged:
    """A mail in new/ that cannot go out as it is: why, in words that never quote its content."""

    key: str
    reason: str


class MailQueue:
    """Reads and updates the maildir outbox; `failed_after` attempts turn a pending mail into a failed one."""

    def __init__(self, path: str | Path, failed_after: int, cipher: MailCipher, fsync: bool = True) -> None:
        self.path = Path(path)
        self.failed_after = failed_after
        self.cipher = cipher
        self.fsync = fsync

    def scan(self) -> list[QueuedMail | Damaged]:
        """Every mail in new/, oldest first, each either ready to try or damaged."""
        found: list[QueuedMail | Damaged] = []
        for path in self._files("new"):
            try:
                found.append(self._waiting(path))
            except FileNotFoundError:
                continue  # delivered or set aside by another process meanwhile
            except OSError as error:  # the disk, not the mail: it waits for the next pass, where it is
                log.error("mail %s cannot be read from disk (%s): left waiting", path.name, type(error).__name__)
                continue
            except Exception as error:  # anything in one file must not hide the others
                reason = str(error) if isinstance(error, UnreadableMail) else f"unreadable ({type(error).__name__})"
                found.append(Damaged(path.name, reason))
        return found

    def entries(self) -> list[QueuedMail]:
        """Sent, waiting, damaged and quarantined mail, for the operator; reads only."""
        waiting = [item if isinstance(item, QueuedMail) else self._listed(self.path / "new" / item.key, "damaged",
                                                                           item.reason)
                   for item in self.scan()]
        sent = [self._listed(path, "sent") for path in self._files("cur")]
        quarantined = [self._listed(path, "quarantined", self._note(path.name)) for path in self._files("quarantine")]
        return [*sent, *waiting, *quarantined]

    def outgoing(self, key: str) -> EmailMessage:
        """The message as it goes out: decrypted, without the headers meant for the bot."""
        return opened(self.cipher, self._read(self.path / "new" / key))

    def message(self, key: str) -> EmailMessage:
        """One mail as an operator may read it, wherever it is (a secret one decrypted); KeyError if none."""
        if not key or "/" in key or key.startswith("."):
            raise KeyError(key)
        for path in (self.path / "new" / key, self.path / "quarantine" / key):
            if path.is_file():
                return opened(self.cipher, self._read(path))
        sent = next((path for path in self._files("cur") if path.name.split(":")[0] == key), None)
        if sent is None:
            raise KeyError(key)
        return self._read(sent)

    def postpone(self, mail: QueuedMail, delivery: Delivery) -> None:
        private_dir(self.path / "delivery")
        record = self._record(mail.key)
        record.write({"delivery": delivery.to_dict()})
        private_file(record.path)

    def mark_sent(self, mail: QueuedMail) -> None:
        """Into cur/ as seen; a secret mail keeps only its headers there."""
        source = self.path / "new" / mail.key
        target = private_dir(self.path / "cur") / f"{mail.key}{SENT_INFO}"
        if mail.secret:
            redacted = headers_only(self._read(source), REDACTED)
            temporary = private_dir(self.path / "tmp") / mail.key
            temporary.write_bytes(redacted.as_bytes())
            os.replace(private_file(temporary), target)
            source.unlink()
        else:
            os.replace(source, target)
            private_file(target)  # a mail queued before files were made private
        self._record(mail.key).path.unlink(missing_ok=True)

    def quarantine(self, key: str, reason: str) -> Path:
        """Sets a mail (and its record) aside, never deleted: the operator decides what becomes of it."""
        folder = private_dir(self.path / "quarantine")
        notes = private_dir(folder / "notes")
        note = json.dumps({"reason": reason, "at": time.time()}).encode()
        write_atomically(notes / f"{key}.json", note, self.fsync)
        private_file(notes / f"{key}.json")
        for source, target in ((self.path / "new" / key, folder / key),
                               (self._record(key).path, notes / f"{key}.delivery.json")):
            try:
                os.replace(source, target)
                private_file(target)  # it may come from another tool, with its own mode
            except FileNotFoundError:
                pass
        return folder / key

    @contextmanager
    def locked(self) -> Iterator[bool]:
        """True while this process may deliver; False when another one is delivering right now."""
        private_dir(self.path)
        descriptor = os.open(self.path / "delivery.lock", os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
        os.fchmod(descriptor, PRIVATE_FILE)  # a lock file made before files were private
        with os.fdopen(descriptor, "r+") as file:
            try:
                fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(file, fcntl.LOCK_UN)

    @contextmanager
    def claimed(self, mail: QueuedMail) -> Iterator[QueuedMail | None]:
        """The mail to try: `locked()` already keeps every other process out of the outbox."""
        yield mail

    def _files(self, folder: str) -> list[Path]:
        directory = self.path / folder
        if not directory.is_dir():
            return []
        dated = []
        for path in directory.iterdir():
            try:
                if not path.name.startswith(".") and path.is_file():
                    dated.append((path.stat().st_mtime_ns, path))
            except FileNotFoundError:
                continue  # moved by another process between listing and looking
        return [path for _, path in sorted(dated)]

    def _waiting(self, path: Path) -> QueuedMail:
        message = self._read(path)
        if not message["To"]:
            raise UnreadableMail("not an e-mail (no To header)")
        delivery = self._delivery(path.name)
        status = ("failed (permanent)" if delivery.permanent
                  else "failed" if delivery.attempts >= self.failed_after else "pending")
        return _queued(path.name, status, message, delivery, path.stat().st_mtime)

    def _listed(self, path: Path, status: str, reason: str = "") -> QueuedMail:
        """A mail for the listing, whatever state its file is in."""
        try:
            message = self._read(path)
            return _queued(path.name.split(":")[0], status, message, Delivery(last_error=reason))
        except Exception:  # a listing shows what it can of a damaged file
            return QueuedMail(path.name, status, "", "", None, False, Delivery(last_error=reason))

    def _note(self, key: str) -> str:
        try:
            return str(json.loads((self.path / "quarantine" / "notes" / f"{key}.json").read_bytes())["reason"])
        except Exception:  # a missing or damaged note must not hide the mail
            return "(no note)"

    def _delivery(self, key: str) -> Delivery:
        try:
            document = self._record(key).read()
            return Delivery.from_dict(document["delivery"]) if document is not None else Delivery()
        except (ValueError, TypeError, LookupError, AttributeError) as error:  # torn, garbage, another shape
            raise UnreadableMail(f"unreadable delivery record ({type(error).__name__})") from None

    def _record(self, key: str) -> AtomicJSONStorage:
        return AtomicJSONStorage(self.path / "delivery" / f"{key}.json", fsync=self.fsync)

    @staticmethod
    def _read(path: Path) -> EmailMessage:
        with path.open("rb") as file:
            return message_from_binary_file(file, policy=policy.default)  # type: ignore[return-value]


def opened(cipher: MailCipher, message: EmailMessage) -> EmailMessage:
    """The message as it goes out: decrypted, without the headers meant for the bot."""
    if message[SECRET_HEADER] == SEALED:
        return cipher.open(message)
    del message[NOTIFY_HEADER], message[SECRET_HEADER]
    return message


def _queued(key: str, status: str, message: EmailMessage, delivery: Delivery, queued_at: float = 0.0) -> QueuedMail:
    return QueuedMail(key, status, str(message["To"] or ""), str(message["Subject"] or ""),
                      _chat(message[NOTIFY_HEADER]), bool(message[SECRET_HEADER]), delivery, queued_at)


def _chat(header: object) -> int | None:
    """The chat to tell when delivery stalls; anything but a chat id means no chat to tell."""
    try:
        return int(str(header)) if header is not None else None
    except ValueError:
        return None
