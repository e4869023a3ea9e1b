"""User-visible text, read from gettext catalogues (French first, English second)."""

from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

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


@cache
def _load(language: str) -> Catalog:
    with (LOCALES_DIR / f"{language}.po").open("rb") as file:
        return read_po(file, locale=language)


@cache
def catalogue(language: str) -> Catalogue:
    return Catalogue(language if language in LANGUAGES else DEFAULT_LANGUAGE)
