"""/v1/catalog: read by any key, loaded by the operator."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import Connection

from allot.api_context import Caller, Db, IdempotencyKey, Now, idempotent
from allot.apikey.service import Principal
from allot.catalog import repository as repo
from allot.catalog.codec import plan_to_json
from allot.catalog.loader import parse_catalog_with_extras
from allot.catalog.service import load_catalog

router = APIRouter(prefix="/catalog", tags=["catalog"])


class CatalogLoad(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field("catalog.yaml", max_length=200, description="Shown in error messages.")
    yaml: str = Field(max_length=1_000_000, description="The catalog file's text.")


class LoadReportRead(BaseModel):
    catalog: str
    added: list[str]
    new_versions: list[str]
    unchanged: list[str]


class PlanRead(BaseModel):
    id: int
    definition: dict[str, Any]
    details: dict[str, Any]


@router.get("", response_model=list[PlanRead])
def get_catalog(db: Db, caller: Caller) -> list[PlanRead]:
    """The newest version of every plan, with its allowances and overage rules."""
    with db.read() as conn:
        return [
            PlanRead(id=pid, definition=json.loads(plan_to_json(plan)), details=details)
            for pid, plan, details in repo.latest_plans(conn)
        ]


@router.post("", response_model=LoadReportRead)
def post_catalog(
    body: CatalogLoad, db: Db, now: Now, caller: Caller, key: IdempotencyKey = None
) -> object:
    """Load a catalog (operator). A plan whose terms changed becomes a new version."""

    def work(conn: Connection, principal: Principal) -> tuple[int, dict[str, Any]]:
        principal.require_operator()
        loaded = parse_catalog_with_extras(body.yaml, path=body.name)
        report = load_catalog(
            conn,
            now,
            catalog=loaded.catalog,
            details=loaded.extras.details(),
            names=loaded.extras.names,
        )
        return 200, report.__dict__

    return idempotent(db, now, caller, key, body, work)
