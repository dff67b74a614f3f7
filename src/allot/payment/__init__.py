"""Payments (P1-P4): cards on file at a provider, charge attempts, collections and dunning."""
