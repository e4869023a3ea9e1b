"""One contract, every store: what the conversation may rely on, checked against each implementation."""

from collections.abc import Callable
from pathlib import Path

import pytest

from flows.offer import Product
from flows.ports import Store
from flows.report import ReportFacts
from flows.records import (AdminAccount, AuditEntry, Code, Conversation, Feedback, Subscription, Throttle,
                           UserAccount, UserStatus)
from storage import postgres_store
from storage.documents import FACTS
from storage.memory_store import MemoryStore
from storage.tinydb_store import TinyDBStore

UNSAFE_KEYS = ("../x", "a/b", "", "../../../escaped", "..")


def subscription(number: str = "FLX00000001", seats: int = 3) -> Subscription:
    """A subscription with an administrator who is also a user, and one invited user."""
    admin = AdminAccount("Dupont", "Jean", "jean@entreprise.fr", "hashed:xyz", True)
    users = [UserAccount("admin", "Dupont", "Jean", "jean@entreprise.fr", UserStatus.ACTIVE, is_admin=True),
             UserAccount("u1", "Curie", "Marie", "marie@entreprise.fr", UserStatus.INVITED)]
    return Subscription(number, "achat@entreprise.fr", Product.PAYE, seats, 1.5,
                        services={"sepa": True, "ducs_dads": False}, admin=admin, users=users)


STORES: dict[str, Callable[[pytest.FixtureRequest, Path], Store]] = {
    "memory": lambda request, root: MemoryStore(),
    "tinydb": lambda request, root: TinyDBStore(root / "db", fsync=False),
    "postgres": lambda request, root: request.getfixturevalue("postgres_store"),  # a fresh database
}


@pytest.fixture(params=sorted(STORES))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return STORES[request.param](request, tmp_path)


def damage(store: Store, number: str, kind: str = "subscriptions") -> None:
    """What a torn write or a hand edit leaves: a record that is no JSON."""
    if isinstance(store, MemoryStore):
        store._documents[kind, number] = "{not json"
    elif isinstance(store, TinyDBStore):
        store._path(kind, number).write_text("{not json")
    else:
        with store.pool.connection() as connection:  # type: ignore[attr-defined]
            connection.execute("UPDATE documents SET body = '{not json' WHERE kind = %s AND key = %s", (kind, number))


def forget(store: Store, number: str, kind: str) -> None:
    if isinstance(store, MemoryStore):
        del store._documents[kind, number]
    elif isinstance(store, TinyDBStore):
        store._path(kind, number).unlink()
    else:
        with store.pool.connection() as connection:  # type: ignore[attr-defined]
            connection.execute("DELETE FROM documents WHERE kind = %s AND key = %s", (kind, number))


