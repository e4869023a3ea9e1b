"""User-visible text, read from gettext catalogues (French first, English second)."""

import gettext
from collections.abc import Callable
from datetime import datetime, tzinfo
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from babel.dates import format_date
from babel.numbers import format_decimal

LOCALES_DIR = Path(__file__).parent / "locales"
DEFAULT_LANGUAGE = "fr"
LANGUAGES = ("fr", "en")


def language_for(telegram_language: str | None) -> str:
    """English for people whose Telegram speaks English, French for everyone else."""
    if telegram_language and telegram_language.lower().startswith("en"):
        return "en"
    return DEFAULT_LANGUAGE


class Catalogue:
    """The messages of one language; a key missing there falls back to French."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._messages = _load(language)
        self._fallback = _load(DEFAULT_LANGUAGE)

    def text(self, key: str, **values: object) -> str:
        message = self._messages.get(key) or self._fallback.get(key)
        if message is None or not message.string:
            raise KeyError(f"no message {key!r} in the catalogues")
        return str(message.string).format(**values)

    def number(self, n: int) -> str:
        """A count as the language writes it: « 1 000 » (narrow no-break space) in French, "1,000" in English."""
        return format_decimal(n, locale=self.language)

    def duration(self, seconds: float) -> str:
        """How long something lasts, in the largest whole unit it reaches: « 30 jours », « 15 minutes »."""
        for unit, length in (("count.days", 86400), ("count.hours", 3600)):
            if seconds >= length:
                return self.plural(unit, round(seconds / length))
        return self.plural("count.minutes", max(1, round(seconds / 60)))

    def remaining(self, seconds: float) -> str:
        """How long is left, never more than is: whole days from three days on, else whole hours
        (« 47 heures », where `duration` would round up to « 2 jours »), else minutes."""
        if seconds >= 3 * 86400:
            return self.plural("count.days", int(seconds // 86400))
        if seconds >= 3600:
            return self.plural("count.hours", int(seconds // 3600))
        return self.plural("count.minutes", max(1, int(seconds // 60)))

    def date(self, at: float, zone: tzinfo) -> str:
        """A day as the language writes it, in `zone`: « 2 mars 2027 », "March 2, 2027"."""
        return format_date(datetime.fromtimestamp(at, zone), format="long", locale=self.language)

    def plural(self, key: str, n: int, **values: object) -> str:
        """The form of message `key` that goes with the number `n` (« 1 minute », « 2 minutes »), by the
        language's own plural rule; `{n}` in the message is the number, written as the language does."""
        catalog = self._messages if key in self._messages else self._fallback
        message = catalog.get(key)
        if message is None or not isinstance(message.string, tuple) or not all(message.string):
            raise KeyError(f"no plural message {key!r} in the catalogues")
        form = min(_plural_rule(catalog.plural_expr)(n), len(message.string) - 1)
        return str(message.string[form]).format(n=self.number(n), **values)


@cache
def _load(language: str) -> Catalog:
    with (LOCALES_DIR / f"{language}.po").open("rb") as file:
        return read_po(file, locale=language)


@cache
def _plural_rule(expression: str) -> Callable[[int], int]:
    """The catalogue's Plural-Forms expression (CLDR's rule, written by Babel) as a function."""
    return gettext.c2py(expression)


@cache
def catalogue(language: str) -> Catalogue:
    return Catalogue(language if language in LANGUAGES else DEFAULT_LANGUAGE)
