"""One rule decides what may be a password: a copy sent twice, or typed right after a refused answer."""

import pytest

from flows.boundary import Event
from flows.records import Conversation, Helper
from flows.secrecy import may_be_password, may_be_password_unhandled
from tests.flow_harness import ADMIN_PASSWORD, PURCHASE_EMAIL, Desk, admin_through_step_1, claim


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
    outcome = chat.deliver(Event.typed("Dois-je cocher la case ?", update_id=904))
    assert not outcome.delete_incoming and "Dois-je cocher" in transcript(desk, chat.chat_id)


def test_a_commencer_code_pasted_as_text_never_stays_in_the_transcript(desk: Desk) -> None:
    opened = desk.open()
    chat = desk.chat()
    chat.command("/start")
    chat.type("pas-un-code-valide")  # a wrong one is masked too: it may be a near miss of the real one
    chat.type(opened.code)
    assert opened.code not in transcript(desk, chat.chat_id)
    assert "pas-un-code-valide" not in transcript(desk, chat.chat_id)


def test_the_code_mailed_to_the_purchase_address_never_stays_in_the_transcript(desk: Desk) -> None:
    opened = desk.open()
    chat = desk.chat()
    claim(chat, opened.subscription.number, PURCHASE_EMAIL)
    code = desk.emailed_code()
    chat.type(code)
    assert code not in transcript(desk, chat.chat_id)
    assert PURCHASE_EMAIL in transcript(desk, chat.chat_id)  # ordinary answers are kept


def test_every_password_question_of_the_journey_is_covered_by_the_one_rule() -> None:
    """A question that takes a password (a password field, or the current password) is a secret state."""
    from flows import validation
    from flows.journey import FORMS, SECRET_AHEAD, SECRET_STATES, STATES
    password_fields = {f.state for form in FORMS for f in form.fields if f.check is validation.password}
    assert password_fields and all(f.secret for form in FORMS for f in form.fields if f.state in password_fields)
    asked = {state for state in STATES if "password" in state}
    assert {"asking_account_password", "asking_account_current_password"} <= asked
    assert asked | password_fields <= SECRET_STATES
    assert "in_admin_account" in SECRET_AHEAD


@pytest.mark.parametrize(("event", "expected", "deleted"), [
    (Event.typed("Tournesol2026"), None, True),  # the conversation unknown or the event not saved
    (Event.typed("jean.dupont@garage-dupont.fr"), None, True),  # whatever the text looks like
    (Event.command("/start"), None, True),  # a command line may hold the password too
    (Event.pressed("3|went_back"), None, False),  # a press is our own data
    (Event.typed("jean.dupont@garage-dupont.fr"), False, False),  # known: not where a password goes
    (Event.typed("Tournesol2026"), True, True),
])
def test_an_event_not_handled_is_deleted_when_it_may_be_the_password(event, expected, deleted) -> None:
    assert may_be_password_unhandled(event, expected) is deleted


@pytest.mark.parametrize(("text", "secret"), [
    (ADMIN_PASSWORD, True),
    (f"je n'arrive pas à me connecter avec {ADMIN_PASSWORD}, pourquoi ?", True),  # inside a sentence
    (f"«\u202f{ADMIN_PASSWORD}\u202f» ne marche pas", True),
    ("Sage50Compta ne démarre pas", True),  # a word that meets the rule cannot be told from a password
    ("Très clair, fini en 10 minutes", False),  # the whole sentence meets the rule, none of its words
    ("jean.dupont@entreprise.fr", False),
    (None, True),  # not read yet (the inbox journal): it may be
])
@pytest.mark.parametrize("free_text", [
    Conversation(7, "showing_downloads", feedback_comment="assistant-7"),  # a comment asked for
    Conversation(7, "asking_admin_email", helpers=[Helper(901, "Marie")]),  # a message for the agents
], ids=["comment", "for the agents"])
def test_free_text_may_be_the_password_when_any_of_its_words_meets_the_password_rule(free_text, text, secret) -> None:
    assert may_be_password(free_text, text, now=0.0) is secret


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_text_that_answers_nothing_and_holds_the_password_is_deleted_masked_and_explained(
        desk: Desk, language: str) -> None:
    """At a question only buttons answer (the services), a sentence with the password in it is kept by
    nothing but the transcript, which agents read: it goes the way of a comment."""
    chat, _ = desk.opened_chat(language=language)
    admin_through_step_1(chat)  # one seat: the services' question, buttons only
    sentence = f"mon mot de passe est {ADMIN_PASSWORD} c'est bien ça ?"
    outcome = chat.deliver(Event.typed(sentence, update_id=950))
    assert outcome.delete_incoming
    assert ADMIN_PASSWORD not in transcript(desk, chat.chat_id)
    told = {"fr": "Ce message a été effacé de la conversation", "en": "This message was deleted from the chat"}
    assert outcome.replies[0].text.startswith(told[language])
    kept = chat.deliver(Event.typed("je ne comprends pas l'étape 3", update_id=951))  # no word of a password
    assert not kept.delete_incoming and "l'étape 3" in transcript(desk, chat.chat_id)


def test_the_inbox_journal_is_told_by_its_text_whether_a_message_may_be_the_password(desk: Desk) -> None:
    """What the journal would write to disk is judged by the same rule the chat's event applies."""
    chat, _ = desk.opened_chat()
    admin_through_step_1(chat)  # the services' question: buttons only
    assistant = desk.assistant
    assert assistant.expects_secret(chat.chat_id, text=f"mon mot de passe est {ADMIN_PASSWORD}")
    assert not assistant.expects_secret(chat.chat_id, text="je ne comprends pas l'étape 3")
    assert not assistant.expects_secret(chat.chat_id, text="")  # a photo without a caption
