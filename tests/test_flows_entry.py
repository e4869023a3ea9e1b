"""Step 0 and what works everywhere: the Commencer link, the no-e-mail path, commands, odd input."""

import pytest

from flows.boundary import Event
from tests.flow_harness import PURCHASE_EMAIL, Chat, Desk, claim, fill_admin

DAY = 24 * 3600


def test_the_commencer_link_greets_with_offer_product_and_seats(desk: Desk) -> None:
    chat, opened = desk.opened_chat(product="paye", seats=3)
    greeting = chat.last.text
    assert "Offre : « Souscription »" in greeting and "Logiciel : Ciel Paye" in greeting
    assert "Nombre d'utilisateurs : 3" in greeting and opened.subscription.number in greeting
    assert "Étape 1/4 — Compte administrateur" in greeting
    assert opened.link == f"https://t.me/TestBot?start={opened.code}" and len(opened.code) <= 64


def test_a_plain_start_explains_the_ciel_route_and_offers_the_no_email_path(desk: Desk) -> None:
    chat = desk.chat()
    entry = chat.command("/start")
    assert "Espace Mon Compte" in entry.text and "Mon équipement | Mes solutions" in entry.text
    assert "Je n'ai pas reçu l'e-mail" in chat.labels(entry)


ASKED_FOR_CODE = "Si ces informations correspondent à un abonnement, un code d'activation vient d'être envoyé"


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_outcome_of_the_no_email_check_gets_the_same_answer(desk: Desk, language: str) -> None:
    """Match, wrong number, wrong address, a code sent a moment ago, the mail limit: one answer."""
    number = desk.open().subscription.number
    first = desk.chat(10, language)
    answers = [claim(first, number, PURCHASE_EMAIL)]
    answers += [claim(desk.chat(11 + i, language), claimed, address) for i, (claimed, address) in enumerate([
        ("FLX00000000", PURCHASE_EMAIL), (number, "autre@ailleurs.fr"), ("FLX00000000", "autre@ailleurs.fr")])]
    answers.append(claim(first, number, PURCHASE_EMAIL))  # within the minute: no second code
    for minute in range(1, 4):  # the purchase address reaches its three mails an hour
        desk.clock.now += 61
        answers.append(claim(desk.chat(20 + minute, language), number, PURCHASE_EMAIL))
    assert len(set(answers)) == 1 and "⚠️" not in answers[0]
    assert (ASKED_FOR_CODE if language == "fr" else "If these details match a subscription") in answers[0]
    assert len(desk.mails_to(PURCHASE_EMAIL)) == 4  # the subscription's e-mail, then three codes: the limit


@pytest.mark.parametrize(("language", "said"), [("fr", "Cette adresse e-mail n'est pas valide"),
                                                  ("en", "This e-mail address is not valid")])
def test_an_address_that_cannot_be_one_gets_its_own_message_and_is_asked_again(desk: Desk, language: str,
                                                                             said: str) -> None:
    number = desk.open().subscription.number
    reply = claim(desk.chat(language=language), number, "achat-entreprise.fr")
    assert said in reply and "achat" not in reply.split(said)[0]
    assert ("Quelle adresse e-mail" if language == "fr" else "e-mail address") in reply.rsplit("\n\n", 1)[1]


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_ciel_route_stays_in_sight_once_the_no_email_path_is_chosen(desk: Desk, language: str) -> None:
    chat = desk.chat(language=language)
    chat.command("/start")
    asked = chat.press("Je n'ai pas reçu l'e-mail" if language == "fr" else "I did not get the e-mail")
    assert "Espace Mon Compte" in asked.text and "Mon équipement | Mes solutions" in asked.text
    assert chat.outcomes[-1].in_place  # it replaces the message that said it


