"""The help desk without Telegram: an agent in the conversation while the person uses the assistant."""

from flows.boundary import Event
from tests.flow_harness import ADMIN_PASSWORD, Agent, Desk, admin_through_step_1, delivered_to, said_to
from tests.test_members_flow import Account, joined

MARIE = 901


def agent(desk: Desk, agent_id: int = MARIE, first_name: str = "Marie") -> Agent:
    return Agent(desk.assistant, agent_id, first_name)


def test_a_password_typed_as_an_agent_steers_away_is_still_never_relayed(desk: Desk) -> None:
    chat, _ = desk.opened_chat()
    chat.press("CRÉER mon compte Administrateur")
    for answer in ("Dupont", "Jean", "jean.dupont@entreprise.fr"):
        chat.type(answer)
    assert chat.last.secret_answer
    chat.press("Parler à un conseiller")
    marie = agent(desk)
    marie.command("/rejoindre 1")
    marie.press("Renvoyer à l'étape 1", marie.command("/etat").replies[-1])

    chat.type(ADMIN_PASSWORD)  # typed at the password question, arriving after the steer

    outcome = chat.outcomes[-1]
    assert outcome.delete_incoming
    assert not any(ADMIN_PASSWORD in d.text for d in outcome.deliveries)
    conversation = desk.toolkit.store.load_conversation(chat.chat_id)
    assert conversation is not None and not any(ADMIN_PASSWORD in line.text for line in conversation.transcript)
    assert ADMIN_PASSWORD not in str(marie.command("/etat"))


def test_asking_again_with_an_agent_in_says_the_agent_is_there_not_a_queue_position(desk: Desk) -> None:
    chat, _ = desk.opened_chat()
    chat.press("Parler à un conseiller")
    agent(desk).command("/rejoindre 1")

    again = chat.command("/aide")

    assert "position 0" not in again.text
    assert "prise en charge par Marie" in again.text and "Bienvenue" in again.text
    assert "Terminer l'aide" in str(chat.labels(again))


def test_a_one_seat_subscription_is_never_steered_to_the_user_accounts_step_it_skipped(desk: Desk) -> None:
    chat, _ = desk.opened_chat(seats=1)
    assert "Étape 3/4" in admin_through_step_1(chat).text
    chat.press("Parler à un conseiller")
    marie = agent(desk)

    joined = marie.command("/rejoindre 1").replies[-1]

    labels = [b.label for row in joined.buttons for b in row]
    assert any("étape 1" in label for label in labels) and any("étape 3" in label for label in labels)
    assert not any("étape 2" in label for label in labels)
    marie.press_data("hd|steer|1|2")
    conversation = desk.toolkit.store.load_conversation(chat.chat_id)
    assert conversation is not None and conversation.state == "choosing_services"


def test_an_invited_users_request_tells_agents_who_they_are_and_where_they_stand() -> None:
    account = Account()
    marie = account.chat(200)
    marie.command(f"/start {account.link_for('marie@entreprise.fr')}")
    marie.command("/aide")
    paul = Agent(account.assistant, 902, "Paul")
    recap = paul.command("/rejoindre 1").replies[-1].text

    assert "Demande n° 1 — Marie" in recap
    assert "Utilisateur invité" in recap and "Accès à l'abonnement" not in recap
    assert "Utilisateur invité" in paul.command("/file").replies[-1].text


def test_an_agent_who_is_also_an_invited_user_keeps_their_own_buttons_while_assisting() -> None:
    account = Account()
    marie = joined(account, chat_id=200)
    account.admin.press("Parler à un conseiller")
    Agent(account.assistant, 200, "Marie").command("/rejoindre 1")
    data = marie.button_data("Adresse postale", marie.last)

    pressed = marie.deliver(Event.pressed(data, sender_id=200, sender_name="Marie", agent=True, update_id=99))

    assert pressed.replies and "adresse postale" in pressed.replies[-1].text.lower()
    assert not pressed.deliveries


def test_an_edited_message_reaches_the_agents_in_the_conversation_and_is_never_an_answer(desk: Desk) -> None:
    chat, _ = desk.opened_chat()
    chat.press("CRÉER mon compte Administrateur")
    alone = chat.edit("Durand")
    assert "message modifié" in alone.text and "votre nom" in alone.text
    chat.press("Parler à un conseiller")
    agent(desk).command("/rejoindre 1")

    chat.edit("Je voulais dire Durand")
    relayed = chat.outcomes[-1]

    assert any("Je voulais dire Durand" in text for text in said_to(relayed, MARIE))
    conversation = desk.toolkit.store.load_conversation(chat.chat_id)
    assert conversation is not None and conversation.state == "asking_admin_last_name"


def test_an_agent_writing_after_the_administrator_ended_the_help_is_told_so_not_asked_for_a_code(
        desk: Desk) -> None:
    chat, _ = desk.opened_chat()
    chat.press("Parler à un conseiller")
    marie = agent(desk)
    chat.press("Terminer l'aide", delivered_to(marie.command("/rejoindre 1"), chat.chat_id))

    late = [marie.type("Voilà, c'est réglé !").replies[-1].text for _ in range(4)]
    state = marie.command("/etat").replies[-1].text

    assert all("Vous n'êtes dans aucune conversation" in text for text in [*late, state])
    own = desk.toolkit.store.load_conversation(MARIE)
    assert own is None or own.failures == 0


