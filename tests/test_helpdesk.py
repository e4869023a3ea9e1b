"""End to end: an administrator stuck in step 1, two agents stepping in, and someone who is not an agent."""

import json

import pytest

from bot.config import Settings
from tests.conftest import running_bot
from tests.fake_bot_api import FakeBotAPI
from tests.telegram_user import TelegramUser
from tests.test_telegram_journey import PASSWORD, create_admin, open_subscription

MARIE, PAUL, STRANGER = 701, 702, 666


@pytest.fixture
def agent_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"helpdesk_agent_ids": frozenset({MARIE, PAUL})})


async def start_admin(api: FakeBotAPI, settings: Settings, capsys, chat: int = 601) -> TelegramUser:
    opened = await open_subscription(settings, capsys, "comptabilite", 1)
    admin = TelegramUser(api, chat, "Jean")
    await admin.send(f"/start {opened['code']}")
    return admin


async def asking_for_help(api: FakeBotAPI, settings: Settings, capsys, agent: TelegramUser) -> TelegramUser:
    """An administrator who pressed Parler à un conseiller, once the agent has the request's card."""
    admin = await start_admin(api, settings, capsys)
    await admin.press("Parler à un conseiller")
    await agent.sees("Demande d'aide n° 1")
    return admin


async def test_two_agents_join_talk_steer_and_hand_back(bot_api: FakeBotAPI, agent_settings: Settings, capsys):
    marie, paul = TelegramUser(bot_api, MARIE, "Marie"), TelegramUser(bot_api, PAUL, "Paul")
    async with running_bot(agent_settings, bot_api):
        admin = await start_admin(bot_api, agent_settings, capsys)
        await create_admin(admin, own_user=False)
        queued = await admin.press("Parler à un conseiller")
        assert "demande n° 1" in queued.text and "position 1" in queued.text
        assert "Annuler la demande d'aide" in str(admin.labels(queued))
        notice = await marie.sees("Demande d'aide n° 1")
        assert "Jean" in notice.text and "Étape 1/4" in notice.text
        await paul.sees("Demande d'aide n° 1")
        queue = await marie.send("/file")
        assert "n° 1 — Jean" in queue.text and "Étape 1/4" in queue.text

        recap = await marie.press("Rejoindre", message=notice)
        assert "Nom : Dupont" in recap.text and "défini (jamais affiché)" in recap.text and "••••••" in recap.text
        joined = await admin.sees("Marie, conseiller, a rejoint la conversation")
        assert "Terminer l'aide" in str(admin.labels(joined))

        asked = await admin.send("Dois-je cocher la case ?", reply_in=marie)
        assert asked.text == "🙋 Jean : Dois-je cocher la case ?"
        answered = await marie.send("Oui, si vous utilisez Sage 50 vous-même.", reply_in=admin)
        assert answered.text == "👤 Marie (conseiller) : Oui, si vous utilisez Sage 50 vous-même."
        await admin.send_photo("écran", reply_in=marie)
        copy = bot_api.method_calls("copyMessage")[-1]
        assert copy["chat_id"] == MARIE and copy["from_chat_id"] == admin.id and "Jean" in copy["caption"]

        await paul.send("/rejoindre 1")
        await marie.sees("Paul a rejoint la demande n° 1")
        await admin.sees("Paul, conseiller, a rejoint la conversation")
        await paul.send("Je reste en copie.", reply_in=admin)
        await marie.sees("👤 Paul : Je reste en copie.")

        state = await marie.send("/etat")
        steered = await marie.press("Renvoyer à l'étape 1", message=state)
        assert "revient à l'étape 1" in steered.text
        back = await admin.sees("Marie vous ramène à l'étape 1")
        assert "Nom : Dupont" in back.text and "Vérifiez votre compte administrateur" in back.text

        await marie.send("/quitter")
        await admin.sees("Marie a quitté la conversation")
        ended = await admin.press("Terminer l'aide")
        assert "L'aide est terminée" in ended.text and "Vérifiez votre compte administrateur" in ended.text
        await paul.sees("Jean a terminé l'aide (demande n° 1)")
        rating = await admin.sees("Ce conseiller vous a-t-il aidé")  # the article's question, once the help ends
        assert "5/5" in (await admin.press("5", rating)).text
        await paul.sees("Demande n° 1\u202f: votre aide a été notée 5/5.")
        assert "Le compte administrateur est à présent configuré." in (await admin.press("Confirmer", ended)).text
        assert "Aucune demande en attente" in (await paul.send("/file")).text
    every_agent_message = [m.text or "" for chat in (MARIE, PAUL) for m in bot_api.chats[chat]]
    assert not any(PASSWORD in text for text in every_agent_message)
    assert not any(PASSWORD in json.dumps(params) for method, params in bot_api.calls if method != "getUpdates")


async def test_someone_who_is_not_an_agent_is_refused_everything(bot_api: FakeBotAPI, agent_settings: Settings, capsys):
    stranger = TelegramUser(bot_api, STRANGER, "Eve")
    async with running_bot(agent_settings, bot_api):
        admin = await start_admin(bot_api, agent_settings, capsys)
        await admin.press("Parler à un conseiller")
        for command in ("/file", "/queue", "/rejoindre 1", "/join 1", "/rejoindre 99", "/quitter", "/leave"):
            refused = await stranger.send(command)
            assert refused.text == "Cette commande est réservée aux conseillers."
        before = bot_api.outputs(admin.id)
        bot_api.press(stranger.user, stranger.last, "hd|join|1")
        await stranger.sees("réservée aux conseillers")
        assert bot_api.outputs(admin.id) == before
        assert "Jean" not in str([m.text for m in bot_api.chats[STRANGER]])


