"""Catalog files: YAML in, `allot.core.catalog.Catalog` out, or every problem with its line.

The format, in brief (each preset in presets/ opens with a commented copy):

    catalog: stamp-card              # the catalog's name (a code)
    description: ...
    currency: EUR                    # optional: the currency of plans that name none
    features:                        # the flags plans may list, with what they mean
      wallet_passes: Apple Wallet + Google Wallet passes
    metrics:                         # C1
      card_operations: {name: Card operations, kind: counter, unit: operation}
    product_lines:                   # C4: a ladder of plans, cheapest first; B2 days
      stamp-card: {name: Loyalty cards, ladder: [free, monthly],
                   overage_invoice_day: 8, top_up_invoice_day: 1,
                   waive_overage_on_upgrade: false,   # B3
                   late_usage_grace_days: 35}         # B7: late usage accepted this long
    plans:                           # C2
      monthly:
        name: Monthly
        product_line: stamp-card
        currency: EUR
        price: "29"                  # a quoted decimal or an integer, never a float
        by_agreement: false          # true, with no price, for Custom / Enterprise
        interval: month              # month | year
        per_quantity: true           # C3: price and allowances x quantity (locations)
        features: [wallet_passes]
        note: ...                    # shown with the plan
        tip: ...                     # advice shown beside the plan (V3)
        published_price_per_order: "0.19"   # a figure the source publishes, for display
        metrics:
          card_operations:
            included: 1000           # per unit of quantity, per month
            policy: bill             # bill | record_and_prompt | block | top_up_then_backlog
            overage_price: "0.03"    # policy bill only
            top_up_price: "0.14"     # policy top_up_then_backlog only
            example: true            # figures the source does not give: example numbers

Why not `yaml.safe_load` plus a schema library: C5 wants each problem named by
file, line and field, and all of them at once. So the text is *composed* with
PyYAML's safe loader (nodes carry marks), turned into plain values while the
line of every key and list item is noted, and then read field by field: a bad
field is reported and reading goes on, so one run lists every problem. The
core dataclasses' own checks (`InvalidInput`) are reported the same way. A
catalog is built only from a file with no problem at all.

Money is never a float: YAML reads `0.14` as a binary fraction, which cannot
hold 14 cents exactly, so the loader refuses it and asks for "0.14".

What the core `Plan` has no room for (tips, published figures, which numbers
are examples, what a feature means) comes back beside the catalog as
`CatalogExtras` (`load_catalog_with_extras`); `catalog_to_dict` renders both.
"""

from __future__ import annotations

from pathlib import Path

from allot.catalog.loader.read import read_catalog
from allot.catalog.loader.results import (
    CatalogError,
    CatalogExtras,
    CatalogProblem,
    LoadedCatalog,
    PlanExtras,
    catalog_to_dict,
)
from allot.catalog.loader.source import Source
from allot.core.catalog import Catalog

__all__ = [
    "CatalogError",
    "CatalogExtras",
    "CatalogProblem",
    "LoadedCatalog",
    "PlanExtras",
    "catalog_to_dict",
    "load_catalog",
    "load_catalog_with_extras",
    "parse_catalog",
    "parse_catalog_with_extras",
]


# --- public API ---------------------------------------------------------------------------


def load_catalog(path: Path | str) -> Catalog:
    return load_catalog_with_extras(path).catalog


def parse_catalog(text: str, *, path: str = "<string>") -> Catalog:
    return parse_catalog_with_extras(text, path=path).catalog


def load_catalog_with_extras(path: Path | str) -> LoadedCatalog:
    shown = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise CatalogError(
            [CatalogProblem(shown, None, "", f"cannot read the file: {reason}", "unreadable_file")]
        ) from None
    return parse_catalog_with_extras(text, path=shown)


def parse_catalog_with_extras(text: str, *, path: str = "<string>") -> LoadedCatalog:
    source = Source(path)
    root = source.compose(text)  # None: unreadable YAML, reported
    if root is None and not source.problems:
        source.problem((), "the file is empty", "empty_catalog")
    # Keep reading past non-fatal YAML problems (a duplicate key), to report everything.
    loaded = None if root is None else read_catalog(source, root)
    if source.problems or loaded is None:
        raise CatalogError(source.problems or [CatalogProblem(path, 1, "", "not a catalog")])
    return loaded
