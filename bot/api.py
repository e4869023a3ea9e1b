"""The subscription API the vendor's shop calls: `/api/v1/...`, with a bearer token.

Only translation lives here (HTTP and JSON in, flows/orders.py out): an order opens its
subscription and queues the Commencer e-mail in one store event, and the answer leaves only once
that event is durable. Every refusal (401, 400, 409, 413) is decided before anything is written.
"""

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.http_server import header_bytes
from bot.json_input import parsed
from bot.openapi import API_PREFIX, document
from flows.orders import OrderConflict, place_order
from flows.ports import RecordUnavailable
from flows.progress import progress
from flows.steps.base import Toolkit
from flows.subscriptions import InvalidField

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 16 * 1024  # an order is a few hundred bytes
FIELDS = ("email", "product", "seats", "order_id", "language", "time_zone")
REQUIRED = ("email", "product", "seats", "order_id")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error(status: int, message: str, field: str | None = None) -> web.Response:
    return web.json_response({"error": message, "field": field}, status=status)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """aiohttp's own refusals (no such path, wrong method, body too large) as JSON under /api/v1."""
    try:
        return await handler(request)
    except web.HTTPException as refusal:
        if not request.path.startswith(API_PREFIX) or refusal.status < 400:
            raise
        answer = error(refusal.status, refusal.reason)
        for name in ("Allow",):  # a 405 says which methods the path takes
            if name in refusal.headers:
                answer.headers[name] = refusal.headers[name]
        return answer


class SubscriptionApi:
    def __init__(self, toolkit: Toolkit, token: str) -> None:
        self._toolkit = toolkit
        self._token = token.encode()

    def routes(self) -> list[tuple[str, str, Handler]]:
        return [("POST", f"{API_PREFIX}/subscriptions", self.create),
                ("GET", f"{API_PREFIX}/subscriptions/{{number}}", self.show),
                ("GET", f"{API_PREFIX}/openapi.json", self.openapi)]

    def _authorised(self, request: web.Request) -> bool:
        """Constant-time comparison: the time taken tells nothing about how much of a guess was right."""
        scheme, _, given = header_bytes(request, "Authorization").partition(b" ")
        return hmac.compare_digest(given.strip(), self._token) and scheme.lower() == b"bearer"

    async def create(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _unauthorised()
        body = await _body(request)
        if isinstance(body, web.Response):
            return body
        try:
            placed = place_order(self._toolkit, body["order_id"], body["email"], body["product"], body["seats"],
                                 body.get("language", "fr"), body.get("time_zone"))
        except InvalidField as refusal:
            return error(400, str(refusal), refusal.field)
        except OrderConflict:
            log.warning("api: an order id already used came with other data: refused (409)")
            return error(409, "this order_id was already used for another order", "order_id")
        await self._toolkit.store.durable()
        number = placed.opened["number"]
        if placed.created:
            log.info("api: subscription %s opened for an order", number)
        return web.json_response(placed.opened, status=201 if placed.created else 200)

    async def show(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _unauthorised()
        number = request.match_info["number"]
        try:
            subscription = self._toolkit.store.load_subscription(number)
        except RecordUnavailable:
            return error(503, "this subscription's record cannot be read; the operator has been told")
        if subscription is None:
            return error(404, "no such subscription", "number")
        return web.json_response(progress(subscription))

    async def openapi(self, request: web.Request) -> web.Response:
        return web.json_response(document())


def _unauthorised() -> web.Response:
    response = error(401, "a valid bearer token is required")
    response.headers["WWW-Authenticate"] = 'Bearer realm="flexbot"'
    return response


async def _body(request: web.Request) -> dict[str, Any] | web.Response:
    """The order as a JSON object of known fields, or the 400/413 that says what is wrong."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return error(413, f"the body may be at most {MAX_BODY_BYTES} bytes", "body")
    raw = bytearray()
    async for chunk in request.content.iter_chunked(4096):
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            return error(413, f"the body may be at most {MAX_BODY_BYTES} bytes", "body")
    try:
        body = parsed(raw)
    except ValueError:
        return error(400, "the body is not JSON", "body")
    if not isinstance(body, dict):
        return error(400, "the body must be a JSON object", "body")
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        return error(400, f"unknown field {unknown[0]!r}", unknown[0])
    missing = [name for name in REQUIRED if name not in body]
    if missing:
        return error(400, f"{missing[0]} is required", missing[0])
    return body
