"""A typed Python client for the allot HTTP API, a package of its own.

    from allot_client import Client
    with Client("http://127.0.0.1:8000", api_key="allot_op_…") as allot:
        decision = allot.consume("demo-coffee", "card_operations", idempotency_key="till-7:42")
        if not decision.allowed: ...

Every operation of the API has one method on `Client`; answers are the models
of `allot_client.models`, generated from the server's OpenAPI document. An
error answer raises `AllotError` with the problem's `status`, `code` and field.
It needs httpx and pydantic, and nothing of the server.
"""

from allot_client import models
from allot_client.client import Client
from allot_client.errors import AllotError

__all__ = ["AllotError", "Client", "models"]
