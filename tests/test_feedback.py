"""The article's closing question: once after the download step, once after a help session; the
agent sees the rating; a comment is optional, asked for with its button, bounded, and never kept when
it may be a password."""

from flows.boundary import Event, Outcome, Reply
from flows.feedback import COMMENT_LIMIT
from tests.flow_harness import ADMIN_PASSWORD, Chat, Desk, admin_through_step_1, delivered_to, said_to
from tests.test_flows_helpdesk import MARIE, agent


def to_downloads(desk: Desk, language: str = "fr") -> Chat:
    chat, _ = desk.opened_chat(language=language)
    admin_through_step_1(chat)
    chat.press("Télécharger mon logiciel")
    return chat


def rating_buttons(reply: Reply) -> list[str]:
    return [b.label for row in reply.buttons for b in row]


def help_ends_at(desk: Desk, *answers: str) -> tuple[Chat, Outcome]:
    """Step 1 answered up to `answers`, then a help session Marie joins and leaves: the chat is back at
    the next question of step 1, and the outcome of her /quitter holds the rating question."""
    chat, _ = desk.opened_chat()
    chat.press("CRÉER mon compte Administrateur")
    for answer in answers:
        chat.type(answer)
    chat.press("Parler à un conseiller")
    marie = agent(desk)
    marie.command("/rejoindre 1")
    return chat, marie.command("/quitter")


def stored_comment(desk: Desk, key: str) -> str | None:
    feedback = desk.toolkit.store.load_feedback(key)
    assert feedback is not None
    return feedback.comment


def comment(chat: Chat, text: str) -> Reply:
    """« Ajouter un commentaire » under the rating's thanks, then the comment."""
    chat.press("Ajouter un commentaire")
    return chat.type(text)


def test_showing_the_download_step_asks_once_whether_the_assistant_was_useful(desk: Desk) -> None:
    chat = to_downloads(desk)

    question = delivered_to(chat.outcomes[-1], chat.chat_id)

    assert question.text.startswith("Cet assistant vous a-t-il été utile\u202f?")
    assert rating_buttons(question) == ["1", "2", "3", "4", "5"]
    assert "TÉLÉCHARGER" in chat.last.text or "Télécharg" in chat.last.text  # the step itself is the reply
    chat.press("Menu")
    chat.press("Télécharg")
    assert said_to(chat.outcomes[-1], chat.chat_id) == []  # asked once


def test_in_english_the_question_is_english(desk: Desk) -> None:
    chat, _ = desk.opened_chat(language="en")
    chat.press("CRÉER mon compte Administrateur")
    for answer in ("Dupont", "Jean", "jean.dupont@entreprise.fr", ADMIN_PASSWORD):
        chat.type(answer)
    chat.press("Confirm")
    chat.press("⬇️")
    assert delivered_to(chat.outcomes[-1], chat.chat_id).text.startswith("Was this assistant helpful?")


def test_a_rating_is_stored_with_step_and_time_and_a_comment_may_follow(desk: Desk) -> None:
    chat = to_downloads(desk)
    question = delivered_to(chat.outcomes[-1], chat.chat_id)
    downloads = chat.last
    desk.clock.now += 600  # past the moments when a copy of the password may follow it

    thanks = chat.press("4", question)

    assert "4/5" in thanks.text and "facultatif" in thanks.text
    assert rating_buttons(thanks) == ["💬 Ajouter un commentaire"]
    feedback = desk.toolkit.store.load_feedback(f"assistant-{chat.chat_id}")
    assert feedback is not None and (feedback.rating, feedback.step, feedback.rated_at) == (4, 4, desk.clock.now)
    chat.press("Menu", downloads)  # the step's buttons still work: the rating moved nothing
    assert "Résumé" in str(chat.labels())
    prompt = chat.press("Ajouter un commentaire", thanks)
    assert "500 caractères au plus" in prompt.text and rating_buttons(prompt) == ["Annuler"]
    kept = chat.type("Très clair, fini en 10 minutes.")
    assert kept.text.startswith("Merci pour votre commentaire.\n\n")
    assert "Résumé" in str(chat.labels(kept))  # and the question the chat is at, asked again
    feedback = desk.toolkit.store.load_feedback(f"assistant-{chat.chat_id}")
    assert feedback is not None and feedback.comment == "Très clair, fini en 10 minutes."
    assert "Vous avez déjà répondu" in (chat.deliver_press(question, "2").notice or "")
    assert "Vous avez déjà répondu" in (chat.deliver_press(thanks, "Ajouter un commentaire").notice or "")
    assert desk.toolkit.store.load_feedback(f"assistant-{chat.chat_id}").rating == 4  # type: ignore[union-attr]


