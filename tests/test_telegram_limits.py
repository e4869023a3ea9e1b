"""Telegram's size limits: long texts are split, the agents' queue is paged, nothing fails for being long."""

import time

import pytest

from bot.config import Settings
from bot.telegram_limits import split_text, units
from flows.records import Conversation, HelpQueue, Ticket
from storage.tinydb_store import TinyDBStore
from tests.conftest import running_bot
from tests.fake_bot_api import ChatMessage, FakeBotAPI
from tests.telegram_user import TelegramUser
from tests.test_helpdesk import MARIE, start_admin

LONG_NAME = "Marie-Christine-Alexandra-Bérénice-Gwendoline-Maximilienne-Ulla"  # 63 characters


def test_a_short_text_is_one_part() -> None:
    assert split_text("Bonjour", 10) == ["Bonjour"]


def test_paragraphs_are_kept_whole_when_they_fit() -> None:
    text = "un deux\n\ntrois quatre\n\ncinq"
    assert split_text(text, 14) == ["un deux", "trois quatre", "cinq"]
    assert split_text(text, 21) == ["un deux\n\ntrois quatre", "cinq"]


def test_a_long_paragraph_is_cut_at_lines_then_at_words_never_inside_one() -> None:
    assert split_text("ligne un\nligne deux\nligne trois", 20) == ["ligne un\nligne deux", "ligne trois"]
    parts = split_text("le chat mange la souris grise", 10)
    assert parts == ["le chat", "mange la", "souris", "grise"]


def test_only_a_word_longer_than_a_part_is_cut() -> None:
    assert split_text("a " + "x" * 12, 5) == ["a", "xxxxx", "xxxxx", "xx"]


def test_parts_are_measured_as_telegram_does_and_never_split_an_emoji() -> None:
    parts = split_text("😀" * 5, 4)
    assert parts == ["😀😀", "😀😀", "😀"] and all(units(part) <= 4 for part in parts)


def test_a_blank_text_is_one_empty_part_never_none() -> None:
    assert split_text(" " * 5000) == [""] and split_text("") == [""]


def test_nothing_is_lost_but_the_separators_cut_at() -> None:
    text = "\n\n".join(f"Paragraphe {n} : " + " ".join(f"mot{m}" for m in range(300)) for n in range(8))
    parts = split_text(text)
    assert len(parts) > 1 and all(units(part) <= 4096 for part in parts)
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())


@pytest.fixture
def agent_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"helpdesk_agent_ids": frozenset({MARIE})})


async def outputs_settle(api: FakeBotAPI, user: TelegramUser, count: int) -> list[ChatMessage]:
    """The bot's last `count` messages in the chat, once it has written them."""
    await api.wait_until(lambda: len([m for m in user.messages if m.from_bot]) >= count)
    return [m for m in user.messages if m.from_bot][-count:]


async def test_a_recap_longer_than_telegram_allows_arrives_in_parts_buttons_on_the_last(
        bot_api: FakeBotAPI, agent_settings: Settings, capsys):
    marie = TelegramUser(bot_api, MARIE, "Marie")
    async with running_bot(agent_settings, bot_api):
        admin = await start_admin(bot_api, agent_settings, capsys)
        for n in range(12):  # each line of the transcript is kept up to 300 characters
            await admin.send(f"Question {n} : " + "je ne trouve pas le bouton " * 12)
        await admin.press("Parler à un conseiller")
        card = await marie.sees("Demande d'aide n° 1")

        before = len(marie.messages)
        await marie.press("Rejoindre", message=card)
        await bot_api.wait_until(lambda: len(marie.messages) > before and bool(marie.messages[-1].buttons()))
        edited, *sent = [card, *marie.messages[before:]]
        assert "Vous avez rejoint la demande n° 1" in (edited.text or "") and edited.buttons() == []
        assert sent and all(not m.buttons() for m in sent[:-1]) and "Renvoyer à l'étape 1" in str(marie.labels(sent[-1]))
        assert "Question 11" in (sent[-1].text or "")

        for n in range(8):  # now relayed to Marie, and kept in the transcript too
            await admin.send(f"Relance {n} : " + "toujours bloqué sur cet écran " * 10, reply_in=marie)
        before = len(marie.messages)
        await marie.send("/etat")
        await bot_api.wait_until(lambda: len(marie.messages) > before + 1 and bool(marie.messages[-1].buttons()))
        parts = marie.messages[before + 1:]  # after the /etat Marie typed
        assert len(parts) >= 2 and all(units(m.text or "") <= 4096 for m in parts)
        assert "Relance 7" in (parts[-1].text or "") and "Renvoyer à l'étape 1" in str(marie.labels(parts[-1]))
        assert not [p for _, p in bot_api.calls if "too long" in str(p)]


