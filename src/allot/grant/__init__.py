"""Grants: prepaid monthly allowances drawn before the plan (the layer under Access Codes)."""