def test_a_comment_that_may_be_a_password_is_deleted_and_not_kept(desk: Desk) -> None:
    chat = to_downloads(desk)
    chat.press("5", delivered_to(chat.outcomes[-1], chat.chat_id))
    desk.clock.now += 600  # long after the password was typed: the comment rule alone decides

    refused = comment(chat, ADMIN_PASSWORD)

    assert chat.outcomes[-1].delete_incoming and "mot de passe" in refused.text
    feedback = desk.toolkit.store.load_feedback(f"assistant-{chat.chat_id}")
    assert feedback is not None and feedback.comment is None
    conversation = desk.toolkit.store.load_conversation(chat.chat_id)
    assert conversation is not None and not any(ADMIN_PASSWORD in line.text for line in conversation.transcript)
    assert all(ADMIN_PASSWORD not in str(entry.details) for entry in desk.toolkit.store.audit_trail(
        conversation.subscription_number or ""))


def test_no_comment_is_required_the_next_button_just_goes_on(desk: Desk) -> None:
    chat = to_downloads(desk)
    downloads = chat.last
    chat.press("3", delivered_to(chat.outcomes[-1], chat.chat_id))
    chat.press("Menu", downloads)
    chat.type("Bonjour")  # no comment pending any more: the assistant answers it as usual
    feedback = desk.toolkit.store.load_feedback(f"assistant-{chat.chat_id}")
    assert feedback is not None and feedback.comment is None and feedback.rating == 3


def test_after_an_agent_leaves_the_session_is_rated_and_the_agent_sees_it(desk: Desk) -> None:
    chat, _ = desk.opened_chat()
    chat.press("Parler à un conseiller")
    marie = agent(desk)
    marie.command("/rejoindre 1")

    left = marie.command("/quitter")

    question = delivered_to(left, chat.chat_id)
    assert question.text.startswith("Ce conseiller vous a-t-il aidé\u202f?")
    outcome = chat.deliver_press(question, "2")
    assert said_to(outcome, MARIE) == ["Demande n° 1\u202f: votre aide a été notée 2/5."]
    comment(chat, "Réponse trop lente")
    assert said_to(chat.outcomes[-1], MARIE) == ["Demande n° 1\u202f: commentaire\u202f: «\u202fRéponse trop lente\u202f»"]
    feedback = desk.toolkit.store.load_feedback("help-1")
    assert feedback is not None and (feedback.agents, feedback.step, feedback.ticket) == ([MARIE], 1, 1)


def test_ending_the_help_oneself_asks_too_but_a_request_nobody_joined_does_not(desk: Desk) -> None:
    chat, _ = desk.opened_chat()
    chat.press("Parler à un conseiller")
    chat.press("Annuler la demande d'aide")
    assert not any(d.text.startswith("Ce conseiller") for d in chat.outcomes[-1].deliveries)
    chat.press("Parler à un conseiller")
    joined = agent(desk).command("/rejoindre 2")

    chat.press("Terminer l'aide", delivered_to(joined, chat.chat_id))

    assert delivered_to(chat.outcomes[-1], chat.chat_id).text.startswith("Ce conseiller vous a-t-il aidé")


def test_a_forged_or_someone_elses_rating_button_changes_nothing(desk: Desk) -> None:
    chat = to_downloads(desk)
    other = desk.chat(8)
    outcome = other.deliver_press(delivered_to(chat.outcomes[-1], chat.chat_id), "1")
    assert outcome.notice and desk.toolkit.store.load_feedback(f"assistant-{chat.chat_id}").rating is None  # type: ignore[union-attr]
    assert chat.press_data("fb|assistant-7|9") is not None
    assert desk.toolkit.store.load_feedback(f"assistant-{chat.chat_id}").rating is None  # type: ignore[union-attr]


def test_after_rating_a_typed_answer_still_answers_the_question_on_screen(desk: Desk) -> None:
    chat, left = help_ends_at(desk)  # back at « Nom »
    thanks = chat.deliver_press(delivered_to(left, chat.chat_id), "5").replies[-1]
    assert thanks.typed_answer  # a terminal lets a typed line through to « Nom »

    reply = chat.type("Dupont")

    assert "prénom" in reply.text
    conversation = desk.toolkit.store.load_conversation(chat.chat_id)
    assert conversation is not None and conversation.answers["admin"]["last_name"] == "Dupont"
    feedback = desk.toolkit.store.load_feedback("help-1")
    assert feedback is not None and feedback.comment is None
    assert said_to(chat.outcomes[-1], MARIE) == []


def test_after_rating_at_the_password_question_the_password_answers_it(desk: Desk) -> None:
    chat, left = help_ends_at(desk, "Dupont", "Jean", "jean.dupont@entreprise.fr")
    thanks = chat.deliver_press(delivered_to(left, chat.chat_id), "5").replies[-1]
    assert thanks.secret_answer  # the password question is still the one on screen: not echoed, hashed early

    reply = chat.type(ADMIN_PASSWORD)

    assert chat.outcomes[-1].delete_incoming and "Vérifiez votre compte administrateur" in reply.text
    conversation = desk.toolkit.store.load_conversation(chat.chat_id)
    assert conversation is not None and conversation.state == "reviewing_admin"
    assert stored_comment(desk, "help-1") is None