def test_retour_after_an_agent_steered_back_returns_to_where_the_administrator_was(desk: Desk) -> None:
    chat, _ = desk.opened_chat(product="paye", seats=3)
    admin_through_step_1(chat)
    assert "Étape 3/4" in chat.press("VALIDER ET ACTIVER").text
    chat.press("Parler à un conseiller")
    marie = agent(desk)
    marie.command("/rejoindre 1")
    steered = marie.press("Renvoyer à l'étape 2", marie.command("/etat").replies[-1])

    back = chat.press("Retour", delivered_to(steered, chat.chat_id))

    assert "Étape 3/4 — Services connectés" in back.text


def test_the_transcript_agents_read_names_buttons_and_never_shows_the_link_code(desk: Desk) -> None:
    chat, opened = desk.opened_chat()
    chat.press("CRÉER mon compte Administrateur")
    chat.press("Parler à un conseiller")

    recap = agent(desk).command("/rejoindre 1").replies[-1].text

    assert "/start ••••" in recap and opened.code not in recap
    assert "[bouton] chose_to_create_admin" in recap and "|" not in recap.split("Derniers échanges")[1]


def test_a_photo_captioned_at_the_password_question_is_deleted_and_never_reaches_agents(desk: Desk) -> None:
    chat, _ = desk.opened_chat()
    chat.press("CRÉER mon compte Administrateur")
    for answer in ("Dupont", "Jean", "jean.dupont@entreprise.fr"):
        chat.type(answer)
    chat.press("Parler à un conseiller")
    agent(desk).command("/rejoindre 1")

    outcome = chat.deliver(Event.other(text=ADMIN_PASSWORD, message_id=99, update_id=500, sender_name="Jean"))
    assert outcome.delete_incoming and not [d for d in outcome.deliveries if d.copy_message_id == 99]
    assert all(ADMIN_PASSWORD not in d.text for d in outcome.deliveries)

    screenshot = chat.deliver(Event.other(message_id=100, update_id=501, sender_name="Jean"))
    assert [d for d in screenshot.deliveries if d.copy_message_id == 100]  # without a caption, it is for them


def test_without_any_agent_help_says_honestly_that_nobody_will_answer_and_where_to_look() -> None:
    desk = Desk.build(agents=frozenset())
    chat, _ = desk.opened_chat()
    reply = chat.press("Parler à un conseiller")
    assert "Aucun conseiller n'est disponible" in reply.text and "écrira" not in reply.text
    assert "Mettre en place les comptes Flex et les outils connectés" in reply.text
    assert desk.toolkit.settings.support_contact in reply.text
    assert "CRÉER mon compte Administrateur" in str(chat.labels(reply))  # the question goes on
    assert desk.toolkit.store.load_queue().tickets == []


def test_without_any_agent_help_in_english_says_so_too() -> None:
    desk = Desk.build(agents=frozenset())
    chat, _ = desk.opened_chat(language="en")
    reply = chat.command("/aide")
    assert "No advisor is available right now" in reply.text and desk.toolkit.settings.support_contact in reply.text


def test_a_message_for_the_agent_holding_the_password_is_deleted_and_not_relayed(desk: Desk) -> None:
    """The same rule as a comment's: any word that meets the password rule."""
    chat, _ = desk.opened_chat()
    admin_through_step_1(chat)
    chat.press("Parler à un conseiller")
    marie = agent(desk)
    marie.command("/rejoindre 1")
    desk.clock.now += 600  # long after the password: only the free-text rule can tell

    reply = chat.type(f"je n'arrive pas à me connecter avec {ADMIN_PASSWORD}")

    outcome = chat.outcomes[-1]
    assert outcome.delete_incoming and "n'a pas été transmis" in reply.text
    assert said_to(outcome, MARIE) == []
    assert ADMIN_PASSWORD not in str(marie.command("/etat"))
    chat.type("je n'arrive pas à me connecter")
    assert said_to(chat.outcomes[-1], MARIE) == ["🙋 Jean\u202f: je n'arrive pas à me connecter"]


def test_a_message_for_the_agent_at_the_email_question_is_relayed_not_taken_for_a_password(desk: Desk) -> None:
    """One answer before the password question, a text that is no address may be a password typed
    ahead; with an agent in, it is a message for the agent, judged as free text."""
    chat, _ = desk.opened_chat()
    chat.press("CRÉER mon compte Administrateur")
    chat.type("Dupont")
    chat.type("Jean")
    chat.press("Parler à un conseiller")
    agent(desk).command("/rejoindre 1")

    chat.type("Quelle adresse dois-je mettre ?")

    outcome = chat.outcomes[-1]
    assert not outcome.delete_incoming
    assert said_to(outcome, MARIE) == ["🙋 Jean\u202f: Quelle adresse dois-je mettre ?"]
    conversation = desk.toolkit.store.load_conversation(chat.chat_id)
    assert conversation is not None and conversation.state == "asking_admin_email"


def test_a_message_for_the_agent_refused_in_english_says_so_in_english(desk: Desk) -> None:
    chat, _ = desk.opened_chat(language="en")
    chat.press("Parler à un conseiller")
    agent(desk).command("/rejoindre 1")
    reply = chat.type(f"is {ADMIN_PASSWORD} a good password?")
    assert chat.outcomes[-1].delete_incoming and reply.text.startswith("This message was deleted and not passed on")
