"""A real webhook receiver on 127.0.0.1 that verifies every request with `standardwebhooks`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from allot.kit.clock import FixedClock, SystemClock
from allot.kit.db import Database
from allot.webhook.delivery import deliver_due, new_http_client
from allot.webhook.repository import EndpointRow
from allot.webhook.service import create_endpoint


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    message: Any  # the verified, parsed body; None if verification failed
    error: str | None


class Receiver:
    """Answers with the statuses in `plan` (then 200), verifying each request's signature."""

    def __init__(self) -> None:
        self.secret: str | None = None
        self.plan: list[int] = []
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.receiver = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._stopped = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks"

    def take(self, headers: dict[str, str], body: bytes) -> int:
        message, error = None, None
        try:
            message = Webhook(self.secret or "").verify(body, headers)
        except Exception as exc:  # recorded; the test asserts there were none
            error = f"{type(exc).__name__}: {exc}"
        with self._lock:
            self.received.append(Received(headers, body, message, error))
            status = self.plan.pop(0) if self.plan else 200
        return 400 if error else status

    @property
    def messages(self) -> list[Any]:
        assert [r.error for r in self.received if r.error] == []
        return [r.message for r in self.received]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


class _Server(ThreadingHTTPServer):
    receiver: Receiver


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        headers = {k.lower(): v for k, v in self.headers.items()}
        status = self.server.receiver.take(headers, body)
        reply = b"nope" if status >= 300 else b"ok"
        self.send_response(status)
        self.send_header("content-length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    found.start()
    yield found
    found.stop()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with new_http_client() as client:
        yield client


def add_endpoint(
    db: Database,
    clock: FixedClock,
    receiver: Receiver,
    event_types: tuple[str, ...] = ("usage.threshold_reached",),
) -> EndpointRow:
    with db.transaction() as conn:
        row = create_endpoint(
            conn, clock, url=receiver.url, event_types=event_types, allow_private=True
        )
    receiver.secret = row.secret
    return row


def deliver(db: Database, clock: FixedClock, http: httpx.Client, limit: int = 10) -> int:
    """One worker round; signatures carry the real time, as the receiver checks it."""
    return deliver_due(
        db, clock, http=http, limit=limit, allow_private=True, signing_clock=SystemClock()
    )
