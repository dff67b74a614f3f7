"""allot: a self-hosted usage-based billing and entitlements engine."""

__version__ = "0.1.0"
