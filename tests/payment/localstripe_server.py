"""A real localstripe server on 127.0.0.1 for the Stripe adapter's tests.

Run as a script, this module *is* the server: it starts localstripe's own aiohttp
application in its own process (localstripe is GPL and a dev tool: the test process
talks to it over HTTP and never imports it). Imported, it gives `running()`, which
starts that process and stops it.

Three things differ from `python -m localstripe`, each for a reason:

- It listens on 127.0.0.1 only (localstripe binds every interface, `::`).
- It keeps its objects in memory only: localstripe saves them to one fixed file,
  /tmp/localstripe.pickle, on every write, which two test runs at once would share.
- It accepts three parameters real Stripe has and localstripe refuses, so that the
  adapter sends it exactly what it sends Stripe: `description` on a Payment- or
  SetupIntent (kept as is); `allowed_payment_method_types`, the name Stripe's API
  (2026-09-30 on) gives what localstripe still calls `payment_method_types`; and the
  `customer` filter when listing PaymentIntents (newest first, as Stripe lists them).
  Nothing else is changed: every outcome (success, decline, authentication) is
  localstripe's own.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

API_KEY = "sk_test_allot"  # localstripe takes any key that starts with sk_


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(port: int) -> None:
    from aiohttp import web
    from localstripe import resources  # type: ignore[import-untyped]
    from localstripe.server import app  # type: ignore[import-untyped]

    resources.Store.dump_to_disk = lambda self: None
    for intent in (resources.PaymentIntent, resources.SetupIntent):
        intent.__init__ = _with_stripe_parameters(intent.__init__)
    list_all = resources.StripeObject._api_list_all.__func__

    def list_intents(cls: Any, /, url: str, customer: str | None = None, **data: Any) -> Any:
        found = list_all(cls, url, **data)
        found._list = [i for i in reversed(found._list) if customer in (None, i.customer)]
        return found

    resources.PaymentIntent._api_list_all = classmethod(list_intents)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def _with_stripe_parameters(init: Any) -> Any:
    def patched(
        self: Any,
        description: str | None = None,
        allowed_payment_method_types: list[str] | None = None,
        **data: Any,
    ) -> None:
        if allowed_payment_method_types is not None:
            data["payment_method_types"] = allowed_payment_method_types  # its older name
        init(self, **data)
        self.description = description

    return patched


def _answers(url: str) -> bool:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {API_KEY}"})
    try:
        with urllib.request.urlopen(request, timeout=1):
            return True
    except urllib.error.HTTPError:
        return True  # it answered, if only to say no
    except OSError:
        return False


@contextmanager
def running() -> Iterator[str]:
    """A fresh localstripe for as long as the block lasts: its base address."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # Its output goes to a file, not a pipe: a pipe nobody reads would stall it once full.
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen([sys.executable, __file__, str(port)], stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 10
            while not _answers(f"{base}/v1/balance"):
                if server.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"localstripe did not start on {base}: {log.read()!r}")
                time.sleep(0.05)
            yield base
        finally:
            server.terminate()
            try:
                server.wait(timeout=5)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