def test_a_comment_asked_for_then_cancelled_leaves_the_next_text_to_the_question(desk: Desk) -> None:
    chat, left = help_ends_at(desk)
    chat.deliver_press(delivered_to(left, chat.chat_id), "4")
    chat.press("Ajouter un commentaire")

    thanks = chat.press("Annuler")

    assert "4/5" in thanks.text and rating_buttons(thanks) == ["💬 Ajouter un commentaire"]
    chat.type("Dupont")
    conversation = desk.toolkit.store.load_conversation(chat.chat_id)
    assert conversation is not None and conversation.answers["admin"]["last_name"] == "Dupont"
    assert stored_comment(desk, "help-1") is None


def test_a_comment_asked_for_at_a_typed_question_is_kept_and_the_question_asked_again(desk: Desk) -> None:
    chat, left = help_ends_at(desk)
    chat.deliver_press(delivered_to(left, chat.chat_id), "4")

    kept = comment(chat, "Dupont")  # they asked to comment: what follows is the comment

    assert kept.text.startswith("Merci pour votre commentaire.") and "Quel est votre nom" in kept.text
    assert stored_comment(desk, "help-1") == "Dupont"
    chat.type("Dupont")  # and the next text answers « Nom » again
    conversation = desk.toolkit.store.load_conversation(chat.chat_id)
    assert conversation is not None and conversation.answers["admin"]["last_name"] == "Dupont"


def test_in_english_the_comment_is_offered_in_english(desk: Desk) -> None:
    chat, _ = desk.opened_chat(language="en")
    chat.press("Parler à un conseiller")
    marie = agent(desk)
    marie.command("/rejoindre 1")
    chat.deliver_press(delivered_to(marie.command("/quitter"), chat.chat_id), "5")
    assert rating_buttons(chat.last) == ["💬 Add a comment"]
    assert "500 characters at most" in chat.press("Add a comment").text
    assert chat.type("Quick and clear").text.startswith("Thank you for your comment.")


def test_a_comment_holding_the_password_in_a_sentence_is_deleted_neither_kept_nor_sent_to_the_agent(
        desk: Desk) -> None:
    chat, left = help_ends_at(desk, "Dupont", "Jean", "jean.dupont@entreprise.fr")
    chat.type(ADMIN_PASSWORD)
    chat.deliver_press(delivered_to(left, chat.chat_id), "1")
    desk.clock.now += 600  # long after the password: no copy of it is expected any more

    refused = comment(chat, f"je n'arrive pas à me connecter avec {ADMIN_PASSWORD}, pourquoi ?")

    outcome = chat.outcomes[-1]
    assert outcome.delete_incoming and "pourrait contenir un mot de passe" in refused.text
    assert said_to(outcome, MARIE) == []
    assert stored_comment(desk, "help-1") is None
    conversation = desk.toolkit.store.load_conversation(chat.chat_id)
    assert conversation is not None and not any(ADMIN_PASSWORD in line.text for line in conversation.transcript)
    assert all(ADMIN_PASSWORD not in str(entry.details) for entry in desk.toolkit.store.audit_trail(
        conversation.subscription_number or ""))


def test_a_comment_refused_in_english_says_so_in_english(desk: Desk) -> None:
    chat = to_downloads(desk, language="en")
    chat.press("4", delivered_to(chat.outcomes[-1], chat.chat_id))
    chat.press("Add a comment")
    refused = chat.type(f"({ADMIN_PASSWORD}) does not work")
    assert chat.outcomes[-1].delete_incoming and refused.text.startswith("This comment was deleted and not kept")


def test_a_comment_asked_for_at_the_password_question_is_judged_as_a_comment(desk: Desk) -> None:
    """They chose to write a comment: a sentence with no word that may be a password is kept, though the
    password question is on screen."""
    chat, left = help_ends_at(desk, "Dupont", "Jean", "jean.dupont@entreprise.fr")
    chat.deliver_press(delivered_to(left, chat.chat_id), "5")

    kept = comment(chat, "Merci Marie, tout est clair pour l'étape 1")

    assert not chat.outcomes[-1].delete_incoming and "Choisissez votre mot de passe" in kept.text
    assert stored_comment(desk, "help-1") == "Merci Marie, tout est clair pour l'étape 1"
    chat.type(ADMIN_PASSWORD)
    assert desk.toolkit.store.load_conversation(chat.chat_id).state == "reviewing_admin"  # type: ignore[union-attr]


