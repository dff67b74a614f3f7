"""The ASGI application for uvicorn (`allot serve`), configured from the environment."""

from allot.app import create_app
from allot.config import Settings
from allot.kit.db import Database

_settings = Settings.from_env()
app = create_app(
    Database(_settings.database_url, sqlite_synchronous=_settings.sqlite_synchronous),
    rate_limit=_settings.rate_limit,
    rate_burst=_settings.rate_burst,
    threads=_settings.api_threads,
    claim_rate=_settings.claim_rate,
)
