"""Checks on what people type; each failure names a catalogue message that explains it."""

import re
import unicodedata

from babel.lists import format_list
from email_validator import EmailNotValidError, validate_email

from flows.catalogue import Catalogue

NAME_MAX_LENGTH = 60
ADDRESS_MAX_LENGTH = 200
PASSWORD_MIN_LENGTH = 10
_NAME_PATTERN = re.compile(r"^[^\W\d_]+(?:[ '’\-.][^\W\d_]+)*\.?$")
_DEEP_LINK_CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


PASSWORD_CHARACTERS = ("password.upper", "password.lower", "password.digit")  # what a password may lack


class InvalidAnswer(ValueError):
    """An answer that cannot be accepted; `message_key` is the explanation to show, `failed` the
    catalogue keys of the parts of the rule it breaks, when the rule has parts."""

    def __init__(self, message_key: str, failed: tuple[str, ...] = ()) -> None:
        super().__init__(message_key)
        self.message_key = message_key
        self.failed = failed

    def explained(self, texts: Catalogue) -> str:
        """The explanation in the person's language, naming only the parts of the rule that failed
        (« il faut au moins 10 caractères et il manque un chiffre »), never the whole rule again."""
        if not self.failed:
            return texts.text(self.message_key)
        lacking = format_list([texts.text(key) for key in self.failed if key in PASSWORD_CHARACTERS],
                              locale=texts.language)
        parts = [texts.text("password.missing", items=lacking) if key in PASSWORD_CHARACTERS
                 else texts.text(key, min=PASSWORD_MIN_LENGTH) for key in self.failed]
        parts = list(dict.fromkeys(parts))  # what is lacking is said once
        return texts.text(self.message_key, failed=format_list(parts, locale=texts.language))


def person_name(text: str) -> str:
    """A last or first name: letters with spaces, hyphens or apostrophes between them."""
    name = " ".join(unicodedata.normalize("NFC", text).split())
    if not name:
        raise InvalidAnswer("error.name_empty")
    if len(name) > NAME_MAX_LENGTH or not _NAME_PATTERN.match(name):
        raise InvalidAnswer("error.name_invalid")
    return name


def email_address(text: str) -> str:
    """A syntactically valid address, normalised; nothing is looked up on the network."""
    try:
        return validate_email(text.strip(), check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise InvalidAnswer("error.email_invalid") from error


def postal_address(text: str) -> str:
    """A postal address on one line, with letters and a postal code; typed lines are joined with commas."""
    lines = [" ".join(line.split()) for line in unicodedata.normalize("NFC", text).splitlines()]
    address = ", ".join(line for line in lines if line)
    if not re.search(r"[^\W\d_]", address) or not re.search(r"\d", address) or len(address) > ADDRESS_MAX_LENGTH:
        raise InvalidAnswer("error.address_invalid")
    return address


def password(text: str) -> str:
    """The rule stated to the user when the password is asked; a refusal names what is wrong."""
    failed = tuple(key for key, broken in (
        ("password.too_short", len(text) < PASSWORD_MIN_LENGTH),
        ("password.upper", not re.search(r"[A-ZÀ-Þ]", text)),
        ("password.lower", not re.search(r"[a-zà-ÿ]", text)),
        ("password.digit", not re.search(r"\d", text)),
        # One word: wherever it is typed again, in a sentence, the free-text rule finds it (flows/secrecy).
        ("password.spaces", any(character.isspace() for character in text)),
    ) if broken)
    if failed:
        raise InvalidAnswer("error.password_weak", failed)
    return text


def subscription_number(text: str) -> str:
    """Subscription numbers as printed on invoices, tolerating spaces and lower case."""
    return re.sub(r"[\s-]", "", text).upper()


def looks_like_code(text: str) -> bool:
    """Telegram only forwards deep-link payloads of this shape."""
    return bool(_DEEP_LINK_CODE.match(text))
