"""A reply the Bot API fails to take, after the answer it replies to was saved: retried, and if it
still cannot go, the person is never asked to type again what was kept."""

from bot.config import Settings
from bot.send_retry import RETRY_WAITS
from tests.conftest import running_bot
from tests.fake_bot_api import FakeBotAPI
from tests.telegram_user import TelegramUser
from tests.test_webhook import subscription_code

PASSWORD = "Tournesol2026"
BAD_GATEWAY = {"error_code": 502, "description": "Bad Gateway"}


async def test_a_reply_refused_once_by_a_502_is_sent_again(bot_api: FakeBotAPI, settings: Settings) -> None:
    code = subscription_code(settings, bot_api.username)
    admin = TelegramUser(bot_api, 751)
    async with running_bot(settings, bot_api):
        await admin.send(f"/start {code}")
        await admin.press("CRÉER mon compte Administrateur")
        bot_api.fail_in_chat[admin.id] = [BAD_GATEWAY]
        asked = await admin.send("Dupont")
        assert "Quel est votre prénom" in asked.text
        await admin.send("Jean")
        await admin.send("jean@garage-dupont.fr")
        review = await admin.send(PASSWORD)
    assert "Nom\u202f: Dupont" in review.text and "Prénom\u202f: Jean" in review.text
    assert not any("erreur" in (m.text or "") for m in admin.messages if m.from_bot)


async def test_a_reply_that_cannot_be_sent_says_the_answer_was_kept_and_asks_the_next_question(
        bot_api: FakeBotAPI, settings: Settings) -> None:
    code = subscription_code(settings, bot_api.username)
    admin = TelegramUser(bot_api, 752)
    async with running_bot(settings, bot_api):
        await admin.send(f"/start {code}")
        await admin.press("CRÉER mon compte Administrateur")
        bot_api.fail_in_chat[admin.id] = [BAD_GATEWAY] * (len(RETRY_WAITS) + 1)
        told = await admin.send("Dupont")
        assert "pris en compte" in told.text and "Inutile de le renvoyer" in told.text
        assert "réessayez" not in told.text
        assert "Quel est votre prénom" in told.text
        await admin.send("Jean")
        await admin.send("jean@garage-dupont.fr")
        review = await admin.send(PASSWORD)
    assert "Nom\u202f: Dupont" in review.text and "Prénom\u202f: Jean" in review.text
