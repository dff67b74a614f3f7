"""Orders in, review requests out: the Reviews gate with its top-up limit and backlog (R1-R5).

The gate draws on the usage ledger; its tables and queries (`allot.backlog`) lie
under the ledger, which reads them to bill top-ups.
"""
