"""Catalog use cases: load a validated catalog into the database, versioning plans (C5)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.engine import Connection

from allot import audit
from allot.catalog import repository as repo
from allot.core.catalog import Catalog
from allot.core.errors import Conflict
from allot.kit.clock import Clock
from allot.kit.i18n import language


@dataclass
class LoadReport:
    catalog: str
    added: list[str] = field(default_factory=list)  # "code v1"
    new_versions: list[str] = field(default_factory=list)  # "code v2"
    unchanged: list[str] = field(default_factory=list)


def load_catalog(
    conn: Connection,
    clock: Clock,
    *,
    catalog: Catalog,
    details: Mapping[str, Mapping[str, Any]] | None = None,
    names: Mapping[str, Mapping[str, Mapping[str, str]]] | None = None,
) -> LoadReport:
    """Store metrics, product lines and plans; a plan whose terms changed gets a new version;
    `names` (the file's `translations:`) replace the catalog's translated names.

    Loading the same file twice changes nothing. Existing subscriptions point at
    the version they signed, so a price change never touches them.
    """
    now = clock.now()
    report = LoadReport(catalog.name)
    for metric in catalog.metrics.values():
        existing = repo.get_metric(conn, metric.code)
        if existing is not None and existing.kind != metric.kind:
            raise Conflict(
                "metric_kind_changed",
                f"metric {metric.code!r} is a {existing.kind.value}; it cannot become a "
                f"{metric.kind.value} (define a new metric instead)",
                field=f"metrics.{metric.code}.kind",
            )
        repo.save_metric(conn, metric, catalog=catalog.name, exists=existing is not None)
    for line in catalog.product_lines.values():
        repo.save_product_line(conn, line, catalog=catalog.name)
    for plan in catalog.plans.values():
        plan_details = (details or {}).get(plan.code, {})
        current = repo.latest_plan(conn, plan.code)
        if current is None:
            stored = replace(plan, version=1)
            repo.insert_plan(conn, stored, catalog=catalog.name, details=plan_details, at=now)
            report.added.append(f"{plan.code} v1")
        elif current[1].terms() == plan.terms():
            report.unchanged.append(f"{plan.code} v{current[1].version}")
        else:
            stored = replace(plan, version=current[1].version + 1)
            repo.insert_plan(conn, stored, catalog=catalog.name, details=plan_details, at=now)
            report.new_versions.append(f"{plan.code} v{stored.version}")
    repo.replace_names(conn, catalog.name, names or {})
    if report.added or report.new_versions:
        audit.record(
            conn, clock, change="catalog.loaded", subject_kind="catalog",
            subject_id=catalog.name,
            after={"added": report.added, "new_versions": report.new_versions},
        )  # fmt: skip
    return report


@dataclass(frozen=True, slots=True)
class Names:
    """The catalog's names in one language (W2): a translated one where the catalog gives it,
    else the name as written (English)."""

    lang: str
    translated: Mapping[tuple[str, str], str]

    def __call__(self, kind: str, code: str, name: str) -> str:
        return self.translated.get((kind, code), name)

    def metric(self, code: str, name: str) -> str:
        return self("metrics", code, name)

    def plan(self, code: str, name: str) -> str:
        return self("plans", code, name)


def names(conn: Connection, lang: str) -> Names:
    """What the catalog calls things in `lang` (English: every name as written)."""
    lang = language(lang)
    return Names(lang, {} if lang == "en" else repo.names_in(conn, lang))
