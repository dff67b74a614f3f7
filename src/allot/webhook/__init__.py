"""Webhooks: signed events (Standard Webhooks) from an outbox, delivered by `allot worker`.

emit()  ── in the caller's transaction ──▶ webhook_events + one pending webhook_deliveries row
                                           per enabled endpoint subscribed to the type
worker  ── claim due rows (lease) ──▶ POST, signed ──▶ record the attempt: delivered, or the
           next try on the backoff schedule (about three days), then failed
"""
