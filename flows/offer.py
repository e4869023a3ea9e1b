"""What a Flex subscription can contain: products and the connected services each one offers."""

from dataclasses import dataclass
from enum import Enum

OFFER_NAME = "Souscription"
# Seats a subscription may have. Step 2 lists every user as a button of one message: Telegram takes
# at most 100 inline buttons a message (and refuses long keyboards before that), and a phone screen
# shows a few dozen names at best. Sage 50 / Ciel Flex is sold to small businesses; 50 leaves room.
MAX_SEATS = 50


class Product(str, Enum):
    COMPTABILITE = "comptabilite"
    PAYE = "paye"


@dataclass(frozen=True)
class Service:
    """A connected service; `products` lists the products it can be activated for."""

    key: str
    products: frozenset[Product]


MOBILE_DATA = "donnees_mobiles"

SERVICES: tuple[Service, ...] = (
    Service(MOBILE_DATA, frozenset(Product)),
    Service("tva_bilan", frozenset(Product)),
    Service("ducs_dads", frozenset({Product.PAYE})),
    Service("sepa", frozenset(Product)),
)


def services_offered(product: Product) -> tuple[str, ...]:
    """Keys of the services that can be switched on for this product."""
    return tuple(service.key for service in SERVICES if product in service.products)
