"""Grants: the tables and queries of prepaid monthly allowances drawn before the plan.

The usage ledger draws on them; giving and pausing one (which settles seats)
are use cases above the ledger: `allot.code.grants`.
"""
