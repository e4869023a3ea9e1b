"""Kill -9 in the middle of a setup: a new process on the same data picks the chat up exactly there."""

import asyncio
import os
import shutil
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.app import build_toolkit
from bot.config import Settings
from flows.subscriptions import open_subscription
from tests.fake_bot_api import FakeBotAPI
from tests.telegram_user import TelegramUser

PASSWORD = "Tournesol2026"


def flexbot_run() -> list[str]:
    """The installed `flexbot run`, or the same entry point through this interpreter."""
    script = shutil.which("flexbot", path=str(Path(sys.executable).parent))
    return [script, "run"] if script else [sys.executable, "-c", "from bot.cli import main; main(['run'])"]


def environment(settings: Settings) -> dict[str, str]:
    """This test's settings as the process would read them; nothing inherited can point elsewhere."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "FLEXBOT_"))}
    assert settings.telegram_bot_token is not None and settings.telegram_api_base_url is not None
    return {**inherited, "TELEGRAM_BOT_TOKEN": settings.telegram_bot_token.get_secret_value(),
            "TELEGRAM_API_BASE_URL": settings.telegram_api_base_url,
            "FLEXBOT_DATA_DIR": str(settings.flexbot_data_dir), "LOG_LEVEL": "WARNING"}


@asynccontextmanager
async def bot_process(settings: Settings, api: FakeBotAPI, log: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    """`flexbot run` in a process of its own, once it polls the fake Bot API."""
    polls = len(api.method_calls("getUpdates"))
    with log.open("ab") as output:
        process = await asyncio.create_subprocess_exec(*flexbot_run(), env=environment(settings), cwd=log.parent,
                                                       stdout=output, stderr=output)
    try:
        await api.wait_until(lambda: len(api.method_calls("getUpdates")) > polls, timeout=30)
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_a_killed_bot_resumes_the_chat_at_the_same_question(bot_api: FakeBotAPI, settings: Settings,
                                                                  tmp_path: Path) -> None:
    toolkit = build_toolkit(settings, bot_api.username)
    opened = open_subscription(toolkit, "achat@garage-dupont.fr", "comptabilite", 1)
    admin = TelegramUser(bot_api, 601)
    log = tmp_path / "flexbot.log"
    async with bot_process(settings, bot_api, log) as process:
        await admin.send(f"/start {opened.code}")
        await admin.press("CRÉER mon compte Administrateur")
        await admin.send("Dupont")
        asked = await admin.send("Jean")
        assert "Quelle Adresse e-mail" in asked.text
        process.send_signal(signal.SIGKILL)
        assert await process.wait() == -signal.SIGKILL
    async with bot_process(settings, bot_api, log) as process:
        resumed = await admin.send("/start")
        assert "Bon retour" in resumed.text and "Quelle Adresse e-mail" in resumed.text, log.read_text()
        await admin.send("jean@garage-dupont.fr")
        review = await admin.send(PASSWORD)
        assert "Nom : Dupont" in review.text and "Prénom : Jean" in review.text
        assert "Adresse e-mail : jean@garage-dupont.fr" in review.text
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 20) == 0, log.read_text()