@pytest.mark.parametrize(("language", "shown"), [("fr", "1\u202f200"), ("en", "1,200")])
def test_counts_are_written_as_the_language_writes_numbers(desk: Desk, language: str, shown: str) -> None:
    """A subscription opened before seats were bounded (or by another tool) keeps its count readable."""
    opened = desk.open(seats=3)
    account = desk.account(opened.subscription.number)
    account.seats = 1200
    desk.toolkit.store.save_subscription(account)
    chat = desk.chat(language=language)
    greeting = chat.command(f"/start {opened.code}").text
    assert shown in greeting and "1200" not in greeting
    state = chat.command("/etat").text
    assert f"{shown} " in state and f"0 / {shown}" in state and "1200" not in state


def test_the_purchase_address_proven_a_code_is_mailed_and_opens_the_subscription(desk: Desk) -> None:
    number = desk.open(seats=2).subscription.number
    chat = desk.chat()
    asked = claim(chat, f" {number.lower()} ", "ACHAT@entreprise.fr")
    assert "Saisissez ce code ici" in asked and "valable 15 minutes" in asked
    code = desk.emailed_code()
    assert code not in asked
    wrong = chat.type("AAAAAAAA")
    assert "Ce code n'est pas valable" in wrong.text
    welcome = chat.type(code.lower())
    assert "Nombre d'utilisateurs : 2" in welcome.text and number in welcome.text



def test_once_the_emailed_code_opens_the_subscription_retour_never_leads_back_into_the_entry_path(
        desk: Desk) -> None:
    number = desk.open().subscription.number
    chat = desk.chat()
    claim(chat, number, PURCHASE_EMAIL)
    welcome = chat.type(desk.emailed_code())
    assert "Retour" not in str(chat.labels(welcome))
    chat.press("CRÉER mon compte Administrateur")
    back = chat.press("Retour")
    assert "Bienvenue" in back.text and "Retour" not in str(chat.labels(back))
    conversation = desk.toolkit.store.load_conversation(chat.chat_id)
    assert conversation is not None and "claimed_number" not in conversation.answers

def test_the_emailed_code_is_bound_to_the_chat_that_asked(desk: Desk) -> None:
    claim(desk.chat(7), desk.open().subscription.number, PURCHASE_EMAIL)
    stranger = desk.chat(8)
    refused = stranger.command(f"/start {desk.emailed_code()}")
    assert "Ce lien d'activation n'est pas ou plus valable" in refused.text
    assert "CRÉER mon compte Administrateur" not in " ".join(stranger.labels(refused))


def test_the_emailed_code_expires_after_15_minutes(desk: Desk) -> None:
    number = desk.open().subscription.number
    chat = desk.chat()
    claim(chat, number, PURCHASE_EMAIL)
    desk.clock.now += 15 * 60 + 1
    refused = chat.type(desk.emailed_code())
    assert "Ce code n'est pas valable" in refused.text and "Saisissez ce code ici" in refused.text


def test_the_emailed_code_is_used_up_by_the_chat_that_redeems_it(desk: Desk) -> None:
    number = desk.open().subscription.number
    chat = desk.chat()
    claim(chat, number, PURCHASE_EMAIL)
    code = desk.emailed_code()
    chat.type(code)
    used = desk.toolkit.store.load_code(code)
    assert used is not None and used.used_at == desk.clock.now and used.used_by_chat == chat.chat_id


def test_a_new_code_can_be_asked_for_from_the_code_question(desk: Desk) -> None:
    number = desk.open().subscription.number
    chat = desk.chat()
    claim(chat, number, PURCHASE_EMAIL)
    again = chat.press("Recevoir un nouveau code")
    assert "Quel est votre numéro d'abonnement" in again.text


def test_repeated_wrong_codes_lock_the_chat_out_for_longer_each_time(desk: Desk) -> None:
    number = desk.open().subscription.number
    chat = desk.chat()
    claim(chat, number, PURCHASE_EMAIL)
    for wrong in ("AAAAAAAA", "BBBBBBBB", "CCCCCCCC"):
        assert "Ce code n'est pas valable" in chat.type(wrong).text
    locked = chat.type(desk.emailed_code())
    assert "Trop d'essais infructueux. Réessayez dans 1 minute." in locked.text
    desk.clock.now += 61
    chat.type("DDDDDDDD")
    assert "Réessayez dans 2 minutes." in chat.type(desk.emailed_code()).text
    desk.clock.now += 121
    assert "Nombre d'utilisateurs : 1" in chat.type(desk.emailed_code()).text


