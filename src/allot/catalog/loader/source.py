"""Reading the YAML: composed by PyYAML's safe loader, the line of every key and item noted."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from enum import StrEnum
from typing import Final, TypeVar, overload

import yaml

from allot.catalog.loader.results import CatalogProblem, Loc
from allot.core.errors import InvalidInput
from allot.core.money import to_decimal

E = TypeVar("E", bound=StrEnum)

MAP_TAG: Final = "tag:yaml.org,2002:map"
SEQ_TAG: Final = "tag:yaml.org,2002:seq"
STR_TAG: Final = "tag:yaml.org,2002:str"
MERGE_TAG: Final = "tag:yaml.org,2002:merge"
CODE_PATTERN: Final = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*\Z")
MAX_CODE: Final = 64  # the database's code columns
MAX_NODES: Final = 100_000  # a catalog has hundreds; stops alias bombs
FIRST_DAY, LAST_DAY = 1, 28  # every month has these days

TOP_KEYS: Final = (
    "catalog",
    "description",
    "currency",
    "features",
    "metrics",
    "product_lines",
    "plans",
    "translations",
)
METRIC_KEYS: Final = ("name", "kind", "unit", "description")
LINE_KEYS: Final = (
    "name",
    "ladder",
    "overage_invoice_day",
    "top_up_invoice_day",
    "waive_overage_on_upgrade",
    "referral_reward",
    "archive_oldest",
    "late_usage_grace_days",
    "dunning",
)
DUNNING_KEYS: Final = ("retry_days", "final_rule")
PLAN_KEYS: Final = (
    "name",
    "product_line",
    "currency",
    "price",
    "by_agreement",
    "interval",
    "per_quantity",
    "features",
    "note",
    "tip",
    "published_price_per_order",
    "metrics",
)
RULE_KEYS: Final = ("included", "policy", "overage_price", "top_up_price", "example")


# --- reading the YAML ---------------------------------------------------------------------


class Missing:
    pass


MISSING: Final = Missing()


class Source:
    """A composed YAML file as plain values, with the line of every key and list item."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lines: dict[Loc, int] = {(): 1}
        self.floats: dict[Loc, str] = {}  # a float's text as written, for the message
        self.problems: list[CatalogProblem] = []
        self._nodes = 0

    def line(self, loc: Loc) -> int:
        while loc not in self.lines:
            loc = loc[:-1]
        return self.lines[loc]

    def problem(self, loc: Loc, message: str, code: str, *, line: int | None = None) -> None:
        self.problems.append(
            CatalogProblem(self.path, line or self.line(loc), dotted(loc), message, code)
        )

    def compose(self, text: str) -> object:
        loader: yaml.SafeLoader | None = None
        try:
            loader = yaml.SafeLoader(text)  # reads the text: a control character fails here
            node = loader.get_single_node()
            if node is None:
                self.problem((), "the file is empty", "empty_catalog")
                return None
            return self._value(loader, node, (), frozenset())
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            message = f"invalid YAML: {exc.problem or exc.context}"
            if exc.problem and exc.context and exc.context_mark:
                message += f" ({exc.context} at line {exc.context_mark.line + 1})"
            line = None if mark is None else mark.line + 1
            self.problems.append(CatalogProblem(self.path, line, "", message, "invalid_yaml"))
        except yaml.YAMLError as exc:  # e.g. a character YAML does not allow
            self.problems.append(
                CatalogProblem(self.path, None, "", f"invalid YAML: {exc}", "invalid_yaml")
            )
        finally:
            if loader is not None:
                loader.dispose()
        return None

    def _value(
        self, loader: yaml.SafeLoader, node: yaml.Node, loc: Loc, open_nodes: frozenset[int]
    ) -> object:
        self._nodes += 1
        if self._nodes > MAX_NODES:
            if self._nodes == MAX_NODES + 1:
                self.problem(loc, "the file expands to too many values", "too_large")
            return None
        self.lines.setdefault(loc, node.start_mark.line + 1)
        if id(node) in open_nodes:
            self.problem(loc, "an alias refers to a node that contains it", "recursive_alias")
            return None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(loader, node, loc, open_nodes | {id(node)})
        if isinstance(node, yaml.SequenceNode):
            if node.tag != SEQ_TAG:
                self.problem(loc, f"unsupported YAML tag {node.tag!r}", "unsupported_tag")
                return None
            items = []
            for index, item in enumerate(node.value):
                self.lines[(*loc, index)] = item.start_mark.line + 1
                items.append(self._value(loader, item, (*loc, index), open_nodes | {id(node)}))
            return items
        try:
            value = loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            reason = getattr(exc, "problem", None) or str(exc)
            self.problem(loc, f"cannot read this value: {reason}", "invalid_yaml")
            return None
        if isinstance(value, float):
            self.floats[loc] = str(node.value)
        return value

    def _mapping(
        self, loader: yaml.SafeLoader, node: yaml.MappingNode, loc: Loc, open_nodes: frozenset[int]
    ) -> dict[str, object] | None:
        if node.tag != MAP_TAG:
            self.problem(loc, f"unsupported YAML tag {node.tag!r}", "unsupported_tag")
            return None
        out: dict[str, object] = {}
        first_seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != STR_TAG:
                shown = key_node.value if isinstance(key_node, yaml.ScalarNode) else "..."
                reason = (
                    "merge keys (<<) are not supported: write the keys out"
                    if key_node.tag == MERGE_TAG
                    else f"keys must be names; {shown!r} is not (quote it if it is meant)"
                )
                self.problem(loc, reason, "invalid_key", line=key_line)
                continue
            key = str(key_node.value)
            if key in first_seen:
                self.problem(
                    (*loc, key),
                    f"duplicate key {key!r} (first at line {first_seen[key]})",
                    "duplicate_key",
                    line=key_line,
                )
                continue
            first_seen[key] = key_line
            self.lines[(*loc, key)] = key_line
            out[key] = self._value(loader, value_node, (*loc, key), open_nodes)
        return out


