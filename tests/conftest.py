"""Shared fixtures: a fake Bot API on loopback, settings on a temp data dir, the bot running on them."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.app import run_telegram
from bot.config import Settings
from tests.fake_bot_api import FakeBotAPI
from tests.flow_harness import Desk


@pytest.fixture
async def bot_api() -> AsyncIterator[FakeBotAPI]:
    api = FakeBotAPI()
    await api.start()
    yield api
    await api.stop()


@pytest.fixture
def desk() -> Desk:
    """The assistant on an in-memory store, with the e-mails it sends and a clock the test moves."""
    return Desk.build()


@pytest.fixture
def settings(tmp_path: Path, bot_api: FakeBotAPI) -> Settings:
    return Settings(_env_file=None, telegram_bot_token=bot_api.token, telegram_api_base_url=bot_api.base_url,
                    flexbot_data_dir=tmp_path / "data")


@asynccontextmanager
async def running_bot(settings: Settings, api: FakeBotAPI) -> AsyncIterator[None]:
    """The real Application, long-polling the fake server, until the block ends."""
    stop = asyncio.Event()
    polls = len(api.method_calls("getUpdates"))
    task = asyncio.create_task(run_telegram(settings, stop))
    await api.wait_until(lambda: len(api.method_calls("getUpdates")) > polls or task.done())
    if task.done():
        task.result()
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
