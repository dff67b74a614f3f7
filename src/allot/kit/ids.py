"""Random identifiers and tokens."""

from __future__ import annotations

import secrets


def new_token(nbytes: int = 16) -> str:
    """A URL-safe random token with `nbytes` bytes of entropy."""
    return secrets.token_urlsafe(nbytes)
