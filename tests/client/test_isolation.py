"""allot_client stands alone: it imports nothing of the server and needs only httpx and pydantic."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib

from tests.client.conftest import CLIENT

SERVER_SIDE = ("allot", "fastapi", "starlette", "sqlalchemy", "weasyprint", "jinja2", "uvicorn")

# Imports the client, makes a call through a fake transport and parses the answer, then
# lists every module loaded: what a caller's process holds after using the client.
USE_IT = """
import json, sys
import httpx
from allot_client import Client
from allot_client.models import Decision

def answer(request):
    return httpx.Response(200, json={"status": "ok", "database": "ok", "version": "0"})

with Client("http://allot.test", "key", transport=httpx.MockTransport(answer)) as client:
    assert client.health().status == "ok"
print(json.dumps(sorted(sys.modules)))
"""


def test_importing_and_using_allot_client_loads_nothing_of_the_server() -> None:
    # -I: no PYTHONPATH, no current directory on the path; only what is installed.
    done = subprocess.run(
        [sys.executable, "-I", "-c", USE_IT], capture_output=True, text=True, check=True
    )
    loaded = json.loads(done.stdout)
    assert "allot_client.client" in loaded
    server = sorted(name for name in loaded if name.split(".")[0] in SERVER_SIDE)
    assert server == [], f"importing allot_client loaded {server}"


IMPORT = re.compile(r"^\s*(?:from\s+allot(?:\.|\s)|import\s+allot(?:\.|\s|,|$))", re.MULTILINE)


def test_the_client_package_names_no_server_module() -> None:
    """Only generate.py, the bridge that reads the server's document, may import `allot`."""
    naming = sorted(
        str(path.relative_to(CLIENT))
        for path in CLIENT.rglob("*.py")
        if IMPORT.search(path.read_text())
    )
    assert naming == ["generate.py"]
    assert IMPORT.search("from allot.app import create_app")  # the pattern does find one
    assert not IMPORT.search("from allot_client import Client")


def test_the_package_depends_on_httpx_and_pydantic_only() -> None:
    project = tomllib.loads((CLIENT / "pyproject.toml").read_text())["project"]
    names = {re.split(r"[<>=!~\[ ;]", dep, maxsplit=1)[0] for dep in project["dependencies"]}
    assert (project["name"], names) == ("allot-client", {"httpx", "pydantic"})