class Fields:
    """One mapping of the file, read key by key; a key nobody reads is a typo."""

    def __init__(
        self, source: Source, loc: Loc, data: Mapping[str, object], known: Sequence[str]
    ) -> None:
        self.source = source
        self.loc = loc
        self.data = data
        for key in data:
            if key not in known:
                hint = did_you_mean(key, known) or f" (known: {', '.join(known)})"
                source.problem((*loc, key), f"unknown key{hint}", "unknown_key")

    def at(self, key: str) -> Loc:
        return (*self.loc, key)

    def _get(self, key: str, *, required: bool) -> object:
        value = self.data.get(key)
        if value is None:
            if required:
                missing = key not in self.data
                self.source.problem(
                    self.at(key), "required" if missing else "must not be empty", "missing_field"
                )
            return MISSING
        return value

    def _wrong(self, key: str, wanted: str, value: object) -> None:
        self.source.problem(self.at(key), f"must be {wanted}, not {describe(value)}", "wrong_type")

    @overload
    def text(self, key: str) -> str | None: ...
    @overload
    def text(self, key: str, default: str) -> str: ...
    def text(self, key: str, default: str | None = None) -> str | None:
        value = self._get(key, required=default is None)
        if isinstance(value, Missing):
            return default
        if not isinstance(value, str):
            self._wrong(key, "text", value)
            return default
        if default is None and not value.strip():
            self.source.problem(self.at(key), "must not be empty", "missing_field")
            return None
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self._get(key, required=False)
        if isinstance(value, Missing):
            return default
        if not isinstance(value, bool):
            self._wrong(key, "true or false", value)
            return default
        return value

    def integer(
        self, key: str, *, minimum: int, maximum: int | None = None, default: int | None = None
    ) -> int | None:
        value = self._get(key, required=default is None)
        if isinstance(value, Missing):
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self._wrong(key, "a whole number", value)
            return None
        if value < minimum or (maximum is not None and value > maximum):
            wanted = (
                f"from {minimum} to {maximum}"
                if maximum is not None
                else ("a non-negative integer" if minimum == 0 else f"at least {minimum}")
            )
            self.source.problem(self.at(key), f"must be {wanted}, not {value}", "out_of_range")
            return None
        return value

    def choice(self, key: str, kind: type[E]) -> E | None:
        value = self._get(key, required=True)
        if isinstance(value, Missing):
            return None
        options = [member.value for member in kind]
        if not isinstance(value, str) or value not in options:
            hint = did_you_mean(value, options) if isinstance(value, str) else ""
            self.source.problem(
                self.at(key),
                f"must be one of {', '.join(options)}, not {describe(value)}{hint}",
                "invalid_choice",
            )
            return None
        return kind(value)

    def money(self, key: str) -> Decimal | None:
        """An optional amount: a quoted decimal or an integer, >= 0; never a float."""
        value = self._get(key, required=False)
        if isinstance(value, Missing):
            return None
        if isinstance(value, float):
            written = self.source.floats.get(self.at(key), repr(value))
            self.source.problem(
                self.at(key),
                f'must be a decimal string or integer, not a float (write "{written}")',
                "float_money",
            )
            return None
        if isinstance(value, bool) or not isinstance(value, int | str):
            self._wrong(key, "a decimal string or integer", value)
            return None
        try:
            amount = to_decimal(value, field=key)
        except InvalidInput:
            self.source.problem(
                self.at(key), f"{value!r} is not a decimal number", "invalid_amount"
            )
            return None
        if amount < 0:
            self.source.problem(self.at(key), f"must not be negative, not {value}", "out_of_range")
            return None
        return amount

    def names(self, key: str, *, required: bool) -> list[str] | None:
        value = self._get(key, required=required)
        if isinstance(value, Missing):
            return None if required else []
        if not isinstance(value, list):
            self._wrong(key, "a list of names", value)
            return None
        if required and not value:
            self.source.problem(self.at(key), "must list at least one name", "missing_field")
            return None
        result: list[str] = []
        for index, item in enumerate(value):
            if not isinstance(item, str):
                self.source.problem(
                    (*self.at(key), index), f"must be a name, not {describe(item)}", "wrong_type"
                )
                continue
            if item in result:
                self.source.problem(
                    (*self.at(key), index), f"{item!r} is listed twice", "duplicate_name"
                )
                continue
            result.append(item)
        return result if len(result) == len(value) else None

    def mapping(self, key: str, *, required: bool) -> dict[str, object] | None:
        value = self._get(key, required=required)
        if isinstance(value, Missing):
            return None if required else {}
        if not isinstance(value, dict):
            self._wrong(key, "a mapping (name: value lines)", value)
            return None
        if required and not value:
            self.source.problem(self.at(key), "must define at least one entry", "missing_field")
            return None
        return value


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def describe(value: object) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a yes/no value)"
    if isinstance(value, float):
        return f"a float ({value!r})"
    if isinstance(value, int):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"text ({value!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__} ({value!s})"


def dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out = f"{out}.{part}" if out else part
    return out
