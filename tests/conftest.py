"""Shared fixtures: a fake Bot API and a real SMTP server on loopback, settings on a temp data dir, the bot."""

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope

from cryptography.fernet import Fernet
from pydantic import SecretStr

from bot.app import run_telegram
from bot.config import Settings
from storage.mail_cipher import MailCipher
from storage.postgres_store import PostgresStore, connect
from tests.fake_bot_api import FakeBotAPI
from tests.postgres_server import PostgresServer
from tests.flow_harness import Desk

TEST_KEY = Fernet.generate_key()
TEST_CIPHER = MailCipher(lambda: TEST_KEY)


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
    """The real Application, long-polling the fake server (or serving its webhook once registered),
    until the block ends."""
    stop = asyncio.Event()
    def started() -> int:
        return len(api.method_calls("getUpdates")) + len(api.answered_calls("setWebhook"))
    before = started()
    task = asyncio.create_task(run_telegram(settings, stop))
    waiting = asyncio.ensure_future(api.wait_until(lambda: started() > before))
    await asyncio.wait([task, waiting], return_when=asyncio.FIRST_COMPLETED)
    if task.done():  # it failed to start: its exception is the test's
        waiting.cancel()
        task.result()
    await waiting
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


def webhook_settings(settings: Settings, secret: str | None = None, **more: object) -> Settings:
    """Webhook mode on a free loopback port."""
    port = free_port()
    return Settings.model_validate({**settings.model_dump(), "webhook_url": f"http://127.0.0.1:{port}/telegram",
                                    "webhook_listen": f"127.0.0.1:{port}", "webhook_secret": secret, **more})


def free_port() -> int:
    """A loopback port nothing listens on (yet)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    """A real SMTP server (aiosmtpd, in its own thread) on loopback, keeping every message it accepts."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.messages: list[EmailMessage] = []
        self.replies_to_recipients: dict[str, str] = {}  # an address -> the reply to RCPT TO, e.g. "550 ..."
        self.recipients_tried: list[str] = []
        self._controller: Controller | None = None

    async def handle_RCPT(self, server: object, session: object, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        self.recipients_tried.append(address)
        if address in self.replies_to_recipients:
            return self.replies_to_recipients[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: object, session: object, envelope: Envelope) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """The first `count` messages, once they have arrived."""
        async def arrived() -> None:
            while len(self.messages) < count:
                await asyncio.sleep(0.01)
        await asyncio.wait_for(arrived(), timeout)
        return self.messages[:count]

    def sent_to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.messages if message["To"] == address]


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """Not started: a test starts it, possibly after showing what happens while it is down."""
    server = SmtpServer()
    yield server
    server.stop()


def with_smtp(settings: Settings, server: SmtpServer) -> Settings:
    """Delivery through `server`, with retries small enough for a test."""
    return settings.model_copy(update={
        "smtp_host": "127.0.0.1", "smtp_port": server.port, "smtp_starttls": False, "smtp_timeout_seconds": 5,
        "mail_retry_first_seconds": 0.02, "mail_retry_longest_seconds": 0.1, "mail_failed_after_attempts": 2,
        "mail_poll_seconds": 0.02})


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One real PostgreSQL server for the whole run (started in about a second); fails, never skips,
    when the machine has no PostgreSQL."""
    server = PostgresServer()
    try:
        server.start()
        server.prepare_shared()
        yield server
    finally:
        server.destroy()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A database with the schema and no data, for one test."""
    return postgres_server.emptied()


@pytest.fixture
def postgres_store(postgres_url: str) -> Iterator[PostgresStore]:
    store = PostgresStore(connect(postgres_url, 4, migrate=False), "Sage Flex <bot@flex.example>", TEST_CIPHER)
    yield store
    store.close()


@pytest.fixture
def pg_settings(settings: Settings, postgres_url: str) -> Settings:
    """The bot's settings on the PostgreSQL store."""
    return settings.model_copy(update={"database_url": SecretStr(postgres_url),
                                       "flexbot_secret_key": SecretStr(TEST_KEY.decode())})
