"""One event, one commit: all of an event's changes or none, after an exception, a kill or a full disk;
unreadable records set aside; no live code in a file name; owner-only files."""

import errno
import json
import os
import shutil
import stat
from functools import partial
from pathlib import Path

import pytest

from flows.ports import Mail, RecordUnavailable
from flows.records import AuditEntry, Code, Conversation
from storage.maildir_outbox import MaildirOutbox
from storage.mail_cipher import MailCipher, key_from_file
from storage.memory_store import MemoryStore
from storage.postgres_store import PostgresStore
from storage import tinydb_store
from storage.tinydb_store import TinyDBStore
from tests.test_store_contract import STORES, subscription

MAIL = Mail("marie@entreprise.fr", "Invitation", "Bonjour")


@pytest.fixture(params=sorted(STORES))
def store(request: pytest.FixtureRequest, tmp_path: Path):
    return STORES[request.param](request, tmp_path)


def tinydb(root: Path) -> TinyDBStore:
    outbox = MaildirOutbox(root / "outbox", "bot@flex.example", MailCipher(partial(key_from_file, root / "secret.key")))
    return TinyDBStore(root / "db", fsync=False, outbox=outbox)


def write_event(store) -> None:
    with store.event():
        store.save_subscription(subscription())
        store.save_code(Code("LiveCode_123", "invitation", "FLX00000001", 99.0))
        store.save_conversation(Conversation(7, "managing_users", subscription_number="FLX00000001"))
        store.append_audit(AuditEntry(1.0, "FLX00000001", "chat:7", "users_activated"))
        store.queue_mail(MAIL)


class TestEveryStore:
    @pytest.mark.parametrize(("kind", "key", "read"), [
        ("throttles", "mails-7", lambda store: store.load_throttle("mails-7").times),
        ("reminder-slots", "498976", lambda store: store.reminder_slot(498976)),
        ("reminder-slots", "cursor", lambda store: store.reminder_cursor()),
    ])
    def test_a_counter_or_index_of_the_wrong_shape_reads_as_empty_and_is_set_aside(self, store, kind, key,
                                                                                    read) -> None:
        store._save(kind, key, {"state": 5})
        assert read(store) in ([], None)
        store._save(kind, key, {"keys": ["r1"], "slot": 3, "key": "mails-7", "times": [1.0]})
        assert read(store) in (["r1"], 3, [1.0])  # the next write is read back as usual
    def test_an_event_that_raises_leaves_nothing(self, store) -> None:
        with pytest.raises(RuntimeError), store.event():
            store.save_subscription(subscription())
            store.append_audit(AuditEntry(1.0, "FLX00000001", "chat:7", "admin_saved"))
            raise RuntimeError("half-way")
        assert store.load_subscription("FLX00000001") is None
        assert store.audit_trail("FLX00000001") == []

    def test_an_event_sees_its_own_writes_before_it_commits(self, store) -> None:
        with store.event():
            store.save_conversation(Conversation(7, "welcoming"))
            assert store.load_conversation(7).state == "welcoming"  # type: ignore[union-attr]
        assert store.load_conversation(7).state == "welcoming"  # type: ignore[union-attr]

    def test_an_unreadable_conversation_is_set_aside_and_the_next_load_starts_afresh(self, store, tmp_path) -> None:
        store.save_conversation(Conversation(7, "welcoming"))
        store.save_conversation(Conversation(8, "welcoming"))
        if isinstance(store, MemoryStore):
            store._documents["conversations", "7"] = "{torn"
        elif isinstance(store, PostgresStore):
            with store.pool.connection() as connection:
                connection.execute("UPDATE documents SET body = '{torn' WHERE kind = 'conversations' AND key = '7'")
        else:
            path = next((tmp_path / "db" / "conversations").glob("*/7.json"))
            path.write_bytes(path.read_bytes()[:10])
        with pytest.raises(RecordUnavailable):
            store.peek_conversation(7)  # a look from outside an event leaves it for the chat's event
        with pytest.raises(RecordUnavailable):
            store.load_conversation(7)
        assert store.load_conversation(7) is None
        assert store.load_conversation(8) is not None
        if isinstance(store, PostgresStore):  # set aside where the operator finds it, as it was
            with store.pool.connection() as connection:
                assert connection.execute("SELECT kind, key, body FROM quarantine").fetchall() == [
                    ("conversations", "7", "{torn")]


