"""The segment language: a JSON/YAML tree of conditions, validated against a JSON Schema.

A definition is data, never code: it is parsed with ``json.loads`` or ``yaml.safe_load`` (no tags
that build objects), validated against :data:`SCHEMA` and the field registry, and compiled by
:mod:`clientbook.store.segment_compiler` into a SQLAlchemy query whose values are bound
parameters. Anything the schema does not describe is refused with a 400 naming the broken rule.

Example (YAML)::

    name: lapsed-book-lovers
    description: Bought books at least twice, nothing in the last 180 days, e-mail allowed
    refresh_minutes: 60
    where:
      all:
        - {purchase: {category: Books}, min_count: 2}
        - {field: last_order_at, op: lt, value: {days_ago: 180}}
        - {consent: {purpose: marketing, channel: email}}
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from clientbook.errors import UsageError
from clientbook.store.models.contacts import CHANNELS, DIRECTIONS, PREFERENCE_SOURCES

OPERATORS = (
    "eq",
    "ne",
    "lt",
    "lte",
    "gt",
    "gte",
    "between",
    "in",
    "not_in",
    "contains",
    "starts_with",
    "is_null",
    "not_null",
)
CONSENT_PURPOSES = ("marketing", "personalisation", "profiling")
MAX_DEPTH = 12
MAX_CONDITIONS = 200

_TEXT = {"type": "string", "minLength": 1, "maxLength": 200}
_COUNTS = {
    "min_count": {"type": "integer", "minimum": 0, "maximum": 1_000_000},
    "max_count": {"type": "integer", "minimum": 0, "maximum": 1_000_000},
    "within_days": {"type": "integer", "minimum": 1, "maximum": 36_500},
}

#: The JSON Schema of a segment document (Draft 2020-12).
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Clientbook segment",
    "type": "object",
    "required": ["name", "where"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,99}$"},
        "description": {"type": "string", "maxLength": 2000},
        "refresh_minutes": {"type": ["integer", "null"], "minimum": 1, "maximum": 525_600},
        "where": {"$ref": "#/$defs/condition"},
    },
    "$defs": {
        "scalar": {"type": ["string", "number", "boolean", "null"], "maxLength": 200},
        "relative_date": {
            "type": "object",
            "required": ["days_ago"],
            "additionalProperties": False,
            "properties": {"days_ago": {"type": "integer", "minimum": 0, "maximum": 36_500}},
        },
        "value": {
            "anyOf": [
                {"$ref": "#/$defs/scalar"},
                {"$ref": "#/$defs/relative_date"},
                {
                    "type": "array",
                    "maxItems": 1000,
                    "items": {
                        "anyOf": [{"$ref": "#/$defs/scalar"}, {"$ref": "#/$defs/relative_date"}]
                    },
                },
            ]
        },
        "condition": {
            "oneOf": [
                {"$ref": "#/$defs/all"},
                {"$ref": "#/$defs/any"},
                {"$ref": "#/$defs/not"},
                {"$ref": "#/$defs/field"},
                {"$ref": "#/$defs/event"},
                {"$ref": "#/$defs/purchase"},
                {"$ref": "#/$defs/preference"},
                {"$ref": "#/$defs/consent"},
                {"$ref": "#/$defs/in_segment"},
            ]
        },
        "all": {
            "type": "object",
            "required": ["all"],
            "additionalProperties": False,
            "properties": {
                "all": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/condition"}}
            },
        },
        "any": {
            "type": "object",
            "required": ["any"],
            "additionalProperties": False,
            "properties": {
                "any": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/condition"}}
            },
        },
        "not": {
            "type": "object",
            "required": ["not"],
            "additionalProperties": False,
            "properties": {"not": {"$ref": "#/$defs/condition"}},
        },
        "field": {
            "type": "object",
            "required": ["field", "op"],
            "additionalProperties": False,
            "properties": {
                "field": {
                    "type": "string",
                    "pattern": "^[a-z][a-z0-9_]{0,40}(\\.[a-z][a-z0-9_]{0,63})?$",
                },
                "op": {"enum": list(OPERATORS)},
                "value": {"$ref": "#/$defs/value"},
            },
        },
        "event": {
            "type": "object",
            "required": ["event"],
            "additionalProperties": False,
            "properties": {
                "event": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "channel": {"enum": list(CHANNELS)},
                        "type": _TEXT,
                        "direction": {"enum": list(DIRECTIONS)},
                        "outcome": _TEXT,
                    },
                },
                **_COUNTS,
            },
        },
        "purchase": {
            "type": "object",
            "required": ["purchase"],
            "additionalProperties": False,
            "properties": {
                "purchase": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "category": _TEXT,
                        "brand": _TEXT,
                        "sku": _TEXT,
                        "channel": _TEXT,
                    },
                },
                **_COUNTS,
            },
        },
        "preference": {
            "type": "object",
            "required": ["preference"],
            "additionalProperties": False,
            "properties": {
                "preference": {
                    "type": "object",
                    "required": ["key"],
                    "additionalProperties": False,
                    "properties": {
                        "key": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$"},
                        "value": _TEXT,
                        "source": {"enum": list(PREFERENCE_SOURCES)},
                        "min_confidence": {"type": "number", "minimum": 0, "maximum": 1},
                    },
                }
            },
        },
        "consent": {
            "type": "object",
            "required": ["consent"],
            "additionalProperties": False,
            "properties": {
                "consent": {
                    "type": "object",
                    "required": ["purpose", "channel"],
                    "additionalProperties": False,
                    "properties": {
                        "purpose": {"enum": list(CONSENT_PURPOSES)},
                        "channel": {"enum": ["all", *CHANNELS]},
                    },
                }
            },
        },
        "in_segment": {
            "type": "object",
            "required": ["in_segment"],
            "additionalProperties": False,
            "properties": {
                "in_segment": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,99}$"}
            },
        },
    },
}

_VALIDATOR = Draft202012Validator(SCHEMA)


def parse_document(text: str | bytes) -> Any:
    """Read a definition written as JSON or YAML (safe loader: data only, no object tags)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if len(text) > 200_000:
        raise UsageError("The segment definition is larger than 200 kB.")
    stripped = text.lstrip()
    try:
        if stripped.startswith(("{", "[")):
            return json.loads(text)
        return yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(
            f"The segment definition is neither valid JSON nor valid YAML: {first}",
            hint="YAML tags such as !!python/... are refused: a definition is data only.",
        ) from exc


