"""`flexbot run` (or any bot command) as a real process against a fake Bot API, so it can be killed."""

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from tests.fake_bot_api import FakeBotAPI

FLEXBOT = (str(Path(sys.executable).with_name("flexbot")), "run")


def start_bot(api: FakeBotAPI, data_dir: Path, command: Sequence[str] = FLEXBOT,
              environment: Mapping[str, str] | None = None, stderr: int | None = None) -> subprocess.Popen[bytes]:
    """Starts the bot in `data_dir`'s parent, so no developer's `.env` leaks in, and nothing
    inherited (TELEGRAM_*, FLEXBOT_*, SMTP_*, WEBHOOK_*) can point it elsewhere; `environment` adds
    settings."""
    data_dir.mkdir(parents=True, exist_ok=True)
    inherited = {k: v for k, v in os.environ.items()
                 if not k.startswith(("TELEGRAM_", "FLEXBOT_", "SMTP_", "WEBHOOK_"))}
    settings = {**inherited, "TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_BASE_URL": api.base_url,
                "FLEXBOT_DATA_DIR": str(data_dir), "LOG_LEVEL": "WARNING", "PYTHONPATH": os.getcwd(),
                **(environment or {})}
    return subprocess.Popen(list(command), env=settings, cwd=data_dir.parent, stderr=stderr)


def webhook_environment(port: int, secret: str = "test-secret_0123456789") -> dict[str, str]:
    """Webhook mode on a loopback port, with a configured secret (the same across restarts)."""
    return {"WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram", "WEBHOOK_LISTEN": f"127.0.0.1:{port}",
            "WEBHOOK_SECRET": secret}


async def wait_webhook(api: FakeBotAPI, process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """Returns once the process has registered its webhook (it listens before it registers)."""
    registered = len(api.answered_calls("setWebhook"))
    await api.wait_until(lambda: len(api.answered_calls("setWebhook")) > registered or process.poll() is not None,
                         timeout)
    assert process.poll() is None, f"the bot exited with {process.returncode}"


@asynccontextmanager
async def bot_process(api: FakeBotAPI, data_dir: Path, command: Sequence[str] = FLEXBOT,
                      environment: Mapping[str, str] | None = None) -> AsyncIterator[subprocess.Popen[bytes]]:
    """The bot as a process, once it polls (or has registered its webhook); killed on the way out
    whatever happened, so a failed test never leaves a bot running."""
    process = start_bot(api, data_dir, command, environment)
    try:
        await (wait_webhook if "WEBHOOK_URL" in (environment or {}) else wait_polling)(api, process)
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            await asyncio.to_thread(process.wait)


async def wait_polling(api: FakeBotAPI, process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """Returns once the process asks for updates (its start-up is over); fails if it died first."""
    polls = len(api.method_calls("getUpdates"))
    await api.wait_until(lambda: len(api.method_calls("getUpdates")) > polls or process.poll() is not None, timeout)
    assert process.poll() is None, f"the bot exited with {process.returncode}"


async def stop_bot(process: subprocess.Popen[bytes], signum: int = signal.SIGTERM, timeout: float = 15.0) -> int:
    """Signals the process and waits off the event loop, which must keep serving the bot's last calls."""
    process.send_signal(signum)
    return await asyncio.to_thread(process.wait, timeout)
