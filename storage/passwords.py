"""Passwords at rest: argon2id hashes only, salted and slow by design."""

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


# OWASP's Password Storage Cheat Sheet: argon2id with 19 MiB, 2 iterations, 1 lane (~25 ms here).
OWASP_ARGON2ID = {"memory_cost": 19 * 1024, "time_cost": 2, "parallelism": 1}


class Argon2Hasher:
    """Implements `flows.ports.PasswordHasher` with argon2id at OWASP's recommended cost.

    A hash costs ~0.1 s of CPU. The conversation asks for it synchronously, so a transport running
    many chats on one event loop first `prepare`s it on a worker thread (argon2 releases the GIL)
    and the conversation then finds it ready; the plain password is kept only until `forget`.
    """

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher(**OWASP_ARGON2ID)
        self._prepared: dict[str, str] = {}

    def hash(self, password: str) -> str:
        return self._prepared.pop(password, None) or self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    async def prepare(self, password: str) -> None:
        self._prepared[password] = await asyncio.to_thread(self._hasher.hash, password)

    def forget(self, password: str) -> None:
        self._prepared.pop(password, None)
