"""The audit log's stories run on the API's world (`tests.e2e.conftest`)."""

from __future__ import annotations

import pytest

from allot.kit.db import Database
from tests.e2e.conftest import Api, make_api


@pytest.fixture
def api(db: Database) -> Api:
    return make_api(db)