class TestStoreContract:
    def test_a_conversation_comes_back_as_saved(self, store: Store) -> None:
        conversation = Conversation(-1001, "asking_admin_email", "en", "FLX00000001",
                                    answers={"admin": {"last_name": "Dupont"}}, history=["welcoming"], question_id=4,
                                    last_update_id=17, failures=2, locked_until=9.5, setup_done=True)
        store.save_conversation(conversation)
        assert store.load_conversation(-1001) == conversation

    def test_a_subscription_comes_back_with_its_administrator_and_users(self, store: Store) -> None:
        store.save_subscription(subscription())
        loaded = store.load_subscription("FLX00000001")
        assert loaded == subscription()
        assert loaded is not None and loaded.users[1].status is UserStatus.INVITED and loaded.product is Product.PAYE

    def test_a_code_comes_back_as_saved(self, store: Store) -> None:
        code = Code("Abc_12-x", "activation", "FLX00000001", 99.0, chat_id=7, used_at=5.0, used_by_chat=7)
        store.save_code(code)
        assert store.load_code("Abc_12-x") == code

    def test_audit_entries_come_back_in_order_per_subscription(self, store: Store) -> None:
        entries = [AuditEntry(1.0, "FLX00000001", "operator", "subscription_opened", {"seats": 3}),
                   AuditEntry(2.0, "FLX00000001", "chat:7", "admin_saved", {"is_user": True})]
        for entry in [*entries, AuditEntry(3.0, "FLX00000002", "chat:8", "chat_bound")]:
            store.append_audit(entry)
        store.append_audit(AuditEntry(4.0, "", "chat:-9", "entry_refused", {"failures": 1}))
        assert store.audit_trail("FLX00000001") == entries
        assert [e.action for e in store.audit_trail("FLX00000002")] == ["chat_bound"]

    def test_a_throttle_comes_back_as_saved_and_an_unknown_one_is_empty(self, store: Store) -> None:
        store.save_throttle(Throttle("mail-to-0a1b", [1.5, 2.5]))
        assert store.load_throttle("mail-to-0a1b") == Throttle("mail-to-0a1b", [1.5, 2.5])
        assert store.load_throttle("help--1001") == Throttle("help--1001")

    def test_a_feedback_comes_back_as_saved(self, store: Store) -> None:
        feedback = Feedback("help-3", "help", -1001, "FLX00000001", 2, 5.0, 3, [901, 902], 4, 6.0, "Merci")
        store.save_feedback(feedback)
        assert store.load_feedback("help-3") == feedback
        assert store.load_feedback("help-4") is None and store.load_feedback("../x") is None

    def test_missing_keys_give_nothing(self, store: Store) -> None:
        assert store.load_conversation(42) is None
        assert store.load_subscription("FLX99999999") is None
        assert store.load_code("nope") is None
        assert store.audit_trail("FLX99999999") == []

    @pytest.mark.parametrize("key", UNSAFE_KEYS)
    def test_unsafe_keys_are_refused(self, store: Store, tmp_path: Path, key: str) -> None:
        """Keys may become file names: nothing is read or written for one that could leave the store."""
        with pytest.raises(ValueError):
            store.save_subscription(subscription(number=key))
        with pytest.raises(ValueError):
            store.save_code(Code(key, "activation", "FLX00000001", 99.0))
        assert store.load_subscription(key) is None and store.load_code(key) is None
        assert store.audit_trail(key) == [] and list(store.subscription_numbers()) == []
        assert not [path for path in tmp_path.rglob("*") if path.is_file()]

    @pytest.mark.parametrize("key", [key for key in UNSAFE_KEYS if key])
    def test_an_audit_entry_with_an_unsafe_number_is_refused(self, store: Store, tmp_path: Path, key: str) -> None:
        with pytest.raises(ValueError):
            store.append_audit(AuditEntry(1.0, key, "operator", "subscription_opened"))
        assert store.audit_trail(key) == []
        assert not [path for path in tmp_path.rglob("*") if path.is_file()]

    def test_saving_twice_keeps_the_last(self, store: Store) -> None:
        first = subscription()
        store.save_subscription(first)
        second = subscription(seats=5)
        second.users = second.users[:1]
        store.save_subscription(second)
        assert store.load_subscription("FLX00000001") == second
        conversation = Conversation(7, "welcoming")
        store.save_conversation(conversation)
        conversation.state = "in_menu"
        store.save_conversation(conversation)
        assert store.load_conversation(7).state == "in_menu"  # type: ignore[union-attr]

    def test_subscription_numbers_lists_what_was_saved(self, store: Store) -> None:
        for number in ("FLX00000003", "FLX00000001", "FLX00000002"):
            store.save_subscription(subscription(number))
        store.save_subscription(subscription("FLX00000001"))
        assert sorted(store.subscription_numbers()) == ["FLX00000001", "FLX00000002", "FLX00000003"]

    def test_a_loaded_record_is_a_copy(self, store: Store) -> None:
        """Changing what was loaded changes nothing stored until it is saved."""
        store.save_subscription(subscription())
        loaded = store.load_subscription("FLX00000001")
        assert loaded is not None
        loaded.users.clear()
        assert len(store.load_subscription("FLX00000001").users) == 2  # type: ignore[union-attr]

    def test_an_update_is_claimed_once_and_only_when_its_event_commits(self, store: Store) -> None:
        with pytest.raises(RuntimeError), store.event():
            assert store.claim_update(7, 100)
            raise RuntimeError("the event failed: the update is still to handle")
        with store.event():
            assert store.claim_update(7, 100)
            assert not store.claim_update(7, 100)
        with store.event():
            assert not store.claim_update(7, 100)
            assert store.claim_update(8, 100)  # ids are the bot's; a chat's claim is its own all the same

    def test_report_facts_follow_the_record_and_the_trail_in_the_event_that_writes_them(
            self, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(postgres_store, "FACTS_BATCH", 2)  # several batches on PostgreSQL
        for number in ("FLX00000002", "FLX00000001", "FLX00000003"):
            store.save_subscription(subscription(number))
            store.append_audit(AuditEntry(1.0, number, "operator", "subscription_opened", {"seats": 3}))
        opened = subscription("FLX00000001")
        opened.steps_reached_at = {"1": 5.0}
        with store.event():  # one event: the record and two entries
            store.save_subscription(opened)
            store.append_audit(AuditEntry(6.0, "FLX00000001", "chat:7", "help_requested",
                                          {"state": "asking_admin_email", "ticket": 4}))
            store.append_audit(AuditEntry(7.0, "FLX00000001", "agent:9", "agent_joined", {"ticket": 4}))
        with pytest.raises(RuntimeError), store.event():  # an event that fails leaves the facts as they were
            store.append_audit(AuditEntry(8.0, "FLX00000001", "agent:9", "help_resolved", {"ticket": 4}))
            raise RuntimeError("the event failed")
        store.append_audit(AuditEntry(9.0, "", "chat:-9", "help_requested", {"ticket": 5}))  # bound to nothing
        store.append_audit(AuditEntry(9.0, "FLX00000009", "chat:8", "chat_bound"))  # no such subscription
        rows = {row.number: row for row in store.report_facts()}
        assert sorted(rows) == ["FLX00000001", "FLX00000002", "FLX00000003"]
        facts = rows["FLX00000001"].facts
        assert facts is not None and facts.steps_reached_at == {"1": 5.0} and facts.admin_saved
        assert [(t.ticket, t.place, t.requested_at, t.joined_at, t.resolved_at) for t in facts.tickets] == \
            [(4, "1", 6.0, 7.0, None)]
        for number, row in rows.items():  # kept along the way = rebuilt from the whole record and trail
            assert row.facts == ReportFacts.of(store.load_subscription(number), store.audit_trail(number))
            assert row.unreadable_entries == 0

    def test_report_facts_missing_or_unreadable_are_rebuilt_for_the_report_and_by_the_next_event(
            self, store: Store) -> None:
        for number in ("FLX00000001", "FLX00000002", "FLX00000003"):
            store.save_subscription(subscription(number))
            store.append_audit(AuditEntry(2.0, number, "reminders", "reminder_sent", {"round": 1, "chat": 7}))
            store.append_audit(AuditEntry(3.0, number, "chat:7", "reminder_followed", {"sent_at": 2.0, "round": 1}))
        expected = {number: ReportFacts.of(store.load_subscription(number), store.audit_trail(number))
                    for number in ("FLX00000001", "FLX00000002")}
        assert expected["FLX00000001"].reminders[0].followed_at == 3.0
        damage(store, "FLX00000001", FACTS)
        forget(store, "FLX00000002", FACTS)  # as an earlier release left it: no facts at all
        damage(store, "FLX00000003", "subscriptions")  # its facts are whole: the report does not need the record
        rows = {row.number: row.facts for row in store.report_facts()}
        assert rows == {**expected, "FLX00000003": rows["FLX00000003"]} and rows["FLX00000003"] is not None
        forget(store, "FLX00000003", FACTS)  # now neither facts nor record can be read
        assert {row.number: row.facts for row in store.report_facts()}["FLX00000003"] is None
        # The report changed nothing; the next event on the subscription sets the damaged facts aside
        # and keeps whole ones again, this event included.
        store.append_audit(AuditEntry(4.0, "FLX00000001", "reminders", "reminder_sent", {"round": 2, "chat": 7}))
        rows = {row.number: row.facts for row in store.report_facts()}
        assert [r.round for r in rows["FLX00000001"].reminders] == [1, 2]  # type: ignore[union-attr]
        assert rows["FLX00000001"] == ReportFacts.of(store.load_subscription("FLX00000001"),
                                                     store.audit_trail("FLX00000001"))

    @pytest.mark.parametrize("document", [
        {"tickets": [3]},
        {"reminders": ["x"]},
        {"reminders": [{"chat": 7, "round": 3, "sent_at": 2.0}]},
        {"marks": [{"kind": "agent", "about": "x", "rating": 5}]},
        {"steps_reached_at": 5},
        {"created_at": "yesterday"},
        {"reminders": {}},
    ], ids=["ticket-not-a-record", "reminder-not-a-record", "round-3", "unknown-kind", "steps-not-a-dict", "no-date",
            "reminders-not-a-list"])
    def test_report_facts_of_another_shape_stop_neither_an_event_nor_the_report(self, store: Store,
                                                                             document: dict) -> None:
        """Readable JSON a hand edit or another release left: set aside and rebuilt like torn bytes."""
        for number in ("FLX00000001", "FLX00000002"):
            store.save_subscription(subscription(number))
        with store.event():  # as if written so
            store._save(FACTS, "FLX00000001", {"number": "FLX00000001", "created_at": 1.5, **document})  # type: ignore[attr-defined]
        rows = {row.number: row.facts for row in store.report_facts()}
        assert rows["FLX00000001"] == ReportFacts.of(subscription("FLX00000001"), [])  # rebuilt for the report
        for entry in (AuditEntry(6.0, "FLX00000001", "reminders", "reminder_not_delivered", {"round": 1, "chat": 7}),
                      AuditEntry(7.0, "FLX00000001", "chat:7", "help_requested", {"ticket": 4})):
            store.run_event(lambda: store.append_audit(entry))  # as the bot runs them (PostgreSQL: once more)
        rows = {row.number: row.facts for row in store.report_facts()}
        assert rows["FLX00000001"] == ReportFacts.of(store.load_subscription("FLX00000001"),
                                                     store.audit_trail("FLX00000001"))
        assert [t.ticket for t in rows["FLX00000001"].tickets] == [4]  # type: ignore[union-attr]
