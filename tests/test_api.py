"""The subscription API as the shop (and a hostile client) calls it: idempotent per order, refusals
that name the field and write nothing, the bearer token, the size limit."""

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.config import Settings
from flows.offer import MAX_SEATS
from tests.api_server import TOKEN, api_server, api_settings, outbox_count, raw_request
from tests.conftest import running_bot
from tests.fake_bot_api import FakeBotAPI
from tests.telegram_user import TelegramUser

ORDER = {"email": "achat@garage-dupont.fr", "product": "comptabilite", "seats": 3, "order_id": "CMD-2026-0001"}
AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def call(base: str, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
               raw: bytes | None = None) -> tuple[int, Any]:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    async with aiohttp.ClientSession() as session:
        async with session.request(method, base + path, data=data,
                                   headers=AUTH if headers is None else headers) as answer:
            if answer.content_type != "application/json":
                return answer.status, await answer.text()
            return answer.status, await answer.json()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return api_settings(tmp_path / "data")


async def test_an_order_opens_one_subscription_and_mails_once_however_often_it_comes(settings: Settings) -> None:
    async with api_server(settings) as (base, toolkit):
        status, opened = await call(base, "POST", "/api/v1/subscriptions", ORDER)
        assert status == 201
        assert set(opened) == {"number", "code", "link", "email", "product", "seats", "time_zone"}
        assert (opened["email"], opened["product"], opened["seats"]) == (ORDER["email"], "comptabilite", 3)
        assert opened["link"].endswith(f"?start={opened['code']}")
        assert outbox_count(settings) == 1
        again = await call(base, "POST", "/api/v1/subscriptions", {**ORDER, "email": "ACHAT@garage-dupont.fr"})
        assert again == (200, opened)
        assert outbox_count(settings) == 1  # no second Commencer mail
        assert list(toolkit.store.subscription_numbers()) == [opened["number"]]
        status, refused = await call(base, "POST", "/api/v1/subscriptions", {**ORDER, "seats": 4})
        assert status == 409 and refused["field"] == "order_id"
        assert outbox_count(settings) == 1 and len(list(toolkit.store.subscription_numbers())) == 1
        other = await call(base, "POST", "/api/v1/subscriptions", {**ORDER, "order_id": "CMD-2026-0002"})
        assert other[0] == 201 and other[1]["number"] != opened["number"]
        assert outbox_count(settings) == 2


@pytest.mark.parametrize(("change", "field"), [
    ({"product": "gestion"}, "product"), ({"seats": 0}, "seats"), ({"seats": MAX_SEATS + 1}, "seats"),
    ({"seats": "3"}, "seats"), ({"seats": True}, "seats"), ({"seats": 2.5}, "seats"),
    ({"email": "pas-une-adresse"}, "email"), ({"email": None}, "email"), ({"order_id": ""}, "order_id"),
    ({"order_id": 12}, "order_id"), ({"order_id": "x" * 201}, "order_id"), ({"language": "de"}, "language"),
    ({"time_zone": "Mars/Olympus"}, "time_zone"), ({"time_zone": "../../../etc/passwd"}, "time_zone"),
    ({"time_zone": 2}, "time_zone"), ({"time_zone": ""}, "time_zone"),
    ({"coupon": "FREE"}, "coupon"), ({"email": ...}, "email"), ({"order_id": ...}, "order_id"),
])
async def test_a_bad_field_is_a_400_naming_it_and_nothing_is_written(settings: Settings, change: dict,
                                                                       field: str) -> None:
    body = {key: value for key, value in {**ORDER, **change}.items() if value is not ...}
    async with api_server(settings) as (base, toolkit):
        status, answer = await call(base, "POST", "/api/v1/subscriptions", body)
        assert status == 400 and answer["field"] == field, answer
        assert list(toolkit.store.subscription_numbers()) == [] and outbox_count(settings) == 0
        assert toolkit.store.load_order(ORDER["order_id"]) is None


async def test_an_order_may_give_the_subscriptions_time_zone_and_a_repeat_must_give_the_same(
        settings: Settings) -> None:
    async with api_server(settings) as (base, toolkit):
        status, opened = await call(base, "POST", "/api/v1/subscriptions", {**ORDER, "time_zone": "Europe/Brussels"})
        assert status == 201 and opened["time_zone"] == "Europe/Brussels"
        assert toolkit.store.load_subscription(opened["number"]).time_zone == "Europe/Brussels"  # type: ignore[union-attr]
        assert await call(base, "POST", "/api/v1/subscriptions", {**ORDER, "time_zone": "Europe/Brussels"}) == (200, opened)
        status, refused = await call(base, "POST", "/api/v1/subscriptions", ORDER)  # no zone is another order
        assert status == 409 and refused["field"] == "order_id"
        _, without = await call(base, "POST", "/api/v1/subscriptions", {**ORDER, "order_id": "CMD-2026-0002"})
        assert without["time_zone"] is None  # the configured zone, whatever it becomes


