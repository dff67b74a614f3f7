"""The Reviews gate's tables and queries: orders, months with their top-ups, gates (R1-R5).

The gate itself is `allot.reviews`.
"""
