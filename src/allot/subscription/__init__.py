"""Subscriptions: an account's plan per product line, with quantity and contract date (A2)."""
