"""Limits on what a person can make the bot send: mails per chat and per address, help requests."""

from dataclasses import replace

from flows.assistant import Assistant
from flows.limits import HOUR, address_key
from flows.records import Throttle
from tests.flow_harness import PURCHASE_EMAIL, Chat, Desk, claim, make_toolkit
from tests.test_members_flow import Account, joined

AGENT = 501


def ask_new_address(marie, address: str):
    """From the menu or the code question, back to « Adresse e-mail » and a new address typed."""
    if "Retour" in str(marie.labels()):
        marie.press("Retour")
    if "Adresse e-mail" in str(marie.labels()):
        marie.press("Adresse e-mail")
    return marie.type(address)


def test_an_invited_user_cannot_turn_the_bot_into_a_spam_relay() -> None:
    account = Account()
    marie = joined(account)
    before = len(account.outbox.mails)
    said = [ask_new_address(marie, f"cible{n}@ailleurs.fr").text for n in range(8)]
    assert len(account.outbox.mails) - before == 5  # five mails per chat per hour
    assert "Trop d'e-mails envoyés depuis une heure" in said[5] and "dans 60 minutes" in said[5]
    assert "Quelle nouvelle adresse e-mail souhaitez-vous utiliser ?" in said[5]  # the question again

    account.clock.now += HOUR
    assert "Un code de confirmation vient d'être envoyé" in ask_new_address(marie, "cible9@ailleurs.fr").text


def test_one_address_gets_at_most_three_mails_an_hour_whoever_asks() -> None:
    account = Account()
    marie = joined(account)
    for _ in range(2):  # the invitation already went to Marie's address once
        marie.press("Recevoir le mot de passe pour direct Déclaration")
    refused = marie.press("Recevoir le mot de passe pour direct Déclaration")
    assert "Trop d'e-mails" in refused.text and len([m for m in account.outbox.mails if m.to == "marie@entreprise.fr"]) == 3
    account.admin_reviews("Louis")
    for _ in range(2):
        account.admin.press("Renvoyer l'invitation")
    assert "Trop d'e-mails" in account.admin.press("Renvoyer l'invitation").text
    assert len([m for m in account.outbox.mails if m.to == "louis@entreprise.fr"]) == 3


def test_the_english_message_says_when_in_english() -> None:
    account = Account()
    marie = joined(account)
    marie.language = "en"
    marie.command("/etat")
    for _ in range(3):
        refused = marie.press("Déclaration")
    assert "Too many e-mails sent in the last hour" in refused.text and "in 60 minutes" in refused.text


def test_the_limit_is_kept_in_the_store_and_never_keyed_by_the_address_itself(desk: Desk) -> None:
    opened = desk.open()
    said = [claim(desk.chat(chat_id), opened.subscription.number, PURCHASE_EMAIL) for chat_id in (7, 8, 9, 10)]
    assert len(desk.mails_to(PURCHASE_EMAIL)) == 1 + 3  # the Commencer mail, then three codes, whoever asks
    assert said[3] == said[2]  # past the limit, the same answer: it would tell that the details matched
    throttle = desk.toolkit.store.load_throttle(address_key(PURCHASE_EMAIL.upper()))
    assert isinstance(throttle, Throttle) and len(throttle.times) == 3 and "@" not in throttle.key
    desk.clock.now += 2 * HOUR
    claim(desk.chat(11), opened.subscription.number, PURCHASE_EMAIL)
    assert len(desk.toolkit.store.load_throttle(address_key(PURCHASE_EMAIL)).times) == 1  # pruned


def test_asking_for_help_and_cancelling_in_a_loop_reaches_agents_a_bounded_number_of_times() -> None:
    toolkit, _, clock = make_toolkit()
    toolkit = replace(toolkit, settings=replace(toolkit.settings, agent_ids=frozenset({AGENT})))
    stranger = Chat(Assistant(toolkit), 66)
    to_agents, said = 0, []
    for _ in range(10):
        stranger.command("/aide")
        to_agents += sum(d.chat_id == AGENT for d in stranger.outcomes[-1].deliveries)
        said.append(stranger.last.text)
        if "Annuler la demande d'aide" in str(stranger.labels()):
            stranger.press("Annuler la demande d'aide")
            to_agents += sum(d.chat_id == AGENT for d in stranger.outcomes[-1].deliveries)
    queue = toolkit.store.load_queue()
    assert queue.next_number == 4 and to_agents <= 4  # three tickets, at most four notices
    assert "Vous avez déjà fait plusieurs demandes d'aide depuis une heure" in said[3]
    assert "Pour commencer, cliquez sur le bouton « Commencer »" in said[3]  # and the current question again
    clock.now += HOUR
    stranger.command("/aide")
    assert "Votre demande n° 4" in stranger.last.text
