"""Telegram's size limits, met by splitting a long text into several, never by failing.

Telegram measures text in UTF-16 code units (an emoji outside the BMP counts two); counting
that way is never more lenient than counting characters.
"""

TEXT_LIMIT = 4096  # sendMessage / editMessageText text
CAPTION_LIMIT = 1024  # copyMessage / sendPhoto caption
TOPIC_NAME_LIMIT = 128  # createForumTopic name
NOTICE_LIMIT = 200  # answerCallbackQuery text
SEPARATORS = ("\n\n", "\n", " ")  # paragraphs, then lines, then words


def units(text: str) -> int:
    """The length Telegram checks against its limits."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """`text` as parts of at most `limit`, cut at paragraphs, then lines, then words; a word is only
    cut when it is longer than a whole part."""
    if units(text) <= limit:
        return [text]
    return [part for part in _pack(text, limit, SEPARATORS) if part.strip()] or [""]


def shortened(text: str, limit: int) -> str:
    """The first part of `text` that fits, for what must be one piece (a topic name, a button's toast)."""
    return split_text(text, limit)[0]


def _pack(text: str, limit: int, separators: tuple[str, ...]) -> list[str]:
    if units(text) <= limit:
        return [text]
    if not separators:
        return _cut(text, limit)
    separator, finer = separators[0], separators[1:]
    parts: list[str] = []
    current: str | None = None  # the part being filled, pieces joined by `separator`
    for piece in text.split(separator):
        joined = piece if current is None else f"{current}{separator}{piece}"
        if units(joined) <= limit:
            current = joined
            continue
        if current is not None:
            parts.append(current)
        *whole, current = _pack(piece, limit, finer)
        parts.extend(whole)
    return [*parts, current] if current is not None else parts


def _cut(word: str, limit: int) -> list[str]:
    """A single word longer than a part: cut between characters, never inside a surrogate pair."""
    parts, current, size = [], "", 0
    for character in word:
        width = units(character)
        if size + width > limit:
            parts.append(current)
            current, size = "", 0
        current, size = current + character, size + width
    return [*parts, current] if current else parts
