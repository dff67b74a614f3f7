"""Accounts: one business (merchant, store) with its time zone, currency and locale (A1)."""
