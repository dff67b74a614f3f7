"""The catalog domain: what is sold, read from a YAML file (presets/*.yaml) and stored.

`allot.catalog.loader` turns a catalog file into the core's frozen dataclasses
(`allot.core.catalog.Catalog`), refusing a bad file with every problem named by
file, line and field (C5).
"""
