"""The subscription API's OpenAPI 3.0 document, served at /api/v1/openapi.json; written by hand, and
held to the code by a schemathesis test (tests/test_api_schema.py)."""

from typing import Any

from flows.catalogue import LANGUAGES
from flows.offer import MAX_SEATS, Product
from flows.orders import ORDER_ID_MAX
from flows.progress import SETUP_STEPS
from flows.records import UserStatus

API_PREFIX = "/api/v1"

_ERROR = {"type": "object", "required": ["error", "field"], "properties": {
    "error": {"type": "string"}, "field": {"type": "string", "nullable": True}}}
_OPENED = {"type": "object", "required": ["number", "code", "link", "email", "product", "seats"],
           "properties": {"number": {"type": "string"}, "code": {"type": "string"},
                          "link": {"type": "string"}, "email": {"type": "string"},
                          "product": {"type": "string", "enum": [p.value for p in Product]},
                          "seats": {"type": "integer", "minimum": 1, "maximum": MAX_SEATS},
                          "time_zone": {"type": "string", "nullable": True}}}
_ORDER = {"type": "object", "additionalProperties": False, "required": ["email", "product", "seats", "order_id"],
          "properties": {
              "email": {"type": "string", "format": "email", "description": "the address the subscription was "
                        "bought with; the Commencer e-mail goes there"},
              "product": {"type": "string", "enum": [p.value for p in Product]},
              "seats": {"type": "integer", "minimum": 1, "maximum": MAX_SEATS},
              "order_id": {"type": "string", "minLength": 1, "maxLength": ORDER_ID_MAX, "pattern": "^[!-~]+$",
                           "description": "the shop's order reference (visible ASCII, no space): the same "
                           "order always gives the same subscription"},
              "language": {"type": "string", "enum": list(LANGUAGES), "default": "fr",
                           "description": "the buyer's language, for the Commencer e-mail"},
              "time_zone": {"type": "string", "nullable": True, "minLength": 1, "maxLength": 64,
                            "description": "an IANA time zone name (Europe/Brussels): the business hours "
                            "its reminders keep to; absent or null, the bot's configured zone"}}}
_PERSON = {"first_name": {"type": "string"}, "last_name": {"type": "string"}, "email": {"type": "string"}}
_PROGRESS = {"type": "object", "required": ["number", "step", "setup_done", "users", "services"], "properties": {
    "number": {"type": "string"}, "email": {"type": "string"},
    "product": {"type": "string", "enum": [p.value for p in Product]}, "seats": {"type": "integer"},
    "step": {"type": "string", "enum": list(SETUP_STEPS)}, "setup_done": {"type": "boolean"},
    "administrator": {"type": "object", "nullable": True,
                      "properties": {**_PERSON, "is_user": {"type": "boolean"}}},
    "users": {"type": "array", "items": {"type": "object", "properties": {
        **_PERSON, "status": {"type": "string", "enum": [s.value for s in UserStatus]},
        "is_admin": {"type": "boolean"}}}},
    "services": {"type": "object", "additionalProperties": {"type": "boolean"}}}}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _refusals(*statuses: int) -> dict[str, Any]:
    reasons = {400: "a field is wrong: `field` names it; nothing written",
               401: "no valid bearer token; nothing written", 404: "no such subscription",
               409: "this order_id was used for another order; nothing written",
               413: "the body is too large; nothing written", 503: "the record cannot be read"}
    return {str(status): _json(_ERROR, reasons[status]) for status in statuses}


def document() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Flex setup assistant: subscription API", "version": "1.0.0",
                 "description": "Opens Flex subscriptions for the vendor's shop, idempotent per order."},
        "servers": [{"url": "/"}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "paths": {
            f"{API_PREFIX}/subscriptions": {"post": {
                "operationId": "openSubscription",
                "summary": "Open a subscription and e-mail its Commencer link (once per order_id)",
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ORDER}}},
                "responses": {"201": _json(_OPENED, "opened; the Commencer e-mail is queued"),
                              "200": _json(_OPENED, "this order was already placed: the same subscription, "
                                           "no second e-mail"),
                              **_refusals(400, 401, 409, 413)}}},
            f"{API_PREFIX}/subscriptions/{{number}}": {"get": {
                "operationId": "subscriptionProgress",
                "summary": "How far the subscription's setup has gone: step, users and their status, services",
                "parameters": [{"name": "number", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": _json(_PROGRESS, "the subscription's progress"),
                              **_refusals(401, 404, 503)}}},
        },
    }