def _shape(node: Any, depth: int = 0) -> int:
    """Count conditions and check nesting depth (before the schema recurses into them)."""
    if depth > MAX_DEPTH:
        raise UsageError(f"The segment definition nests deeper than {MAX_DEPTH} levels.")
    if isinstance(node, dict):
        return 1 + sum(_shape(v, depth + 1) for v in node.values())
    if isinstance(node, list):
        return sum(_shape(v, depth + 1) for v in node)
    return 0


def validate_document(document: Any) -> dict[str, Any]:
    """Check a parsed definition against the schema; raise UsageError listing every problem."""
    if not isinstance(document, dict):
        raise UsageError("A segment definition is an object with at least 'name' and 'where'.")
    if _shape(document) > MAX_CONDITIONS * 4:
        raise UsageError(f"The segment definition has more than {MAX_CONDITIONS} conditions.")
    errors = sorted(_VALIDATOR.iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        problems = [_describe(e) for e in errors[:5]]
        raise UsageError(
            "The segment definition does not follow the schema: " + "; ".join(problems),
            hint="See `clientbook segment schema` for what a definition may contain.",
        )
    return document


def _describe(error: Any) -> str:
    where = "/".join(str(p) for p in error.absolute_path) or "(top)"
    if error.validator == "oneOf":
        node = error.instance
        kinds = [k for k in _KINDS if isinstance(node, dict) and k in node]
        if len(kinds) == 1:
            inner = [
                e for e in error.context if e.relative_schema_path[0] == _KINDS.index(kinds[0])
            ]
            if inner:
                return _describe(best_match(inner))
        return (
            f"at {where}: not a known condition ({', '.join(_KINDS)}) "
            "or it has keys that condition does not take"
        )
    return f"at {where}: {str(error.message)[:200]}"


_KINDS = ("all", "any", "not", "field", "event", "purchase", "preference", "consent", "in_segment")
