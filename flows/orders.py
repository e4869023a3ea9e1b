"""Subscriptions bought in the vendor's shop: one order opens one subscription, however often the shop
sends it (a retry after a timeout must not open a second one nor mail a second Commencer link)."""

import re
from dataclasses import dataclass
from typing import Any

from flows.catalogue import DEFAULT_LANGUAGE
from flows.records import Order
from flows.steps.base import Toolkit
from flows.subscriptions import InvalidField, Request, checked_request, open_subscription, opened_json

ORDER_ID_MAX = 200
ORDER_ID = re.compile(r"[!-~]{1,%d}" % ORDER_ID_MAX)  # visible ASCII: a shop's order reference


class OrderConflict(Exception):
    """The order id is known, with other data: the shop sent two different orders under one id."""


@dataclass(frozen=True)
class PlacedOrder:
    opened: dict[str, Any]  # the same JSON as `flexbot subscription add --json`
    created: bool  # False: a repeat of an order already placed, nothing written


def place_order(toolkit: Toolkit, order_id: object, email: object, product: object, seats: object,
                language: object = DEFAULT_LANGUAGE, time_zone: object = None) -> PlacedOrder:
    """Opens the subscription and records the order in one event, so a kill leaves both or neither.
    A repeat is the same order when it names the same address (in any case, as the account compares
    addresses), product, seats, language and time zone. Raises InvalidField (nothing written) or OrderConflict."""
    if not isinstance(order_id, str) or not ORDER_ID.fullmatch(order_id):
        raise InvalidField("order_id", f"order_id must be 1 to {ORDER_ID_MAX} visible ASCII characters (no space)")
    request = checked_request(email, product, seats, language, time_zone)
    # Two processes given the same new order at once: the second commit conflicts on the order's
    # record, runs again, and finds the order placed.
    return toolkit.store.run_event(lambda: _place(toolkit, order_id, request))


def _place(toolkit: Toolkit, order_id: str, request: Request) -> PlacedOrder:
    store = toolkit.store
    known = store.load_order(order_id)
    if known is not None:
        if (known.email.lower(), known.product, known.seats, known.language, known.time_zone) != \
                (request.email.lower(), request.product.value, request.seats, request.language, request.time_zone):
            raise OrderConflict(order_id)
        return PlacedOrder(known.opened, created=False)
    opened = open_subscription(toolkit, request.email, request.product.value, request.seats, request.language,
                               request.time_zone)
    answer = opened_json(opened)
    store.save_order(Order(order_id, opened.subscription.number, request.email, request.product.value,
                           request.seats, request.language, answer, request.time_zone))
    return PlacedOrder(answer, created=True)
