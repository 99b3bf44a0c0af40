"""A password hasher that counts its work, to show that a refused login never reaches it."""

from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.hashers import MD5PasswordHasher


class CountingHasher(MD5PasswordHasher):
    """The tests' MD5 hasher (same algorithm name, so stored passwords verify), counting every hash computed:
    checking a password and the dummy hash for an unknown user both go through `encode`."""

    calls: ClassVar[int] = 0

    def encode(self, password: str, salt: str) -> str:
        CountingHasher.calls += 1
        return super().encode(password, salt)
