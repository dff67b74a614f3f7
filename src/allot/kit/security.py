"""API key material: random, prefixed, stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "allot"


def new_api_key(role: str) -> str:
    """A key such as `allot_op_3q2…` with 192 random bits; shown once, never stored."""
    return f"{KEY_PREFIX}_{role[:2]}_{secrets.token_urlsafe(24)}"


def hash_key(key: str) -> str:
    """The stored form. Keys carry 192 random bits, so a fast hash is enough (no salt needed)."""
    return hashlib.sha256(key.encode()).hexdigest()
