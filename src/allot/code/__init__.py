"""Grants and Access Codes: giving and pausing a grant (`grants`), and the codes a partner
issues, numbered per partner, claimed once by one business (`service`)."""
