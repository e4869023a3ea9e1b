"""The PostgreSQL store against a real server: one transaction per event, no lost update between
processes, a redelivered update handled once, an outage survived, mail sent once."""

import threading
import time
from collections.abc import Callable, Iterator

import psycopg
import pytest

from flows.assistant import Assistant
from flows.boundary import Event
from flows.ports import EventConflict, Mail, StoreUnavailable
from flows.records import AuditEntry, Code, Conversation, Subscription, UserStatus
from flows.steps.base import AssistantSettings, Toolkit
from flows.subscriptions import open_subscription
from storage import postgres_store as postgres_store_module
from storage.postgres_store import PostgresStore, connect
from tests.conftest import TEST_CIPHER
from tests.flow_harness import Chat, Clock, PlainHasher
from tests.postgres_server import PostgresServer
from tests.test_store_contract import subscription

SENDER = "Sage Flex <bot@flex.example>"
ROUNDS = 25


def open_store(url: str, timeout: float = 3.0) -> PostgresStore:
    """A store with a pool of its own: as another process would have."""
    return PostgresStore(connect(url, 4, migrate=False, timeout=timeout), SENDER, TEST_CIPHER)


@pytest.fixture
def other_store(postgres_url: str) -> Iterator[PostgresStore]:
    store = open_store(postgres_url)
    yield store
    store.close()


def rows(store: PostgresStore, query: str) -> list[tuple]:
    with store.pool.connection() as connection:
        return connection.execute(query).fetchall()


def assistant_on(store: PostgresStore, clock: Clock | None = None) -> Assistant:
    return Assistant(Toolkit(store, PlainHasher(), AssistantSettings(bot_username="TestBot"), clock or Clock()))


def test_an_event_is_one_transaction_even_when_its_commit_fails_half_way(postgres_store, monkeypatch) -> None:
    """The documents are written, then queuing the mail fails: the documents are not kept either."""
    postgres_store.save_conversation(Conversation(7, "welcoming"))

    def broken_mail(key: str, mail: Mail) -> tuple:
        raise psycopg.errors.DiskFull("no space left")

    monkeypatch.setattr(postgres_store, "_mail_row", broken_mail)
    with pytest.raises(StoreUnavailable), postgres_store.event(chat=7):
        postgres_store.save_subscription(subscription())
        postgres_store.save_conversation(Conversation(7, "managing_users", subscription_number="FLX00000001"))
        postgres_store.append_audit(AuditEntry(1.0, "FLX00000001", "chat:7", "users_activated"))
        postgres_store.queue_mail(Mail("marie@entreprise.fr", "Invitation", "Bonjour"))
    assert postgres_store.load_subscription("FLX00000001") is None
    assert postgres_store.load_conversation(7).state == "welcoming"  # type: ignore[union-attr]
    assert rows(postgres_store, "SELECT count(*) FROM audit") == [(0,)]
    assert rows(postgres_store, "SELECT count(*) FROM mail") == [(0,)]


def test_a_commit_on_a_record_changed_since_it_was_read_conflicts_and_keeps_nothing(postgres_store, other_store) -> None:
    postgres_store.save_subscription(subscription())
    with pytest.raises(EventConflict), postgres_store.event():
        mine = postgres_store.load_subscription("FLX00000001")
        assert mine is not None
        other = other_store.load_subscription("FLX00000001")
        other.seats = 9  # type: ignore[union-attr]
        other_store.save_subscription(other)  # type: ignore[arg-type]
        mine.seats = 4
        postgres_store.save_subscription(mine)
        postgres_store.save_conversation(Conversation(7, "welcoming"))
    assert postgres_store.load_subscription("FLX00000001").seats == 9  # type: ignore[union-attr]
    assert postgres_store.load_conversation(7) is None


def test_two_new_records_under_one_key_conflict_rather_than_overwrite(postgres_store, other_store) -> None:
    with pytest.raises(EventConflict), postgres_store.event():
        assert postgres_store.load_code("Abc_123") is None
        other_store.save_code(Code("Abc_123", "activation", "FLX00000002", 99.0))
        postgres_store.save_code(Code("Abc_123", "activation", "FLX00000001", 99.0))
    assert postgres_store.load_code("Abc_123").subscription_number == "FLX00000002"  # type: ignore[union-attr]