def test_the_memory_store_keeps_committed_mail_only() -> None:
    store = MemoryStore()
    with pytest.raises(RuntimeError), store.event():
        store.queue_mail(MAIL)
        raise RuntimeError
    write_event(store)
    assert store.mails == [MAIL]


def test_a_logged_event_is_finished_at_start_after_a_kill_between_its_files(tmp_path: Path, monkeypatch) -> None:
    """The log line is written, then the process dies after the first file: the next owner applies the rest."""
    store = tinydb(tmp_path)
    written = []
    real = store._apply

    def die_after_logging(changes, stamp, replaying=False):
        written.append(stamp)
        raise SystemExit("killed")  # the files are never written

    monkeypatch.setattr(store, "_apply", die_after_logging)
    with pytest.raises(SystemExit):
        write_event(store)
    assert written and TinyDBStore(tmp_path / "db").load_subscription("FLX00000001") is None
    monkeypatch.setattr(store, "_apply", real)
    recovered = TinyDBStore(tmp_path / "db", fsync=False, outbox=store.outbox, recover=True)
    assert recovered.load_subscription("FLX00000001") == subscription()
    assert recovered.load_code("LiveCode_123") is not None
    assert [e.action for e in recovered.audit_trail("FLX00000001")] == ["users_activated"]
    assert len(list((tmp_path / "outbox" / "new").iterdir())) == 1
    assert not list((tmp_path / "db" / "wal").glob("*.log"))


def test_replaying_twice_changes_nothing_and_never_puts_an_older_version_back(tmp_path: Path) -> None:
    store = tinydb(tmp_path)
    write_event(store)
    store.save_conversation(Conversation(7, "choosing_services"))
    segments = list((tmp_path / "db" / "wal").glob("*.log"))
    saved = {path: path.read_bytes() for path in segments}
    TinyDBStore(tmp_path / "db", fsync=False, outbox=store.outbox, recover=True)
    for path, content in saved.items():  # as if the first replay had been killed before deleting the log
        path.write_bytes(content)
    again = TinyDBStore(tmp_path / "db", fsync=False, outbox=store.outbox, recover=True)
    assert again.load_conversation(7).state == "choosing_services"  # type: ignore[union-attr]
    assert len(again.audit_trail("FLX00000001")) == 1
    assert len(list((tmp_path / "outbox" / "new").iterdir())) == 1


def test_a_torn_log_line_is_ignored(tmp_path: Path) -> None:
    store = tinydb(tmp_path)
    store.save_conversation(Conversation(7, "welcoming"))
    (segment,) = (tmp_path / "db" / "wal").glob("*.log")
    with segment.open("ab") as file:
        file.write(b'{"stamp": 1, "documents": [["conversations", "7", {"chat')
    recovered = TinyDBStore(tmp_path / "db", fsync=False, recover=True)
    assert recovered.load_conversation(7).state == "welcoming"  # type: ignore[union-attr]


def test_a_full_disk_refuses_the_event_whole_and_the_next_one_works(tmp_path: Path, monkeypatch) -> None:
    store = tinydb(tmp_path)
    store.save_conversation(Conversation(8, "welcoming"))

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(os, "write", no_space)
        with pytest.raises(OSError):
            write_event(store)
    assert store.load_subscription("FLX00000001") is None
    store.save_conversation(Conversation(9, "welcoming"))
    recovered = TinyDBStore(tmp_path / "db", fsync=False, recover=True)
    assert recovered.load_conversation(9) is not None and recovered.load_subscription("FLX00000001") is None


def test_no_file_name_gives_a_live_code_away(tmp_path: Path) -> None:
    store = tinydb(tmp_path)
    write_event(store)
    store.close()
    assert store.load_code("LiveCode_123") is not None
    names = [path.name for path in tmp_path.rglob("*")]
    assert not [name for name in names if "LiveCode_123" in name]


def test_every_file_of_the_store_is_the_owners_only(tmp_path: Path) -> None:
    os.umask(0o022)
    try:
        store = tinydb(tmp_path)
        write_event(store)
    finally:
        os.umask(0o022)
    for path in (tmp_path / "db").rglob("*"):
        assert not stat.S_IMODE(path.stat().st_mode) & 0o077, path