def test_guessing_codes_counts_towards_the_lock_out(desk: Desk) -> None:
    chat = desk.chat()
    for guess in ("AAAAAAAA", "BBBBBBBB", "CCCCCCCC"):
        chat.command(f"/start {guess}")
    opened = desk.open()
    locked = chat.command(f"/start {opened.code}")
    assert "Trop d'essais infructueux" in locked.text and "Bienvenue" not in locked.text


@pytest.mark.parametrize("code", ["inconnu", "a/b", "x" * 65, "../codes"])
def test_a_malformed_start_code_is_explained_and_not_counted(desk: Desk, code: str) -> None:
    chat = desk.chat()
    for _ in range(4):
        refused = chat.command(f"/start {code}")
    assert "Ce n'est pas un code d'activation" in refused.text and "Trop d'essais" not in refused.text
    assert "Je n'ai pas reçu l'e-mail" in " ".join(chat.labels(refused))
    assert desk.toolkit.store.load_conversation(chat.chat_id).failures == 0


def test_an_unknown_link_code_of_the_right_shape_is_refused_and_counted(desk: Desk) -> None:
    chat = desk.chat()
    refused = chat.command(f"/start {'x' * 22}")
    assert "Ce lien d'activation n'est pas ou plus valable" in refused.text
    assert desk.toolkit.store.load_conversation(chat.chat_id).failures == 1


def test_an_expired_commencer_link_is_refused(desk: Desk) -> None:
    opened = desk.open()
    desk.clock.now += 30 * DAY + 1
    refused = desk.chat().command(f"/start {opened.code}")
    assert "Ce lien d'activation n'est pas ou plus valable" in refused.text


def test_a_used_commencer_link_works_again_from_the_same_chat_only(desk: Desk) -> None:
    chat, opened = desk.opened_chat()
    chat.press("CRÉER mon compte Administrateur")
    chat.type("Dupont")
    again = chat.command(f"/start {opened.code}")
    assert "Bon retour" in again.text and "Quel est votre prénom" in again.text
    refused = desk.chat(8).command(f"/start {opened.code}")
    assert "Ce lien d'activation n'est pas ou plus valable" in refused.text


def test_a_plain_start_twice_keeps_the_answers(desk: Desk) -> None:
    chat, _ = desk.opened_chat()
    chat.press("CRÉER mon compte Administrateur")
    chat.type("Dupont")
    chat.command("/start")
    resumed = chat.command("/start")
    assert "Bon retour" in resumed.text and "Quel est votre prénom" in resumed.text
    chat.type("Jean")
    chat.type("jean@entreprise.fr")
    assert "Nom : Dupont" in chat.type("Tournesol2026").text


def test_an_update_delivered_twice_is_handled_once(desk: Desk) -> None:
    chat, _ = desk.opened_chat()
    chat.press("CRÉER mon compte Administrateur")
    chat.type("Dupont")
    replayed = chat.deliver(Event.typed("Martin", update_id=chat.update_id))
    assert replayed.duplicate and "Quel est votre prénom" in replayed.replies[-1].text
    assert "Nom : Dupont" in fill_rest(chat)


def test_update_ids_restarting_lower_after_a_quiet_week_are_still_handled(desk: Desk) -> None:
    """Telegram picks the next update id at random after a week without updates, lower ones included."""
    chat, _ = desk.opened_chat()
    chat.update_id = 900_000
    chat.press("CRÉER mon compte Administrateur")
    chat.update_id = 41
    assert "Quel est votre prénom" in chat.type("Dupont").text
    assert not chat.outcomes[-1].duplicate


def fill_rest(chat: Chat) -> str:
    """From the first-name question to the review's text."""
    chat.type("Jean")
    chat.type("jean@entreprise.fr")
    return chat.type("Tournesol2026").text


