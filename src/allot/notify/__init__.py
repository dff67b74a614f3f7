"""E-mail: an outbox of messages, sent over SMTP by `allot worker` after commit.

queue_email()  ── in the caller's transaction ──▶ one `emails` row, pending
worker         ── lease due rows ──▶ one SMTP session per round ──▶ sent; or the next
                  try on the backoff schedule (about three days), then failed; a
                  recipient the server refuses for good (5xx) fails at once
"""
