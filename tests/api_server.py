"""The subscription API alone on the bot's HTTP server, on a real TinyDB store in a temp dir."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.api import SubscriptionApi, json_errors
from bot.app import build_toolkit
from bot.stores import build_queue
from bot.config import Settings
from bot.http_server import HttpServer
from flows.steps.base import Toolkit
from tests.conftest import free_port

TOKEN = "shop-token_0123456789abcdef"


def api_settings(data_dir: Path) -> Settings:
    return Settings(_env_file=None, flexbot_data_dir=data_dir, http_listen=f"127.0.0.1:{free_port()}",
                    operator_api_token=TOKEN)


def outbox_count(settings: Settings) -> int:
    return len(build_queue(settings).scan())


@asynccontextmanager
async def api_server(settings: Settings) -> AsyncIterator[tuple[str, Toolkit]]:
    """The base URL and the toolkit behind it."""
    toolkit = build_toolkit(settings, owner=True)
    assert settings.http_address is not None and settings.operator_api_token is not None
    server = HttpServer(*settings.http_address, stop_seconds=5)
    server.add_middleware(json_errors)
    for method, path, handler in SubscriptionApi(toolkit, settings.operator_api_token.get_secret_value()).routes():
        server.add_route(method, path, handler)
    await server.start()
    try:
        host, port = settings.http_address
        yield f"http://{host}:{port}", toolkit
    finally:
        await server.stop()
        toolkit.store.close()


async def raw_request(base: str, request: bytes) -> int:
    """The status of an HTTP request sent byte for byte (headers no client library would send)."""
    host, port = base.split("//")[1].split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(request)
        await writer.drain()
        return int((await reader.readline()).split()[1])
    finally:
        writer.close()
