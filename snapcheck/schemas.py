"""JSON Schemas of the API's JSON replies, and validation that reports instead of raising.

Strategy: the schemas are data in the repository's top-level ``schemas/`` folder
(JSON Schema 2020-12, one file per reply kind, joined by ``$ref`` through their ``$id``s).
This module loads them, registers them with each other and turns a document's violations
into human-readable messages: a malformed reply is the device's fault, so
``validate_json`` never raises for any document. ``openapi.json`` beside the schemas
embeds the same schemas as components; ``openapi_components`` derives them from the
files so a test can hold the two to one source. Nothing here knows about HTTP.

One deliberate difference from plain JSON Schema: ``"type": "integer"`` accepts only an
integer literal. JSON Schema counts ``640.0`` as an integer, but typed clients (Go's
encoding/json decoding into an int) refuse it, so snapcheck reports it (CAPS-SCHEMA-1).
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from jsonschema import Draft202012Validator, ValidationError, validators
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

# The schemas live beside the package in a source checkout (the repository's schemas/).
SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
OPENAPI_FILE = "openapi.json"
SCHEMA_SUFFIX = ".schema.json"

# Schema name (file stem) -> the component name it has in openapi.json.
SCHEMAS: Mapping[str, str] = {
    "success-envelope": "SuccessEnvelope",
    "error-envelope": "ErrorEnvelope",
    "envelope": "Envelope",
    "caps": "Caps",
    "system-info": "SystemInfo",
    "system-info-complete": "SystemInfoComplete",
}

_COMPONENT_PREFIX = "#/components/schemas/"


def _is_integer_literal(_checker: object, instance: object) -> bool:
    # bool is an int subclass in Python, but true is not an integer in JSON.
    return isinstance(instance, int) and not isinstance(instance, bool)


# Built with create() and no version, so jsonschema's global validator registry still
# maps the 2020-12 meta-schema to the stock Draft202012Validator.
_StrictValidator = validators.create(
    meta_schema=Draft202012Validator.META_SCHEMA,
    validators=Draft202012Validator.VALIDATORS,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer_literal),
)


def schema_path(name: str) -> Path:
    """The file of a named schema; ValueError for a name not in SCHEMAS."""
    if name not in SCHEMAS:
        raise ValueError(f"unknown schema {name!r}; known: {', '.join(SCHEMAS)}")
    return SCHEMA_DIR / f"{name}{SCHEMA_SUFFIX}"


def load_schema(name: str) -> dict[str, Any]:
    """A named schema as a fresh dict (callers may modify it)."""
    return copy.deepcopy(_loaded(name))


@functools.cache
def _loaded(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(schema_path(name).read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    return schema


@functools.cache
def _registry() -> Registry[Any]:
    resources = [
        (schema["$id"], Resource.from_contents(schema, default_specification=DRAFT202012))
        for schema in map(_loaded, SCHEMAS)
    ]
    return Registry().with_resources(resources)


@functools.cache
def _validator(name: str) -> Validator:
    return _StrictValidator(
        _loaded(name),
        registry=_registry(),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def validate_json(document: object, schema_name: str) -> list[str]:
    """Every violation of a schema by a parsed JSON document, as readable messages."""
    # Any Python object is safe here: a value of no JSON type just fails "type".
    errors = sorted(_validator(schema_name).iter_errors(cast(Any, document)), key=_error_order)
    # if/then and allOf can reach one keyword twice: say each violation once.
    return list(dict.fromkeys(_message(error) for error in errors))


def _error_order(error: ValidationError) -> tuple[str, str]:
    return (error.json_path, error.message)


def _message(error: ValidationError) -> str:
    # A failed if/oneOf/anyOf says little by itself: name the sub-error that fits best.
    detail = best_match(error.context) if error.context else None
    suffix = f" ({detail.json_path}: {detail.message})" if detail is not None else ""
    return f"{error.json_path}: {error.message}{suffix}"


def load_openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 description of the API (schemas/openapi.json)."""
    document: dict[str, Any] = json.loads((SCHEMA_DIR / OPENAPI_FILE).read_text("utf-8"))
    return document


def openapi_components() -> dict[str, Any]:
    """The schema files rewritten as OpenAPI components: what openapi.json must embed."""
    return {component: _as_component(name) for name, component in SCHEMAS.items()}


def _as_component(name: str) -> dict[str, Any]:
    schema = load_schema(name)
    # Inside openapi.json the base URI is the document's: $id would move it elsewhere.
    del schema["$schema"], schema["$id"]
    rewritten: dict[str, Any] = _rewrite_refs(schema, SCHEMAS[name])
    return rewritten


def _rewrite_refs(node: Any, component: str) -> Any:
    if isinstance(node, dict):
        return {
            key: _component_ref(value, component)
            if key == "$ref"
            else _rewrite_refs(value, component)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(item, component) for item in node]
    return node


def _component_ref(ref: str, component: str) -> str:
    """'#/$defs/x' in Caps -> '#/components/schemas/Caps/$defs/x'; 'caps.schema.json' -> Caps."""
    target, _, fragment = ref.partition("#")
    if target:
        stem = target.removesuffix(SCHEMA_SUFFIX)
        if stem == target or stem not in SCHEMAS:
            raise ValueError(f"$ref {ref!r} names no schema file of {SCHEMA_DIR}")
        component = SCHEMAS[stem]
    return f"{_COMPONENT_PREFIX}{component}{fragment}"
