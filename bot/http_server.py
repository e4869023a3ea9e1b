"""The bot's one HTTP server, on its own event loop: the Telegram webhook, health, metrics and the
subscription API, each added as a route.

aiohttp, because the rest of the bot is asyncio and it is well kept; its graceful shutdown is what
a webhook needs: stop accepting, let the requests in flight finish (bounded), then close.
"""

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_BODY_BYTES = 1024 * 1024  # a Telegram update is a few KB; anything larger is refused (413)


def header_bytes(request: web.Request, name: str) -> bytes:
    """A header's value as it came: aiohttp keeps bytes that are no UTF-8 as surrogates, which a plain
    `.encode()` refuses (a 500 to anyone who sends them)."""
    return request.headers.get(name, "").encode("utf-8", "surrogateescape")


class HttpServer:
    """Routes are added before `start`. Several processes may listen on one port (SO_REUSEPORT):
    the kernel spreads new connections over them, and one that dies stops receiving any."""

    def __init__(self, host: str, port: int, stop_seconds: float) -> None:
        self.host, self.port = host, port
        self.app = web.Application(client_max_size=MAX_BODY_BYTES)
        self._stop_seconds = stop_seconds
        self._runner: web.AppRunner | None = None

    def add_post(self, path: str, handler: Handler) -> None:
        self.add_route("POST", path, handler)

    def add_route(self, method: str, path: str, handler: Handler) -> None:
        self.app.router.add_route(method, path, handler)

    def add_middleware(self, middleware: Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]) -> None:
        self.app.middlewares.append(middleware)

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=self._stop_seconds)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_port=True)
        await site.start()
        log.info("listening on %s:%s", self.host, self.port)

    async def stop(self) -> None:
        """No new connection is accepted; requests in flight get `stop_seconds` to finish."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
