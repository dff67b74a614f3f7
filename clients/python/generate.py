"""Regenerate the client's models from the server: `make client`.

1. Writes the server's OpenAPI document to `openapi.json` beside this file.
2. Generates `src/allot_client/models.py` from it with datamodel-code-generator
   (pinned in the root project's dev group: its output is part of the client),
   then formats it with the project's ruff settings.

This script is the one bridge between the two packages: it runs in the root
project's environment and reads the server's document; nothing it imports
ships in the client's wheel. `tests/client/test_generated.py` fails when either
file is out of date.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DOCUMENT = HERE / "openapi.json"
MODELS = HERE / "src" / "allot_client" / "models.py"

HEADER = '''"""The API's request and response models, generated from `clients/python/openapi.json`.

Do not edit: run `make client` after a change to the API.
"""'''

# The generator's options, so that a run here and in the test write the same file.
OPTIONS = [
    "--input-file-type=openapi",
    "--output-model-type=pydantic_v2.BaseModel",
    "--target-python-version=3.11",
    "--use-annotated",
    "--use-standard-collections",
    "--use-union-operator",
    "--field-constraints",
    "--collapse-root-models",
    "--collapse-constrained-root-models-as-annotated",
    "--use-schema-description",
    "--use-field-description",
    "--enum-field-as-literal=all",
    "--use-double-quotes",
    "--disable-timestamp",
    "--keep-model-order",
    "--formatters=builtin",
    f"--custom-file-header={HEADER}",
]


def server_document() -> dict[str, Any]:
    """The OpenAPI document of the server as it is now."""
    from allot.app import create_app  # the server: only here, never in the package
    from allot.kit.db import Database

    with tempfile.TemporaryDirectory() as tmp:
        document: dict[str, Any] = create_app(Database(f"sqlite:///{tmp}/openapi.db")).openapi()
    return document


def document_text(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def models_source(document: Path) -> str:
    """models.py as the generator writes it from `document`, formatted as the project's code."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "models.py"
        codegen = Path(sys.executable).with_name("datamodel-codegen")
        subprocess.run(
            [str(codegen), f"--input={document}", f"--output={out}", *OPTIONS], check=True
        )
        source = out.read_text()
    for ruff in (["check", "--fix-only", "--exit-zero", "--quiet"], ["format", "--quiet"]):
        source = subprocess.run(
            [sys.executable, "-m", "ruff", *ruff, f"--stdin-filename={MODELS}", "-"],
            input=source,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    return source


def main() -> None:
    DOCUMENT.write_text(document_text(server_document()))
    MODELS.write_text(models_source(DOCUMENT))
    root = HERE.parents[1]
    print(f"wrote {DOCUMENT.relative_to(root)} and {MODELS.relative_to(root)}")


if __name__ == "__main__":
    main()
