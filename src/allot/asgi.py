"""The ASGI application for uvicorn (`allot serve`), configured from the environment."""

from allot.app import create_app
from allot.config import Settings
from allot.kit.db import Database
from allot.kit.simclock import StoredClock

_settings = Settings.from_env()
_db = Database(_settings.database_url, sqlite_synchronous=_settings.sqlite_synchronous)
app = create_app(
    _db,
    StoredClock(_db),  # real time, or the database's simulated time once set
    rate_limit=_settings.rate_limit,
    rate_burst=_settings.rate_burst,
    threads=_settings.route_threads(sqlite=_db.is_sqlite),
    claim_rate=_settings.claim_rate,
    referral_link=_settings.referral_link,
    activation_link=_settings.activation_link,
    email=_settings.smtp() is not None,
    future_tolerance=_settings.future_tolerance,
    gateway=_settings.gateway(),
    payment_links=_settings.payment_links(),
    public_url=_settings.public_url,
    stripe_js=_settings.stripe_js(),
)
