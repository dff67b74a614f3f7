"""The HTTP API: FastAPI under /v1, docs served from local assets (no CDN)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel

from allot import __version__, http
from allot.account.api import router as accounts
from allot.api_context import Db
from allot.catalog.api import router as catalog
from allot.kit.clock import Clock, SystemClock
from allot.kit.db import Database
from allot.kit.ratelimit import Buckets, parse_rate
from allot.usage.api import router as usage
from allot.webhook.api import router as webhooks


class Health(BaseModel):
    status: str
    database: str
    version: str


def create_app(
    db: Database,
    clock: Clock | None = None,
    *,
    rate_limit: str = "1000/s",
    rate_burst: int = 2000,
) -> FastAPI:
    """The API over `db`. `rate_limit` is per API key and per process ('1000/s', 'off')."""
    app = FastAPIOffline(
        title="allot",
        version=__version__,
        description="Usage-based billing and entitlements: may this happen, and who pays?",
        openapi_url="/openapi.json",
        docs_url="/docs",
    )
    app.state.db = db
    app.state.clock = clock or SystemClock()
    app.state.limiter = Buckets(rate=parse_rate(rate_limit), burst=rate_burst)
    http.install(app)
    v1 = APIRouter(prefix="/v1", responses=http.PROBLEM_RESPONSES)
    v1.include_router(accounts)
    v1.include_router(usage)
    v1.include_router(catalog)
    v1.include_router(webhooks)

    @v1.get("/health", response_model=Health, tags=["health"])
    def health(db: Db) -> Health:
        """Liveness and database reachability (no key needed)."""
        with db.read() as conn:
            conn.exec_driver_sql("SELECT 1")
        return Health(status="ok", database=db.dialect, version=__version__)

    app.include_router(v1)
    return app
