"""What operators do: open a subscription and send its administrator the Commencer e-mail."""

import secrets
from dataclasses import dataclass

from flows import validation
from flows.catalogue import DEFAULT_LANGUAGE, LANGUAGES, catalogue
from flows.mails import compose
from flows.offer import MAX_SEATS, OFFER_NAME, Product, services_offered
from flows.records import AuditEntry, Code, CodeKind, Subscription
from flows.steps.base import Toolkit


@dataclass(frozen=True)
class OpenedSubscription:
    subscription: Subscription
    code: str
    link: str


def open_subscription(toolkit: Toolkit, email: str, product: str, seats: int,
                      language: str = DEFAULT_LANGUAGE) -> OpenedSubscription:
    """Checks everything before writing anything; raises ValueError with a one-line reason. The
    Commencer e-mail is in `language`, the buyer's (no chat has told theirs yet)."""
    try:
        chosen = Product(product)
    except ValueError:
        raise ValueError(f"unknown product {product!r}: choose {', '.join(p.value for p in Product)}") from None
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}: choose {', '.join(LANGUAGES)}")
    if seats < 1:
        raise ValueError("seats must be at least 1")
    if seats > MAX_SEATS:
        raise ValueError(f"seats must be at most {MAX_SEATS} (every user is a button of one Telegram message)")
    try:
        address = validation.email_address(email)
    except validation.InvalidAnswer:
        raise ValueError(f"malformed e-mail address: {email!r}") from None
    store, now = toolkit.store, toolkit.clock()
    subscription = Subscription(_free_number(toolkit), address, chosen, seats, now,
                                services={key: False for key in services_offered(chosen)})
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


def _free_number(toolkit: Toolkit) -> str:
    while True:
        number = f"FLX{secrets.randbelow(10**8):08d}"
        if toolkit.store.load_subscription(number) is None:
            return number