@pytest.mark.parametrize("raw", [b"", b"{", b"[1, 2]", b"\xff\xfe", b"null", b'"text"', b"[" * 100_00])
async def test_a_body_that_is_no_json_object_is_a_400(settings: Settings, raw: bytes) -> None:
    async with api_server(settings) as (base, toolkit):
        status, answer = await call(base, "POST", "/api/v1/subscriptions", raw=raw)
        assert status in (400, 413) and answer["field"] == "body"
        assert list(toolkit.store.subscription_numbers()) == []


async def test_a_large_body_is_refused_unread(settings: Settings) -> None:
    async with api_server(settings) as (base, toolkit):
        status, answer = await call(base, "POST", "/api/v1/subscriptions", {**ORDER, "order_id": "x" * 20_000})
        assert status == 413 and answer["field"] == "body"
        assert list(toolkit.store.subscription_numbers()) == []


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN},
                                     {"Authorization": f"Basic {TOKEN}"}, {"Authorization": f"Bearer {TOKEN}x"},
                                     {"Authorization": "Bearer "}])
async def test_without_the_token_it_is_a_401_and_nothing_is_written(settings: Settings, headers: dict) -> None:
    async with api_server(settings) as (base, toolkit):
        assert (await call(base, "POST", "/api/v1/subscriptions", ORDER, headers=headers))[0] == 401
        assert (await call(base, "POST", "/api/v1/subscriptions", {"x": 1}, headers=headers))[0] == 401
        assert (await call(base, "GET", "/api/v1/subscriptions/FLX00000001", headers=headers))[0] == 401
        assert list(toolkit.store.subscription_numbers()) == [] and outbox_count(settings) == 0


async def test_progress_of_a_subscription(settings: Settings) -> None:
    async with api_server(settings) as (base, toolkit):
        _, opened = await call(base, "POST", "/api/v1/subscriptions", {**ORDER, "product": "paye", "seats": 1})
        status, progress = await call(base, "GET", f"/api/v1/subscriptions/{opened['number']}")
        assert status == 200
        assert progress["step"] == "administrator" and progress["administrator"] is None
        assert progress["users"] == [] and progress["setup_done"] is False
        assert progress["services"] == {"donnees_mobiles": False, "tva_bilan": False, "ducs_dads": False,
                                        "sepa": False}
        for number in ("FLX99999999", "..%2F..%2Fetc", "a b"):
            status, answer = await call(base, "GET", f"/api/v1/subscriptions/{number}")
            assert status == 404 and "error" in answer


async def test_the_api_is_off_without_a_token_and_on_the_bot_s_server_with_one(
        bot_api: FakeBotAPI, tmp_path: Path) -> None:
    base_settings = Settings.model_validate({**api_settings(tmp_path / "data").model_dump(),
                                             "telegram_bot_token": bot_api.token,
                                             "telegram_api_base_url": bot_api.base_url})
    host, port = base_settings.http_address or ("", 0)
    base = f"http://{host}:{port}"
    off = Settings.model_validate({**base_settings.model_dump(), "operator_api_token": None})
    async with running_bot(off, bot_api):
        assert (await call(base, "POST", "/api/v1/subscriptions", ORDER))[0] == 404
        assert (await call(base, "GET", "/api/v1/openapi.json"))[0] == 404
    async with running_bot(base_settings, bot_api):
        status, opened = await call(base, "POST", "/api/v1/subscriptions", ORDER)
        assert status == 201
        admin = TelegramUser(bot_api, 950)
        assert "Bienvenue" in (await admin.send(f"/start {opened['code']}")).text
        await admin.press("CRÉER mon compte Administrateur")
        status, progress = await call(base, "GET", f"/api/v1/subscriptions/{opened['number']}")
        assert status == 200 and progress["step"] == "administrator"


async def test_a_token_of_bytes_that_are_no_utf8_is_a_401_not_a_500(settings: Settings) -> None:
    async with api_server(settings) as (base, _):
        status = await raw_request(base, b"GET /api/v1/subscriptions/FLX00000001 HTTP/1.1\r\nHost: x\r\n"
                                         b"Authorization: Bearer \xff\xfe\xc3\r\nConnection: close\r\n\r\n")
    assert status == 401
