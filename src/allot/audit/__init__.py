"""The audit log (S1): every change, by whom, when, before and after; append-only."""

from allot.audit.service import record

__all__ = ["record"]