def concurrently(*works: Callable[[], None]) -> None:
    failures: list[BaseException] = []

    def run(work: Callable[[], None]) -> None:
        try:
            work()
        except BaseException as error:  # noqa: BLE001 - reported by the test's thread below
            failures.append(error)

    threads = [threading.Thread(target=run, args=(work,)) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not failures, failures


def racing(store: PostgresStore, chat: int, number: str, both_read: threading.Barrier,
           change: Callable[[Subscription], str | None]) -> Callable[[], None]:
    """One chat's event on `store`: reads the subscription, waits until the other one has read it too
    (the first time only: a rerun reads what the other committed), then `change` decides the audit
    action, or None when it changes nothing."""
    def event() -> None:
        attempts = []

        def work() -> None:
            attempts.append(1)
            sub = store.load_subscription(number)
            assert sub is not None
            if len(attempts) == 1:
                both_read.wait()
            action = change(sub)
            if action is not None:
                store.save_subscription(sub)
            store.append_audit(AuditEntry(1.0, number, f"chat:{chat}", action or "member_email_refused"))
        store.run_event(work, chat=chat)
    return event


def deactivate(sub: Subscription) -> str:
    sub.user("u1").status = UserStatus.DEACTIVATED  # type: ignore[union-attr]
    return "member_deactivated"


def change_email(sub: Subscription) -> str | None:
    marie = sub.user("u1")
    assert marie is not None
    if marie.status is UserStatus.DEACTIVATED:
        return None
    marie.email = "marie.curie@nouveau.fr"
    return "member_email_changed"


def test_two_processes_changing_one_subscription_at_once_never_lose_an_update(postgres_store, other_store) -> None:
    """The administrator deactivates Marie while Marie changes her e-mail, each in its own process
    (a store with its own connections), both having read the subscription before either commits. The
    e-mail change is allowed only for an active user. Every round ends in one of the two orders: the
    e-mail changed and then the user deactivated, or deactivated and the change refused; never the
    e-mail changed on an active user because the deactivation was overwritten, and both are audited."""
    for round_ in range(ROUNDS):
        number = f"FLX{round_:08d}"
        postgres_store.save_subscription(subscription(number))
        both_read = threading.Barrier(2, timeout=10)
        concurrently(racing(postgres_store, 1, number, both_read, deactivate),
                     racing(other_store, 2, number, both_read, change_email))
        marie = postgres_store.load_subscription(number).user("u1")  # type: ignore[union-attr]
        actions = sorted(entry.action for entry in postgres_store.audit_trail(number))
        assert marie.status is UserStatus.DEACTIVATED, f"round {round_}: the deactivation was lost"  # type: ignore[union-attr]
        if marie.email == "marie.curie@nouveau.fr":  # type: ignore[union-attr]
            assert actions == ["member_deactivated", "member_email_changed"], round_
        else:
            assert actions == ["member_deactivated", "member_email_refused"], round_


def test_a_redelivered_update_changes_nothing_twice_even_when_two_processes_get_it_at_once(
        postgres_store, other_store) -> None:
    """A slow answer makes Telegram send the update again, to another process, while the first one
    is still handling it: the chat's lock makes the second wait, then it finds the update handled."""
    opened = open_subscription(Toolkit(postgres_store, PlainHasher(), AssistantSettings(), Clock()),
                               "achat@entreprise.fr", "comptabilite", 1)
    first, second = assistant_on(postgres_store), assistant_on(other_store)
    update = Event.command(f"/start {opened.code}", language="fr", update_id=500)
    outcomes = []
    concurrently(lambda: outcomes.append(first.handle(7, update)), lambda: outcomes.append(second.handle(7, update)))
    assert sorted(outcome.duplicate for outcome in outcomes) == [False, True]
    again = first.handle(7, update)
    assert again.duplicate
    trail = [entry.action for entry in postgres_store.audit_trail(opened.subscription.number)]
    assert trail.count("chat_bound") == 1, trail
    assert rows(postgres_store, "SELECT chat_id, update_id FROM handled_updates") == [(7, 500)]


def test_an_agents_redelivered_update_is_dropped(postgres_store) -> None:
    """Agent commands are not a conversation's: only the handled-updates table knows them."""
    assistant = Assistant(Toolkit(postgres_store, PlainHasher(), AssistantSettings(agent_ids=frozenset({900})), Clock()))
    queue = Event.command("/file", language="fr", update_id=77, sender_id=900, agent=True)
    assert assistant.handle(900, queue).replies
    again = assistant.handle(900, queue)
    assert again.duplicate and not again.replies


def once_reconnected(read: Callable[[], object], within: float = 30.0) -> object:
    """What `read` gives once the pool has replaced the connections the outage broke: it does so in the
    background, which takes longer than a read's own wait on a busy machine."""
    deadline = time.monotonic() + within
    while True:
        try:
            return read()
        except StoreUnavailable:
            if time.monotonic() > deadline:
                raise


def test_a_database_outage_fails_the_event_and_nothing_is_lost_after_it(tmp_path) -> None:
    """Its own server, stopped as by a crash then started again: the event during the outage raises
    (a webhook answers 5xx and Telegram sends it again), and the same pool works afterwards."""
    server = PostgresServer()
    try:
        server.start()
        server.prepare_shared()
        store = open_store(server.emptied(), timeout=1.0)
        chat = Chat(assistant_on(store), 7)
        chat.command("/start")
        before = store.load_conversation(7)
        server.stop("immediate")
        with pytest.raises(StoreUnavailable):
            chat.command("/etat")
        server.start()
        assert once_reconnected(lambda: store.load_conversation(7)) == before
        assert chat.command("/etat").text
        assert store.load_conversation(7).last_update_id == 3  # type: ignore[union-attr]
        store.close()
    finally:
        server.destroy()


def test_handled_updates_are_pruned_once_telegram_can_no_longer_redeliver_them(postgres_store) -> None:
    with postgres_store.event():
        postgres_store.claim_update(7, 1)
    with postgres_store.pool.connection() as connection:
        connection.execute("UPDATE handled_updates SET handled_at = now() - interval '3 days'")
    postgres_store._pruned_at = time.monotonic() - postgres_store_module.PRUNE_EVERY_SECONDS  # an hour later
    with postgres_store.event():
        postgres_store.claim_update(7, 2)
    assert rows(postgres_store, "SELECT chat_id, update_id FROM handled_updates") == [(7, 2)]


@pytest.mark.parametrize("failure", [psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure])
def test_a_deadlock_or_serialization_failure_reruns_the_event_whole(postgres_store, monkeypatch, failure) -> None:
    """The server aborts the transaction: the event runs again from its first read, and what it wrote
    the first time is nowhere (one audit entry, one mail)."""
    opened = open_subscription(Toolkit(postgres_store, PlainHasher(), AssistantSettings(), Clock()),
                               "achat@entreprise.fr", "comptabilite", 1)
    real, calls = postgres_store._commit, []

    def aborted_once(changes) -> None:
        calls.append(1)
        real(changes)
        if len(calls) == 1:
            raise failure("canceling statement due to conflict")

    monkeypatch.setattr(postgres_store, "_commit", aborted_once)
    outcome = assistant_on(postgres_store).handle(7, Event.command(f"/start {opened.code}", language="fr", update_id=1))
    assert len(calls) == 2 and not outcome.duplicate and outcome.replies
    trail = [entry.action for entry in postgres_store.audit_trail(opened.subscription.number)]
    assert trail.count("chat_bound") == 1, trail
    assert postgres_store.load_conversation(7).state == "welcoming"  # type: ignore[union-attr]


def test_a_due_reminder_claimed_by_two_processes_at_once_goes_once(postgres_store, other_store) -> None:
    from flows import reminders
    from flows.records import Reminder

    clock = Clock()
    toolkits = [Toolkit(store, PlainHasher(), AssistantSettings(bot_username="TestBot"), clock)
                for store in (postgres_store, other_store)]
    for round_ in range(ROUNDS):
        key, chat = f"r{round_}", 9000 + round_
        with postgres_store.event():
            postgres_store.save_subscription(subscription("FLX00000001"))
            postgres_store.save_conversation(Conversation(chat, "choosing_services", subscription_number="FLX00000001"))
            postgres_store.save_reminder(Reminder(key, chat, "FLX00000001", due_at=clock() - 1,
                                                  last_activity=clock() - 90000))
        start, sent = threading.Barrier(2), []

        def claim(toolkit: Toolkit) -> None:
            start.wait()
            sent.append(reminders.claim(toolkit, key, f"process-{id(toolkit)}"))
        threads = [threading.Thread(target=claim, args=(toolkit,)) for toolkit in toolkits]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len([delivery for delivery in sent if delivery is not None]) == 1, f"round {round_}"


def test_one_order_sent_to_two_processes_at_once_opens_one_subscription(postgres_store, other_store) -> None:
    from flows.orders import place_order

    toolkits = [Toolkit(store, PlainHasher(), AssistantSettings(bot_username="TestBot"), Clock())
                for store in (postgres_store, other_store)]
    for round_ in range(10):
        start, placed = threading.Barrier(2), []

        def place(toolkit: Toolkit) -> None:
            start.wait()
            placed.append(place_order(toolkit, f"order-{round_}", "achat@garage.fr", "comptabilite", 2))
        threads = [threading.Thread(target=place, args=(toolkit,)) for toolkit in toolkits]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(p.created for p in placed) == [False, True], f"round {round_}"
        assert placed[0].opened["number"] == placed[1].opened["number"]
    assert len(list(postgres_store.subscription_numbers())) == 10


def lose_the_event_connection(store: PostgresStore) -> None:
    """What a failover, a proxy or a DBA does to a connection in the middle of a transaction."""
    rows(store, "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state = 'idle in transaction'")


@pytest.mark.parametrize("read", [
    lambda store: store.load_conversation(7),
    lambda store: store.load_throttle("mails-7"),  # bookkeeping, which reads a damaged one as empty
    lambda store: store.reminder_slot(498976),
])
def test_a_connection_lost_during_an_event_is_an_outage_and_sets_no_healthy_record_aside(
        postgres_store, other_store, read) -> None:
    postgres_store.save_conversation(Conversation(7, "welcoming"))
    postgres_store._save("throttles", "mails-7", {"key": "mails-7", "times": [1.0]})
    postgres_store._save("reminder-slots", "498976", {"keys": ["r1"]})
    with pytest.raises(StoreUnavailable), postgres_store.event(chat=7):
        lose_the_event_connection(other_store)
        read(postgres_store)
    assert rows(other_store, "SELECT count(*) FROM quarantine") == [(0,)]
    assert postgres_store.load_conversation(7).state == "welcoming"  # type: ignore[union-attr]
    assert postgres_store.load_throttle("mails-7").times == [1.0]
    assert postgres_store.reminder_slot(498976) == ["r1"]


def test_an_event_whose_connection_is_lost_fails_for_the_transport_and_the_chat_keeps_its_progress(
        postgres_store, other_store, monkeypatch) -> None:
    """Through the assistant: the event fails with StoreUnavailable (a webhook answers 500, Telegram
    delivers it again) and the chat picks up where it was."""
    assistant = assistant_on(postgres_store)
    chat = Chat(assistant, 7)
    chat.deliver(Event.command("/start", update_id=1))
    before = postgres_store.load_conversation(7)
    real_load = postgres_store.load_conversation

    def lost_then_load(chat_id: int) -> Conversation | None:
        lose_the_event_connection(other_store)
        return real_load(chat_id)

    monkeypatch.setattr(postgres_store, "load_conversation", lost_then_load)
    with pytest.raises(StoreUnavailable):
        assistant.handle(7, Event.command("/etat", update_id=2))
    monkeypatch.undo()
    assert rows(other_store, "SELECT count(*) FROM quarantine") == [(0,)]
    assert postgres_store.load_conversation(7) == before