def test_the_audit_trail_is_appended_not_rewritten(tmp_path: Path) -> None:
    store = tinydb(tmp_path)
    for at in range(50):
        store.append_audit(AuditEntry(float(at), "FLX00000001", "chat:7", "state_viewed"))
    (day,) = (tmp_path / "db" / "audit").rglob("*.jsonl")
    lines = day.read_bytes().splitlines()
    assert len(lines) == 50 and json.loads(lines[0])["entry"]["at"] == 0.0
    assert len(store.audit_trail("FLX00000001")) == 50


def test_an_unreadable_conversation_gets_a_clear_message_and_no_other_chat_notices() -> None:
    from flows.boundary import Event
    from tests.flow_harness import Desk

    desk = Desk.build()
    damaged, other = desk.chat(7), desk.chat(8)
    damaged.deliver(Event.command("/start", update_id=1))
    other.deliver(Event.command("/start", update_id=1))
    desk.toolkit.store._documents["conversations", "7"] = "{torn"  # type: ignore[attr-defined]
    outcome = damaged.deliver(Event.command("/etat", update_id=2))
    assert "mise de côté" in outcome.replies[0].text
    assert ("conversations", "7") in desk.toolkit.store.set_aside  # type: ignore[attr-defined]
    assert other.deliver(Event.command("/etat", update_id=2)).replies
    assert damaged.deliver(Event.command("/start", update_id=3)).replies[0].text != outcome.replies[0].text


def test_a_password_sent_while_the_account_is_unreadable_is_still_deleted() -> None:
    from flows.boundary import Event
    from tests.flow_harness import ADMIN_PASSWORD, Desk

    desk = Desk.build()
    chat, opened = desk.opened_chat()
    chat.press("CRÉER mon compte Administrateur")
    for answer in ("Dupont", "Jean"):
        chat.type(answer)
    desk.toolkit.store._documents["subscriptions", opened.subscription.number] = ""  # type: ignore[attr-defined]
    outcome = chat.deliver(Event.typed(ADMIN_PASSWORD, update_id=50))  # typed ahead, at the e-mail question
    assert "abonnement" in outcome.replies[0].text and outcome.delete_incoming
    assert not chat.deliver(Event.typed("jean.dupont@entreprise.fr", update_id=51)).delete_incoming


def test_a_text_sent_to_an_unreadable_conversation_is_deleted_for_it_may_be_the_password() -> None:
    from flows.boundary import Event
    from tests.flow_harness import ADMIN_PASSWORD, Desk

    desk = Desk.build()
    chat, _ = desk.opened_chat()
    desk.toolkit.store._documents["conversations", "7"] = "{torn"  # type: ignore[attr-defined]
    assert chat.deliver(Event.typed(ADMIN_PASSWORD, update_id=50)).delete_incoming


def test_a_help_queue_set_aside_numbers_on_where_it_stood() -> None:
    from flows.boundary import Event
    from tests.flow_harness import Desk

    desk = Desk.build()
    for chat_id in (7, 8):
        desk.chat(chat_id).deliver(Event.command("/start", update_id=1))
        desk.chat(chat_id).deliver(Event.command("/aide", update_id=2))
    numbers = {t.number for t in desk.toolkit.store.load_queue().tickets}
    desk.toolkit.store._documents["helpdesk", "queue"] = "{torn"  # type: ignore[attr-defined]
    desk.chat(9).deliver(Event.command("/start", update_id=1))
    desk.chat(9).deliver(Event.command("/aide", update_id=2))
    (fresh,) = desk.toolkit.store.load_queue().tickets
    assert fresh.number > max(numbers) and ("helpdesk", "queue") in desk.toolkit.store.set_aside  # type: ignore[attr-defined]


