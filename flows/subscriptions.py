"""What operators do: open a subscription and send its administrator the Commencer e-mail."""

import secrets
from dataclasses import dataclass

from flows import validation
from flows.catalogue import DEFAULT_LANGUAGE, LANGUAGES, catalogue
from flows.mails import compose
from flows.offer import MAX_SEATS, OFFER_NAME, Product, services_offered
from flows.records import AuditEntry, Code, CodeKind, Subscription
from flows.reminder_settings import is_time_zone
from flows.steps.base import Toolkit


@dataclass(frozen=True)
class OpenedSubscription:
    subscription: Subscription
    code: str
    link: str


class InvalidField(ValueError):
    """A request that cannot open a subscription: `field` names what is wrong, the message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Request:
    """What opening a subscription needs, checked and normalised."""

    email: str
    product: Product
    seats: int
    language: str
    time_zone: str | None = None  # None: the configured one (REMINDER_TIME_ZONE), whatever it becomes


def checked_request(email: object, product: object, seats: object, language: object = DEFAULT_LANGUAGE,
                    time_zone: object = None) -> Request:
    """Raises InvalidField with a one-line reason; the values as they would be stored otherwise."""
    try:
        chosen = Product(product)
    except ValueError:
        raise InvalidField("product", f"unknown product {product!r}: choose "
                           f"{', '.join(p.value for p in Product)}") from None
    if language not in LANGUAGES:
        raise InvalidField("language", f"unknown language {language!r}: choose {', '.join(LANGUAGES)}")
    if time_zone is not None and not is_time_zone(time_zone):
        raise InvalidField("time_zone", f"unknown time zone {str(time_zone)[:60]!r}: an IANA name such as "
                           "Europe/Brussels")
    if not isinstance(seats, int) or isinstance(seats, bool):
        raise InvalidField("seats", "seats must be a whole number")
    if seats < 1:
        raise InvalidField("seats", "seats must be at least 1")
    if seats > MAX_SEATS:
        raise InvalidField("seats", f"seats must be at most {MAX_SEATS} (every user is a button of one "
                           "Telegram message)")
    try:
        address = validation.email_address(email) if isinstance(email, str) else ""
    except validation.InvalidAnswer:
        address = ""
    if not address:
        raise InvalidField("email", f"malformed e-mail address: {email!r}")
    return Request(address, chosen, seats, str(language), None if time_zone is None else str(time_zone))


def open_subscription(toolkit: Toolkit, email: str, product: str, seats: int,
                      language: str = DEFAULT_LANGUAGE, time_zone: str | None = None) -> OpenedSubscription:
    """Checks everything before writing anything; raises InvalidField (a ValueError) with a one-line
    reason. The Commencer e-mail is in `language`, the buyer's (no chat has told theirs yet);
    `time_zone` is the one its reminders keep business hours in (None: the configured one)."""
    request = checked_request(email, product, seats, language, time_zone)
    address, chosen, language = request.email, request.product, request.language
    store, now = toolkit.store, toolkit.clock()
    subscription = Subscription(_free_number(toolkit), address, chosen, seats, now,
                                services={key: False for key in services_offered(chosen)},
                                time_zone=request.time_zone, steps_reached_at={})
    code = Code(toolkit.token(), CodeKind.ACTIVATION.value, subscription.number,
                now + toolkit.settings.activation_code_ttl)
    link = toolkit.settings.deep_link(code.value)
    texts = catalogue(language)
    mail = compose(texts, address, "mail.subscription", link, vendor=toolkit.settings.vendor_name,
                   number=subscription.number, offer=OFFER_NAME, product=texts.text(f"product.{chosen.value}"),
                   users=texts.plural("count.users", seats),
                   validity=texts.duration(toolkit.settings.activation_code_ttl))
    with store.event():
        store.save_subscription(subscription)
        store.save_code(code)
        store.queue_mail(mail)
        store.append_audit(AuditEntry(now, subscription.number, "operator", "subscription_opened",
                                      {"product": chosen.value, "seats": seats}))
    return OpenedSubscription(subscription, code.value, link)


def opened_json(opened: OpenedSubscription) -> dict[str, object]:
    """What `flexbot subscription add --json` prints and the shop's API answers."""
    sub = opened.subscription
    return {"number": sub.number, "code": opened.code, "link": opened.link, "email": sub.email,
            "product": sub.product.value, "seats": sub.seats, "time_zone": sub.time_zone}


def _free_number(toolkit: Toolkit) -> str:
    while True:
        number = f"FLX{secrets.randbelow(10**8):08d}"
        if toolkit.store.load_subscription(number) is None:
            return number
