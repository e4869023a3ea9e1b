"""`flexbot run` (or any bot command) as a real process against a fake Bot API, so it can be killed."""

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from tests.fake_bot_api import FakeBotAPI

FLEXBOT = (str(Path(sys.executable).with_name("flexbot")), "run")


def start_bot(api: FakeBotAPI, data_dir: Path, command: Sequence[str] = FLEXBOT) -> subprocess.Popen[bytes]:
    """Starts the bot in `data_dir`'s parent, so no developer's `.env` leaks in, and nothing
    inherited (TELEGRAM_*, FLEXBOT_*, SMTP_*) can point it elsewhere."""
    data_dir.mkdir(parents=True, exist_ok=True)
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "FLEXBOT_", "SMTP_"))}
    environment = {**inherited, "TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_BASE_URL": api.base_url,
                   "FLEXBOT_DATA_DIR": str(data_dir), "LOG_LEVEL": "WARNING", "PYTHONPATH": os.getcwd()}
    return subprocess.Popen(list(command), env=environment, cwd=data_dir.parent)


@asynccontextmanager
async def bot_process(api: FakeBotAPI, data_dir: Path,
                      command: Sequence[str] = FLEXBOT) -> AsyncIterator[subprocess.Popen[bytes]]:
    """The bot as a process, once it polls; killed on the way out whatever happened, so a failed
    test never leaves a bot running."""
    process = start_bot(api, data_dir, command)
    try:
        await wait_polling(api, process)
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
