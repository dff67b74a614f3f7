"""The rules of SPEC.md as pure functions: standard library only (checked by import-linter)."""
