"""Usage: consume through the waterfall, seats as a gauge, the ledger and its counters."""
