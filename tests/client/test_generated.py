"""The client's generated files are those of the server as it is: a change to the API that
was not followed by `make client` fails here, saying what changed."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

from tests.client.conftest import CLIENT

REGENERATE = "the API changed: run `make client` and commit clients/python"


def differences(committed: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """The operations and schemas that differ, by name, then any other top-level key."""
    found = []
    for section, old, new in [
        ("path", committed.get("paths", {}), current.get("paths", {})),
        (
            "schema",
            committed.get("components", {}).get("schemas", {}),
            current.get("components", {}).get("schemas", {}),
        ),
    ]:
        for name in sorted(old.keys() | new.keys()):
            if old.get(name) != new.get(name):
                change = "added" if name not in old else "removed" if name not in new else "changed"
                found.append(f"{section} {name} {change}")
    for key in sorted(committed.keys() | current.keys()):
        if key not in ("paths", "components") and committed.get(key) != current.get(key):
            found.append(f"{key} changed")
    if not found and committed != current:
        found.append("components changed")
    return found


def test_the_committed_openapi_document_is_the_servers(document: dict[str, Any]) -> None:
    committed = json.loads((CLIENT / "openapi.json").read_text())
    assert differences(committed, document) == [], REGENERATE


def test_the_committed_document_is_written_as_the_generator_writes_it(
    generate: ModuleType, document: dict[str, Any]
) -> None:
    assert (CLIENT / "openapi.json").read_text() == generate.document_text(document), REGENERATE


def test_models_py_is_what_the_generator_makes_of_the_document(generate: ModuleType) -> None:
    """Nobody edits the generated models by hand, and a new generator's output is seen."""
    models = CLIENT / "src" / "allot_client" / "models.py"
    regenerated = generate.models_source(CLIENT / "openapi.json")
    assert models.read_text() == regenerated, REGENERATE


def test_differences_name_what_changed() -> None:
    old = {"info": {"v": 1}, "paths": {"/a": {}}, "components": {"schemas": {"A": {}}}}
    new = {"info": {"v": 2}, "paths": {"/b": {}}, "components": {"schemas": {"A": {"x": 0}}}}
    assert differences(old, new) == [
        "path /a removed",
        "path /b added",
        "schema A changed",
        "info changed",
    ]
