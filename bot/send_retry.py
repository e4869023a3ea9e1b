"""A send the Bot API failed for a passing reason (a 5xx, a network error, a timeout) is tried again.

A reply lost to one 502 leaves the person without the next question while their answer is saved:
they type it again and it fills the next field. A few quick tries ride out a proxy's hiccup; a
timed-out send may have arrived, so a retry may show a message twice, which is the lesser harm.
A refusal (400 Bad Request, 403, a 429 past the rate limiter) is final and never retried here.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram.error import BadRequest, NetworkError

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRY_WAITS = (0.5, 1.0, 2.0)  # seconds before each new try: 3.5 s in all, then the failure stands


def passing(error: Exception) -> bool:
    """A failure another try may not meet: no answer, or a server error (BadRequest is a NetworkError too)."""
    return isinstance(error, NetworkError) and not isinstance(error, BadRequest)


async def retried(call: Callable[[], Awaitable[T]], what: str, chat_id: int | str) -> T:
    """`call()`, tried again after each of RETRY_WAITS while it fails for a passing reason."""
    for wait in RETRY_WAITS:
        try:
            return await call()
        except NetworkError as error:
            if not passing(error):
                raise
            log.warning("%s to chat %s failed (%s): tried again in %.1f s", what, chat_id, type(error).__name__, wait)
        await asyncio.sleep(wait)
    return await call()
