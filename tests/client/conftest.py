"""The client package and the server's OpenAPI document, for the tests that compare them."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

CLIENT = Path(__file__).resolve().parents[2] / "clients" / "python"


def generator() -> ModuleType:
    """clients/python/generate.py, which is a script, not a package."""
    spec = importlib.util.spec_from_file_location("allot_client_generate", CLIENT / "generate.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def generate() -> ModuleType:
    return generator()


@pytest.fixture(scope="session")
def document(generate: ModuleType) -> dict[str, Any]:
    """The server's OpenAPI document as it is now (not the committed copy)."""
    result: dict[str, Any] = generate.server_document()
    return result
