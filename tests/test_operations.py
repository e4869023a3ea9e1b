"""The operations endpoints of `flexbot run`, served by the real Application against the fake Bot API:
health, readiness with each of its reasons, and a Prometheus scrape read by prometheus-client's parser."""

import asyncio
import time
from pathlib import Path

import aiohttp
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from bot.stores import build_queue
from bot.config import Settings
from bot.metrics import StateCollector
from storage.tinydb_store import TinyDBStore
from tests.conftest import SmtpServer, free_port, running_bot, webhook_settings, with_smtp
from tests.fake_bot_api import FakeBotAPI
from tests.telegram_user import TelegramUser
from tests.test_webhook import subscription_code


def ops_settings(settings: Settings, **more: object) -> Settings:
    return Settings.model_validate({**settings.model_dump(), "http_listen": f"127.0.0.1:{free_port()}", **more})


def url(settings: Settings, path: str) -> str:
    host, port = settings.http_address or ("", 0)
    return f"http://{host}:{port}{path}"


async def get(settings: Settings, path: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as session:
        async with session.get(url(settings, path)) as answer:
            return answer.status, answer.headers.get("Content-Type", ""), await answer.text()


async def get_json(settings: Settings, path: str) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session:
        async with session.get(url(settings, path)) as answer:
            return answer.status, await answer.json()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, by name and labels, as Prometheus' own text parser reads them."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def test_the_http_server_is_off_by_default_and_the_webhook_server_in_webhook_mode(settings: Settings) -> None:
    assert settings.http_address is None  # `make run` opens no port
    assert ops_settings(settings).http_address is not None
    hooked = webhook_settings(settings, http_listen="127.0.0.1:9")
    assert hooked.http_address == hooked.webhook_address


async def test_healthz_readyz_and_a_scrape_of_a_bot_at_work(bot_api: FakeBotAPI, settings: Settings) -> None:
    settings = ops_settings(settings, helpdesk_agent_ids="950")  # an agent, so /aide queues a request
    code = subscription_code(settings, bot_api.username)  # its Commencer mail waits in the outbox
    admin = TelegramUser(bot_api, 901)
    async with running_bot(settings, bot_api):
        assert await get_json(settings, "/healthz") == (200, {"status": "alive"})
        await admin.send(f"/start {code}")
        await admin.press("CRÉER mon compte Administrateur")
        bot_api.fail_next["sendMessage"] = {"error_code": 429, "description": "Too Many Requests: retry after 1",
                                            "parameters": {"retry_after": 1}}
        await admin.send("/aide")  # its reply waits out the 429, and the request waits for an agent
        status, body = await get_json(settings, "/readyz")
        assert status == 200, body
        assert body["status"] == "ready" and all(check["ok"] for check in body["checks"].values())
        status, content_type, text = await get(settings, "/metrics")
    assert status == 200 and content_type.startswith("text/plain; version=")
    found = samples(text)
    assert found["flexbot_updates_total", (("kind", "command"), ("outcome", "handled"))] == 2
    assert found["flexbot_updates_total", (("kind", "button"), ("outcome", "handled"))] == 1
    assert found["flexbot_update_handling_seconds_count", (("kind", "command"),)] == 2
    assert found["flexbot_bot_api_rate_limited_total", (("method", "sendMessage"),)] == 1
    assert found["flexbot_bot_api_calls_total", (("method", "sendMessage"), ("status", "429"))] == 1
    assert found["flexbot_bot_api_calls_total", (("method", "sendMessage"), ("status", "200"))] >= 2
    assert time.time() - found["flexbot_bot_api_last_answer_timestamp_seconds", ()] < 30
    assert found["flexbot_help_requests_waiting", ()] == 1
    assert 0 <= found["flexbot_help_request_oldest_wait_seconds", ()] < 30
    assert found["flexbot_mails_waiting", (("status", "pending"),)] == 1
    assert found["flexbot_mails_waiting", (("status", "failed"),)] == 0
    assert 0 < found["flexbot_mail_oldest_waiting_age_seconds", ()] < 60
    assert found["flexbot_subscriptions", (("step", "administrator"),)] == 1
    assert found["flexbot_subscriptions", (("step", "done"),)] == 0


async def test_a_failed_update_is_counted_as_failed(bot_api: FakeBotAPI, settings: Settings,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    settings = ops_settings(settings)
    admin = TelegramUser(bot_api, 902)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")
    async with running_bot(settings, bot_api):
        monkeypatch.setattr("flows.assistant.Assistant.handle", broken)
        await admin.send("/etat")  # the person is told to try again
        _, _, text = await get(settings, "/metrics")
    assert samples(text)["flexbot_updates_total", (("kind", "command"), ("outcome", "failed"))] == 1


async def test_readyz_says_503_with_the_reason_when_telegram_stops_answering(
        bot_api: FakeBotAPI, settings: Settings) -> None:
    settings = ops_settings(settings, ready_bot_api_seconds=0.3)
    async with running_bot(settings, bot_api):
        bot_api.down = True
        await asyncio.sleep(0.5)
        status, body = await get_json(settings, "/readyz")
        bot_api.down = False
        assert status == 503
        assert body["failed"] == ["bot_api"] and "no answer from the Bot API" in body["checks"]["bot_api"]["detail"]
        assert bot_api.method_calls("getMe")  # it asked before giving up
        await asyncio.sleep(0.1)
        assert (await get_json(settings, "/readyz"))[0] == 200  # getMe answers again


async def test_readyz_says_503_when_the_store_refuses_writes(bot_api: FakeBotAPI, settings: Settings,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    settings = ops_settings(settings)
    async with running_bot(settings, bot_api):
        def full_disk(self: TinyDBStore, changes: object) -> None:
            raise OSError(28, "No space left on device")
        monkeypatch.setattr(TinyDBStore, "_commit", full_disk)
        status, body = await get_json(settings, "/readyz")
    assert status == 503 and body["failed"] == ["store"]
    assert "OSError" in body["checks"]["store"]["detail"]


async def test_readyz_says_503_when_mail_waits_too_long_to_be_delivered(
        bot_api: FakeBotAPI, settings: Settings, smtp: SmtpServer) -> None:
    settings = ops_settings(with_smtp(settings, smtp), ready_mail_age_seconds=0.3)  # the SMTP server is down
    subscription_code(settings, bot_api.username)
    async with running_bot(settings, bot_api):
        await asyncio.sleep(0.5)
        status, body = await get_json(settings, "/readyz")
        assert status == 503 and body["failed"] == ["mail"], body
        smtp.start()
        await smtp.wait_for(1)
        await asyncio.sleep(0.1)
        assert (await get_json(settings, "/readyz"))[0] == 200


async def test_the_webhook_server_carries_the_operations_endpoints(bot_api: FakeBotAPI, settings: Settings) -> None:
    settings = webhook_settings(settings, "s3cret")
    async with running_bot(settings, bot_api):
        assert (await get_json(settings, "/healthz"))[0] == 200
        assert (await get(settings, "/metrics"))[0] == 200


def test_a_scrape_lists_no_mail_age_for_an_empty_outbox(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, flexbot_data_dir=tmp_path)
    store = TinyDBStore(settings.database_dir)
    registry = CollectorRegistry()
    registry.register(StateCollector(store, build_queue(settings)))
    found = samples(generate_latest(registry).decode())
    assert found["flexbot_mail_oldest_waiting_age_seconds", ()] == 0
    assert found["flexbot_help_requests_waiting", ()] == 0
