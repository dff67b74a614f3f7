"""schemathesis against /openapi.json, for each role: 0 server errors, 0 schema violations.

Hypothesis generates requests from the OpenAPI document for every operation —
valid and invalid bodies, odd path parameters and query strings — and every
answer must be a documented status with a documented body and content type.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from allot.app import create_app
from tests.e2e.conftest import Api

pytestmark = pytest.mark.slow

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.mark.parametrize("role", ["operator", "cafe", "partner"])
def test_every_operation_answers_within_its_contract(api: Api, role: str) -> None:
    app = create_app(api.db, api.clock, rate_limit="off")
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = api.as_(role)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def answers_within_contract(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        answers_within_contract()