@pytest.mark.parametrize("stop", ["close", "checkpoint"])
def test_an_event_whose_files_could_not_be_written_outlives_a_clean_stop(tmp_path: Path, monkeypatch, stop: str) -> None:
    """A nearly full disk: the log line still fits, the record's new file does not. The event was
    acknowledged; a stop (or a checkpoint) must not delete the only place it is written."""
    store = tinydb(tmp_path)
    real_write = tinydb_store.write_atomically

    def no_space_for_conversations(path: Path, *args, **kwargs):
        if "conversations" in path.parts:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(path, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(tinydb_store, "write_atomically", no_space_for_conversations)
        store.save_conversation(Conversation(8, "asking_admin_first_name"))
        assert store.load_conversation(8).state == "asking_admin_first_name"  # type: ignore[union-attr]
        getattr(store, stop)()
    killed_now = shutil.copytree(tmp_path / "db", tmp_path / "killed")  # as if killed at this instant
    assert TinyDBStore(killed_now, fsync=False, recover=True).load_conversation(8) is not None
    if stop == "checkpoint":  # space came back: the next event writes the file, and the log can go
        store.save_conversation(Conversation(9, "welcoming"))
        store.close()
        assert not list((tmp_path / "db" / "wal").glob("*.log"))
    recovered = TinyDBStore(tmp_path / "db", fsync=False, recover=True)
    assert recovered.load_conversation(8).state == "asking_admin_first_name"  # type: ignore[union-attr]


@pytest.mark.parametrize("read", [
    lambda store: store.load_conversation(7),
    lambda store: store.load_throttle("mails-7"),
])
def test_a_disk_that_cannot_be_read_is_an_outage_and_sets_no_healthy_record_aside(tmp_path: Path, monkeypatch,
                                                                                   read) -> None:
    """An I/O error says nothing of the record's bytes: the event fails, the file stays where it is."""
    from flows.ports import StoreUnavailable
    from storage.atomic_json import AtomicJSONStorage

    store = tinydb(tmp_path)
    store.save_conversation(Conversation(7, "welcoming"))
    store._save("throttles", "mails-7", {"key": "mails-7", "times": [1.0]})

    def input_output_error(self) -> None:
        raise OSError(errno.EIO, "Input/output error")

    with monkeypatch.context() as patch:
        patch.setattr(AtomicJSONStorage, "read", input_output_error)
        with pytest.raises(StoreUnavailable):
            read(store)
    assert not (tmp_path / "db" / "quarantine").exists()
    assert store.load_conversation(7).state == "welcoming"  # type: ignore[union-attr]
    assert store.load_throttle("mails-7").times == [1.0]


@pytest.mark.parametrize("damage", [
    {"state": "nonexistent_state"},  # a rollback after a release that added a state
    {"history": ["welcoming", "nonexistent_state"]},
])
def test_a_conversation_in_a_state_this_release_does_not_know_is_set_aside_and_the_chat_starts_again(damage) -> None:
    from flows.boundary import Event
    from tests.flow_harness import Desk

    desk = Desk.build()
    chat, opened = desk.opened_chat()
    chat.press("CRÉER mon compte Administrateur")
    store = desk.toolkit.store
    document = json.loads(store._documents["conversations", "7"])  # type: ignore[attr-defined]
    store._documents["conversations", "7"] = json.dumps({**document, **damage})  # type: ignore[attr-defined]
    outcome = chat.deliver(Event.typed("Dupont", update_id=50))
    assert "mise de côté" in outcome.replies[0].text and outcome.delete_incoming
    assert ("conversations", "7") in store.set_aside  # type: ignore[attr-defined]
    again = chat.deliver(Event.command(f"/start {opened.code}", update_id=51)).replies[0].text
    assert "erreur" not in again.lower() and "mise de côté" not in again


@pytest.mark.parametrize("clock", [
    [2_000_000_000_000_000_000, 1_000_000_000_000_000_000],  # stepped back between two events (NTP)
    [1_000_000_000_000_000_000, 1_000_000_000_000_000_000],  # too coarse to tell them apart
], ids=["stepped-back", "coarse"])
def test_a_replay_after_a_kill_keeps_the_last_event_whatever_the_wall_clock_did(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: list[int]) -> None:
    """Stamps only grow within a run, and after the log it replays: the later event's record (here a
    subscription's report facts, whose trail is replayed by entry) is the one that stays."""
    times = iter(clock)
    monkeypatch.setattr(tinydb_store.time, "time_ns", lambda: next(times, clock[-1]))
    store = TinyDBStore(tmp_path / "db", fsync=False)
    with store.event():
        store.save_subscription(subscription("FLX00000001"))
        store.append_audit(AuditEntry(1.0, "FLX00000001", "reminders", "reminder_sent", {"round": 1, "chat": 7}))
    facts = store._path("report-facts", "FLX00000001")
    first = facts.read_bytes()
    store.append_audit(AuditEntry(2.0, "FLX00000001", "reminders", "reminder_sent", {"round": 2, "chat": 7}))
    newest = facts.read_bytes()
    facts.write_bytes(first)  # killed after the second event's log line, before its file
    again = TinyDBStore(tmp_path / "db", fsync=False, recover=True)
    assert facts.read_bytes() == newest
    assert [r.round for r in next(again.report_facts()).facts.reminders] == [1, 2]  # type: ignore[union-attr]
