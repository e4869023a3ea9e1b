"""One rule decides what may be a password: a copy sent twice, or typed right after a refused answer."""

from flows.boundary import Event
from tests.flow_harness import ADMIN_PASSWORD, Desk


def at_email_question(desk: Desk):
    chat, _ = desk.opened_chat()
    chat.press("CRÉER mon compte Administrateur")
    chat.type("Dupont")
    chat.type("Jean")
    return chat


def transcript(desk: Desk, chat_id: int) -> str:
    return " ".join(line.text for line in desk.toolkit.store.load_conversation(chat_id).transcript)


def test_a_password_typed_right_after_a_refused_email_is_deleted_and_masked(desk: Desk) -> None:
    chat = at_email_question(desk)
    chat.type("jean.dupont@entreprise")  # refused: no domain
    outcome = chat.deliver(Event.typed(ADMIN_PASSWORD, update_id=900))
    assert outcome.delete_incoming
    assert ADMIN_PASSWORD not in transcript(desk, chat.chat_id)


def test_a_password_sent_twice_is_deleted_and_masked_both_times(desk: Desk) -> None:
    chat = at_email_question(desk)
    chat.type("jean.dupont@entreprise.fr")
    first = chat.deliver(Event.typed(ADMIN_PASSWORD, update_id=901))
    second = chat.deliver(Event.typed(ADMIN_PASSWORD, update_id=902))
    assert first.delete_incoming and second.delete_incoming
    assert ADMIN_PASSWORD not in transcript(desk, chat.chat_id)


def test_an_ordinary_message_after_the_password_is_kept(desk: Desk) -> None:
    chat = at_email_question(desk)
    chat.type("jean.dupont@entreprise.fr")
    chat.deliver(Event.typed(ADMIN_PASSWORD, update_id=903))
    outcome = chat.deliver(Event.typed("Dois-je cocher la case ?", update_id=904))
    assert not outcome.delete_incoming and "Dois-je cocher" in transcript(desk, chat.chat_id)
