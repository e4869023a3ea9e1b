"""What codes look like, and how what people type for one is read before it is compared.

Two shapes: the long random code of a link (the Commencer button, an invitation), which Telegram
hands over exactly, and the short code people copy from an e-mail by hand. The short one is read
forgivingly: case, spaces, dashes and the letters I, L and O (which it never contains, being read as
1, 1 and 0) do not matter. Only a well-formed code that is wrong is a failed attempt; anything else
is a format problem, explained and not counted.
"""

import re
import secrets

TYPED_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no I, L, O: typed, they are read as 1, 1, 0
TYPED_LENGTH = 8
LINK_BYTES = 16
LINK_LENGTH = -(-LINK_BYTES * 4 // 3)  # urlsafe base64 without its padding
_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—_.·]+")
_LINK = re.compile(rf"^[A-Za-z0-9_-]{{{LINK_LENGTH}}}$")
_TYPED = re.compile(rf"^[{TYPED_ALPHABET}]{{{TYPED_LENGTH}}}$")


def typed_code() -> str:
    """A short code to copy from an e-mail into the chat."""
    return "".join(secrets.choice(TYPED_ALPHABET) for _ in range(TYPED_LENGTH))


def link_code() -> str:
    """A long code for a deep link: never typed, so it needs no forgiving."""
    return secrets.token_urlsafe(LINK_BYTES)


def typed_spelling(text: str) -> str | None:
    """The short code `text` spells, as it is stored; None when it cannot be one."""
    compact = _SEPARATORS.sub("", text).upper().translate(_LOOK_ALIKES)
    return compact if _TYPED.match(compact) else None


def spellings(text: str) -> tuple[str, ...]:
    """Every stored spelling `text` may stand for (a link code, a short code); empty when it is no code."""
    compact = "".join(text.split())
    link = (compact,) if _LINK.match(compact) else ()
    typed = typed_spelling(text)
    return (*link, *((typed,) if typed else ()))
