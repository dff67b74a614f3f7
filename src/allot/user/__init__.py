"""Operator and partner users (W3): passwords, one-time codes, sessions, lockouts."""
