"""Orders in, review requests out: the Reviews gate with its top-up limit and backlog (R1-R5)."""
