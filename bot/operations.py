"""The operations endpoints on the bot's HTTP server: /healthz, /readyz, /metrics and, when
OPERATOR_API_TOKEN is set, the subscription API (without it, every /api/v1 path is a 404)."""

from telegram import Bot

from bot import health, metrics
from bot.api import SubscriptionApi, json_errors
from bot.config import Settings
from bot.http_server import HttpServer
from bot.telemetry import Telemetry
from flows.steps.base import Toolkit
from storage.mail_queue import MailQueue


def install(server: HttpServer, settings: Settings, toolkit: Toolkit, bot: Bot, telemetry: Telemetry,
            queue: MailQueue | None, delivering: bool) -> None:
    """`queue`: the outbox, for the mail gauges; `delivering`: SMTP delivery runs, so a mail that waits
    too long means readiness is lost."""
    readiness = health.Readiness(toolkit.store, bot, telemetry, queue if delivering else None,
                                 settings.ready_bot_api_seconds, settings.ready_mail_age_seconds)
    server.add_route("GET", "/healthz", health.healthz)
    server.add_route("GET", "/readyz", health.readyz(readiness))
    registry = metrics.scrape_registry(telemetry, metrics.StateCollector(toolkit.store, queue))
    server.add_route("GET", "/metrics", metrics.handler(registry))
    if settings.operator_api_token is not None:
        server.add_middleware(json_errors)
        for method, path, handler in SubscriptionApi(toolkit, settings.operator_api_token.get_secret_value()).routes():
            server.add_route(method, path, handler)