def test_english_speakers_get_the_english_catalogue(desk: Desk) -> None:
    chat, _ = desk.opened_chat(language="en")
    assert "Welcome!" in chat.last.text
    asked = chat.press("CRÉER mon compte Administrateur")
    assert "What is your last name?" in asked.text
    assert "Back" in " ".join(chat.labels(asked))


def test_an_unknown_command_lists_the_commands_and_asks_again(desk: Desk) -> None:
    chat, _ = desk.opened_chat()
    chat.press("CRÉER mon compte Administrateur")
    reply = chat.command("/bonjour")
    assert "Commande inconnue. Commandes disponibles : /start, /etat, /aide." in reply.text
    assert "Quel est votre nom" in reply.text


def test_a_sticker_is_explained_and_the_question_asked_again(desk: Desk) -> None:
    chat, number = desk.opened_chat()
    chat.press("CRÉER mon compte Administrateur")
    reply = chat.sticker()
    assert "Je ne peux pas lire ce type de message ici" in reply.text and "Quel est votre nom" in reply.text
    assert "Quel est votre prénom" in chat.type("Dupont").text


def test_text_where_a_button_is_expected_changes_nothing(desk: Desk) -> None:
    chat, opened = desk.opened_chat()
    reply = chat.type("bonjour")
    assert "utilisez les boutons sous la question" in reply.text
    assert "CRÉER mon compte Administrateur" in " ".join(chat.labels(reply))
    assert desk.account(opened.subscription.number).admin is None


def test_etat_shows_the_account_but_never_the_password(desk: Desk) -> None:
    assert "Aucun abonnement n'est encore ouvert" in desk.chat(9).command("/etat").text
    chat, opened = desk.opened_chat()
    fill_admin(chat)
    chat.press("Confirmer")
    state = chat.command("/etat")
    assert opened.subscription.number in state.text and "Jean Dupont (jean.dupont@entreprise.fr)" in state.text
    assert "Tournesol2026" not in state.text and "hashed:" not in state.text
    assert "Étape 3/4" in state.text


@pytest.mark.parametrize(("language", "line"), [
    ("fr", "/état"), ("fr", "/Etat"), ("fr", "/ÉTAT"), ("fr", "/État@FlexBot"), ("en", "/état"), ("en", "/STATE"),
])
def test_etat_is_understood_as_people_type_it(desk: Desk, language: str, line: str) -> None:
    chat, opened = desk.opened_chat(language=language)
    state = chat.command(line)
    assert opened.subscription.number in state.text and "/start, /etat, /aide" not in state.text


def test_asking_for_an_advisor_is_recorded_and_the_question_kept(desk: Desk) -> None:
    chat, opened = desk.opened_chat()
    reply = chat.press("Parler à un conseiller")
    assert "transmise aux conseillers" in reply.text and "CRÉER mon compte Administrateur" in " ".join(chat.labels())
    actions = [entry.action for entry in desk.toolkit.store.audit_trail(opened.subscription.number)]
    assert "help_requested" in actions


def test_asking_again_within_a_minute_sends_no_second_code(desk: Desk) -> None:
    chat, number = desk.chat(7), desk.open().subscription.number
    first = claim(chat, number, PURCHASE_EMAIL)
    chat.press("Recevoir un nouveau code")
    chat.type(number)
    again = chat.type(PURCHASE_EMAIL)
    assert again.text == first  # the same answer; the code sent a moment ago still works
    assert len(desk.mails_to(PURCHASE_EMAIL)) == 2  # the subscription's e-mail, then one code
    assert "Nombre d'utilisateurs : 1" in chat.type(desk.emailed_code()).text


def test_a_new_code_retires_the_previous_one(desk: Desk) -> None:
    chat, number = desk.chat(7), desk.open().subscription.number
    claim(chat, number, PURCHASE_EMAIL)
    first = desk.emailed_code()
    desk.clock.now += 61
    chat.press("Recevoir un nouveau code")
    chat.type(number)
    chat.type(PURCHASE_EMAIL)
    second = desk.emailed_code()
    assert first != second
    assert "Ce code n'est pas valable" in chat.type(first).text
    assert "Nombre d'utilisateurs : 1" in chat.type(second).text
