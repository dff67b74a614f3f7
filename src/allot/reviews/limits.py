"""How much one call may carry. Standard library only: the command line shows it in its help."""

from __future__ import annotations

MAX_BATCH = 10_000  # orders or order ids in one batch, and rows in one listing