def test_a_comment_right_after_the_password_is_kept_when_none_of_its_words_may_be_it(desk: Desk) -> None:
    chat = to_downloads(desk)  # the password was typed a moment ago: a copy of it could follow
    chat.press("5", delivered_to(chat.outcomes[-1], chat.chat_id))
    comment(chat, "Très clair, fini en 10 minutes")
    assert not chat.outcomes[-1].delete_incoming
    assert stored_comment(desk, f"assistant-{chat.chat_id}") == "Très clair, fini en 10 minutes"


def test_a_comment_over_the_limit_is_cut_and_the_person_told(desk: Desk) -> None:
    chat = to_downloads(desk)
    chat.press("4", delivered_to(chat.outcomes[-1], chat.chat_id))

    reply = comment(chat, "Très bien. " + "a" * 4989)

    assert reply.text.startswith("Merci pour votre commentaire. Il était trop long\u202f: il a été raccourci à "
                                 "500 caractères.")
    feedback = desk.toolkit.store.load_feedback(f"assistant-{chat.chat_id}")
    assert feedback is not None and feedback.comment is not None and len(feedback.comment) == COMMENT_LIMIT
    assert feedback.comment.startswith("Très bien.")


def test_a_comment_of_exactly_the_limit_is_kept_whole_without_a_word_about_it(desk: Desk) -> None:
    chat = to_downloads(desk, language="en")
    chat.press("4", delivered_to(chat.outcomes[-1], chat.chat_id))
    chat.press("Add a comment")
    assert chat.type("b" * COMMENT_LIMIT).text.startswith("Thank you for your comment.\n\n")
    assert stored_comment(desk, f"assistant-{chat.chat_id}") == "b" * COMMENT_LIMIT


def test_a_comment_over_the_limit_is_said_to_be_cut_in_english_too(desk: Desk) -> None:
    chat = to_downloads(desk, language="en")
    chat.press("4", delivered_to(chat.outcomes[-1], chat.chat_id))
    chat.press("Add a comment")
    assert chat.type("c" * (COMMENT_LIMIT + 1)).text.startswith(
        "Thank you for your comment. It was too long: it was shortened to 500 characters.")


TELEGRAM_PART = 4096  # Telegram's app sends a longer text as several messages of at most this many characters


def test_the_rest_of_a_long_comment_split_by_telegram_is_not_taken_for_the_password(desk: Desk) -> None:
    chat, left = help_ends_at(desk, "Dupont", "Jean", "jean.dupont@entreprise.fr")
    chat.deliver_press(delivered_to(left, chat.chat_id), "5")
    comment(chat, "Très bien. " + "a" * (TELEGRAM_PART - 11))
    desk.clock.now += 1  # the second part, right behind the first

    rest = chat.deliver(Event.typed("et voilà, Merci 2 fois.", update_id=900))

    assert rest.replies == () and not rest.delete_incoming and said_to(rest, MARIE) == []
    conversation = desk.toolkit.store.load_conversation(chat.chat_id)
    assert conversation is not None and conversation.state == "asking_admin_password"
    assert "et voilà" not in (stored_comment(desk, "help-1") or "")
    desk.clock.now += 30  # a person reads the reply before typing anything
    chat.type(ADMIN_PASSWORD)
    assert desk.toolkit.store.load_conversation(chat.chat_id).state == "reviewing_admin"  # type: ignore[union-attr]


def test_every_part_of_a_comment_split_in_three_is_its_rest_and_one_holding_the_password_is_deleted(
        desk: Desk) -> None:
    chat, left = help_ends_at(desk)  # at « Nom »
    chat.deliver_press(delivered_to(left, chat.chat_id), "2")
    desk.clock.now += 600
    comment(chat, "x" * TELEGRAM_PART)

    second = chat.deliver(Event.typed("y" * TELEGRAM_PART, update_id=900))
    third = chat.deliver(Event.typed(f"et {ADMIN_PASSWORD} ne marche pas", update_id=901))

    assert second.replies == () and third.delete_incoming
    assert "pourrait contenir un mot de passe" in third.replies[-1].text
    conversation = desk.toolkit.store.load_conversation(chat.chat_id)
    assert conversation is not None and "last_name" not in conversation.answers.get("admin", {})
    assert not any(ADMIN_PASSWORD in line.text for line in conversation.transcript)


def test_a_short_comment_opens_no_wait_for_its_rest(desk: Desk) -> None:
    chat, left = help_ends_at(desk)
    chat.deliver_press(delivered_to(left, chat.chat_id), "2")
    comment(chat, "Trop lent")
    chat.type("Dupont")  # at once: the answer to « Nom »
    conversation = desk.toolkit.store.load_conversation(chat.chat_id)
    assert conversation is not None and conversation.answers["admin"]["last_name"] == "Dupont"