async def test_a_restart_keeps_the_agent_in_and_blocked_chats_are_reported(bot_api: FakeBotAPI, agent_settings: Settings, capsys):
    marie = TelegramUser(bot_api, MARIE, "Marie")
    async with running_bot(agent_settings, bot_api):
        admin = await asking_for_help(bot_api, agent_settings, capsys, marie)
        await marie.send("/rejoindre 1")
    async with running_bot(agent_settings, bot_api):
        relayed = await admin.send("Toujours là ?", reply_in=marie)
        assert relayed.text == "🙋 Jean : Toujours là ?"
        bot_api.blocked.add(admin.id)
        reported = await marie.send("Oui !")
        assert "n'a pas pu être remis à Jean" in reported.text


SUPPORT_GROUP = -100500


async def test_a_forum_support_group_gets_a_topic_per_request(bot_api: FakeBotAPI, settings: Settings, capsys):
    group_settings = settings.model_copy(update={"helpdesk_chat_id": SUPPORT_GROUP})
    bot_api.forums.add(SUPPORT_GROUP)
    bot_api.group_members.add(MARIE)
    marie = TelegramUser(bot_api, MARIE, "Marie")
    async with running_bot(group_settings, bot_api):
        admin = await start_admin(bot_api, group_settings, capsys)
        await admin.press("Parler à un conseiller")
        await bot_api.wait_until(lambda: any(m.thread_id for m in bot_api.chats.get(SUPPORT_GROUP, [])))
        card = next(m for m in bot_api.chats[SUPPORT_GROUP] if m.thread_id)
        assert "Demande d'aide n° 1" in card.text
        assert bot_api.method_calls("createForumTopic")[0]["name"] == "Demande n° 1 — Jean"

        before = bot_api.outputs(admin.id)
        bot_api.user_message(marie.user, chat_id=SUPPORT_GROUP, thread_id=card.thread_id, text="Bonjour Jean !")
        said = await admin.sees("👤 Marie (conseiller) : Bonjour Jean !")
        assert bot_api.outputs(admin.id) > before and said
        await admin.sees("Marie, conseiller, a rejoint la conversation")

        group = TelegramUser(bot_api, SUPPORT_GROUP, "Support")
        await admin.send("Merci !", reply_in=group)
        in_topic = [m for m in bot_api.chats[SUPPORT_GROUP] if m.from_bot and m.text == "🙋 Jean : Merci !"]
        assert in_topic and in_topic[0].thread_id == card.thread_id
        assert not any("Merci" in (m.text or "") for m in bot_api.chats.get(MARIE, []))

        outsider = {"id": 777, "is_bot": False, "first_name": "Eve", "language_code": "fr"}
        bot_api.user_message(outsider, chat_id=SUPPORT_GROUP, thread_id=card.thread_id, text="coucou")
        bot_api.user_message(marie.user, chat_id=SUPPORT_GROUP, thread_id=card.thread_id, text="Je reviens.")
        await admin.sees("Je reviens.")
        assert not any("coucou" in (m.text or "") for m in bot_api.chats[admin.id])

        await admin.press("Terminer l'aide")
        ended = await group.sees("Jean a terminé l'aide (demande n° 1)")
        assert ended.thread_id == card.thread_id
        assert not any("terminé l'aide" in (m.text or "") for m in bot_api.chats.get(MARIE, []))


async def test_agents_hear_when_a_request_is_cancelled(bot_api: FakeBotAPI, agent_settings: Settings, capsys):
    marie = TelegramUser(bot_api, MARIE, "Marie")
    async with running_bot(agent_settings, bot_api):
        admin = await asking_for_help(bot_api, agent_settings, capsys, marie)
        cancelled = await admin.press("Annuler la demande d'aide")
        assert "Votre demande d'aide est annulée" in cancelled.text
        await marie.sees("La demande n° 1 (Jean) a été annulée par son auteur.")
        assert "Aucune demande en attente" in (await marie.send("/file")).text


async def test_a_stranger_asking_and_cancelling_in_a_loop_reaches_agents_a_few_times_even_across_a_restart(
        bot_api: FakeBotAPI, agent_settings: Settings):
    marie = TelegramUser(bot_api, MARIE, "Marie")
    stranger = TelegramUser(bot_api, STRANGER, "Spam")
    async with running_bot(agent_settings, bot_api):
        for _ in range(6):
            asked = await stranger.send("/aide")
            if "Annuler la demande d'aide" in str(stranger.labels(asked)):
                await stranger.press("Annuler la demande d'aide", message=asked)
        assert "plusieurs demandes d'aide depuis une heure" in asked.text and "minutes" in asked.text
    async with running_bot(agent_settings, bot_api):
        again = await stranger.send("/aide")
        assert "plusieurs demandes d'aide depuis une heure" in again.text
    to_agent = [m for m in marie.messages if m.from_bot]
    assert 1 <= len(to_agent) <= 4 and len(bot_api.method_calls("sendMessage")) < 30


async def test_without_agents_the_operator_is_warned_and_aide_sends_people_to_support(
        bot_api: FakeBotAPI, settings: Settings, capsys, caplog: pytest.LogCaptureFixture):
    settings = settings.model_copy(update={"support_contact": "support@editeur.example"})
    with caplog.at_level("WARNING", logger="bot.app"):
        async with running_bot(settings, bot_api):
            admin = await start_admin(bot_api, settings, capsys)
            reply = await admin.send("/aide")
            assert "Aucun conseiller n'est disponible" in reply.text and "support@editeur.example" in reply.text
            english = TelegramUser(bot_api, 602, "John", language="en")
            assert "No advisor is available" in (await english.send("/aide")).text
    assert any("help desk off" in record.getMessage() for record in caplog.records)
