"""Dunning (P2): when a failed card payment is tried again, and what happens after the last try.

A product line's schedule is a list of days after the first failure, one per
retry. The default follows Stripe's recommendation of up to eight tries within
two weeks: the charge on the invoice's day, then seven retries.

    >>> from datetime import UTC, datetime
    >>> failed = datetime(2026, 3, 1, 7, tzinfo=UTC)
    >>> next_try(failed, failures=1, retry_days=DEFAULT_RETRY_DAYS)   # after the first failure
    datetime.datetime(2026, 3, 2, 7, 0, tzinfo=datetime.timezone.utc)
    >>> next_try(failed, failures=8, retry_days=DEFAULT_RETRY_DAYS) is None   # the 8th failed
    True

Each retry is timed from the first failure, not from the one before, so a slow
round never stretches the schedule.

A payment that needs the cardholder's confirmation is not a failure, but it is
not waited for forever either: the cardholder has the schedule's length (at
least a day) to confirm, after which the payment is withdrawn and the final
rule applies, as after the last retry.

    >>> confirm_by(failed, retry_days=DEFAULT_RETRY_DAYS)
    datetime.datetime(2026, 3, 14, 7, 0, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from itertools import pairwise

DEFAULT_RETRY_DAYS = (1, 3, 5, 7, 9, 11, 13)
MAX_RETRY_DAY = 60


class FinalRule(StrEnum):
    """What the catalog's dunning does after the last retry failed (P2)."""

    DOWNGRADE = "downgrade"  # to the product line's first plan, its free plan
    CANCEL = "cancel"  # the subscription ends
    KEEP = "keep"  # it stays past_due with the invoice open


def next_try(
    first_failed_at: datetime, *, failures: int, retry_days: tuple[int, ...]
) -> datetime | None:
    """When to charge again after `failures` failed charges; None once every retry is spent."""
    if failures < 1:
        raise ValueError("next_try is asked after a failure")
    if failures > len(retry_days):
        return None
    return first_failed_at + timedelta(days=retry_days[failures - 1])


def confirm_by(asked_at: datetime, *, retry_days: tuple[int, ...]) -> datetime:
    """Until when a payment asked for confirmation at `asked_at` is waited for."""
    return asked_at + timedelta(days=max(retry_days, default=1))


def check_retry_days(days: tuple[int, ...]) -> str | None:
    """What is wrong with a schedule, or None: days 1-60, each later than the one before."""
    if any(not 1 <= d <= MAX_RETRY_DAY for d in days):
        return f"each retry is 1 to {MAX_RETRY_DAY} days after the first failure"
    if any(b <= a for a, b in pairwise(days)):
        return "each retry comes later than the one before"
    return None
