"""LOG_FORMAT=json: `flexbot run` as a process writes one JSON object a line, with the update and
chat ids and the latency of each update, and nothing a person typed."""

import json
import logging
import sys

import pytest

from bench.journey import JOURNEY, PASSWORD
from bot.app import build_toolkit
from bot.config import Settings
from bot.logs import formatter
from flows.subscriptions import open_subscription
from tests.bot_process import start_bot, stop_bot, wait_polling
from tests.fake_bot_api import FakeBotAPI
from tests.telegram_user import TelegramUser


async def test_json_lines_carry_ids_and_latency_and_never_what_was_typed(
        bot_api: FakeBotAPI, settings: Settings) -> None:
    toolkit = build_toolkit(settings, bot_api.username)
    code = open_subscription(toolkit, "achat@garage-dupont.fr", "comptabilite", 1).code
    toolkit.store.close()
    log_file = settings.flexbot_data_dir.parent / "stderr.log"
    admin = TelegramUser(bot_api, 990)
    with log_file.open("wb") as stderr:
        process = start_bot(bot_api, settings.flexbot_data_dir, environment={"LOG_FORMAT": "json",
                                                                              "LOG_LEVEL": "DEBUG"},
                            stderr=stderr.fileno())
        try:
            await wait_polling(bot_api, process)
            for action, value in JOURNEY[:6]:
                if action == "send":
                    await admin.send(value.format(code=code))
                else:
                    await admin.press(value)
            assert await stop_bot(process) == 0
        finally:
            if process.poll() is None:
                process.kill()
    text = log_file.read_text()
    records = [json.loads(line) for line in text.splitlines()]  # every line is one JSON object
    assert records and all({"time", "level", "logger", "message"} <= record.keys() for record in records)
    handled = [record for record in records if record["logger"] == "bot.telemetry"]
    assert len(handled) == 6
    assert all(record["chat_id"] == 990 and isinstance(record["update_id"], int) and record["latency_ms"] >= 0
               for record in handled)
    assert {record["kind"] for record in handled} == {"command", "button", "text"}
    for secret in (PASSWORD, code, "Dupont", "jean.dupont@garage-dupont.fr", bot_api.token):
        assert secret not in text


def test_text_stays_the_default(settings: Settings) -> None:
    assert settings.log_format == "text"
    record = logging.LogRecord("bot.app", logging.INFO, __file__, 1, "polling as @%s", ("FlexTestBot",), None)
    assert formatter(settings.log_format).format(record).endswith(" INFO bot.app: polling as @FlexTestBot")


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_traceback_shows_where_it_failed_never_what_the_exceptions_say(log_format: str) -> None:
    def check_password(typed: str) -> None:
        raise ValueError(f"refused: {typed!r}")

    typed = "".join(["Tourne", "sol2026"])  # not in the source lines the traceback quotes
    try:
        try:
            check_password(typed)
        except ValueError as error:
            raise RuntimeError(f"while handling {typed}") from error
    except RuntimeError:
        record = logging.LogRecord("bot.x", logging.ERROR, __file__, 1, "update %s failed", (7,), sys.exc_info())
    text = formatter(log_format).format(record)
    assert "update 7 failed" in text and "Tournesol2026" not in text
    assert "check_password" in text and "ValueError" in text and "RuntimeError" in text
    assert text.index("ValueError") < text.index("RuntimeError")  # the cause first, as Python shows it