async def test_a_photo_whose_caption_would_be_too_long_is_copied_and_followed_by_the_text(
        bot_api: FakeBotAPI, agent_settings: Settings, capsys):
    marie = TelegramUser(bot_api, MARIE, "Marie")
    async with running_bot(agent_settings, bot_api):
        admin = await start_admin(bot_api, agent_settings, capsys)
        await admin.press("Parler à un conseiller")
        await marie.press("Rejoindre", message=await marie.sees("Demande d'aide n° 1"))
        await admin.sees("Marie, conseiller, a rejoint la conversation")
        caption = "Voici mon écran. " * 60  # 1,020 characters: the bot's « 🙋 Jean : » makes it too long
        before = len(marie.messages)
        await admin.send_photo(caption, reply_in=marie)
        await bot_api.wait_until(lambda: len(marie.messages) >= before + 2)
        copy, text = marie.messages[before:before + 2]
        assert bot_api.method_calls("copyMessage")[-1]["caption"] == "" and copy.text == ""
        assert text.text == "🙋 Jean : " + caption


def seed_queue(settings: Settings, count: int) -> None:
    """`count` open requests from people with long names, as if they had asked before the restart."""
    store = TinyDBStore(settings.database_dir, fsync=False)
    tickets = [Ticket(n, 10_000 + n, None, f"{LONG_NAME} {n}", time.time() - 60 * n) for n in range(1, count + 1)]
    for ticket in tickets:
        store.save_conversation(Conversation(ticket.chat_id, "awaiting_code", help_ticket=ticket.number))
    store.save_queue(HelpQueue(count + 1, tickets))


async def test_sixty_requests_are_paged_ten_at_a_time_with_next_and_previous(
        bot_api: FakeBotAPI, agent_settings: Settings):
    seed_queue(agent_settings, 60)
    marie = TelegramUser(bot_api, MARIE, "Marie")
    async with running_bot(agent_settings, bot_api):
        page = await marie.send("/file")
        assert "60 demandes en attente" in (page.text or "") and "page 1/6" in (page.text or "")
        assert f"n° 10 — {LONG_NAME} 10" in (page.text or "") and "n° 11 —" not in (page.text or "")
        labels = marie.labels(page)
        assert sum("Rejoindre" in label for label in labels) == 10 and "Suivant ➡️" in labels
        assert not any("Précédent" in label for label in labels)

        for number in range(2, 7):
            page = await marie.press("Suivant", message=page)
            assert f"page {number}/6" in (page.text or "") and f"n° {number * 10} —" in (page.text or "")
        assert "n° 51 —" in (page.text or "") and not any("Suivant" in label for label in marie.labels(page))
        page = await marie.press("Précédent", message=page)
        assert "page 5/6" in (page.text or "") and "n° 41 —" in (page.text or "")
        assert all(len(b["callback_data"].encode()) <= 64 for m in marie.messages for b in m.buttons())
        assert len([m for m in marie.messages if m.from_bot]) == 1  # every page replaced the same message

        joined = await marie.press("Rejoindre n° 45", message=page)
        assert "Vous avez rejoint la demande n° 45" in (joined.text or "")
