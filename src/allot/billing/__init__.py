"""Use cases that span domains: the one place that orchestrates them.

Plan and quantity changes (`changes`), upgrade advice (`advice`), issuing API
keys for existing accounts and partners (`keys`), and their routes (`api`).
Nothing below imports this package (the `layers` contract in pyproject.toml).
"""
