"""Tests of the JSON Schemas, validate_json and the OpenAPI description."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import openapi_spec_validator
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from snapcheck.report.model import REPORT_SCHEMA_FILE
from snapcheck.schemas import (
    SCHEMA_DIR,
    SCHEMAS,
    load_openapi,
    load_schema,
    openapi_components,
    schema_path,
    validate_json,
)

PROFILES = Path(__file__).resolve().parents[2] / "reference_device" / "profiles"

CAPS = {
    "success": True,
    "result": {
        "jpegResolution": [{"width": 160, "height": 120}, {"width": 640, "height": 480}],
        "sources": [{"source": "internal"}, {"source": "external"}],
    },
}
INFO = {
    "success": True,
    "result": {
        "devType": "2-14-0-0",
        "variant": "2N IP Verso",
        "variantId": "14",
        "customerId": "0",
        "serialNumber": "00-0000-0005",
        "macAddr": "7C-1E-B3-00-00-05",
        "hwVersion": "570v1",
        "swVersion": "2.35.0.45.0",
        "buildType": "release",
        "firmwarePackage": "verso",
        "deviceName": "2N IP Verso",
    },
}
ERROR = {"success": False, "error": {"code": 12, "param": "width", "description": "invalid"}}


REMOVE = object()


def edited(document: dict[str, Any], path: str, value: object) -> dict[str, Any]:
    """A deep copy of ``document`` with the member at a dotted path set (or removed)."""
    copy: dict[str, Any] = json.loads(json.dumps(document))
    *parents, last = path.split(".")
    node: Any = copy
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is REMOVE:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return copy


# (schema, document, substrings every one of which a violation message must contain;
# an empty tuple means the document is valid).
CASES: list[tuple[str, object, tuple[str, ...]]] = [
    ("success-envelope", {"success": True}, ()),
    ("success-envelope", {"success": True, "result": {}, "extra": 1}, ()),
    ("success-envelope", {"success": "true"}, ("$.success", "True was expected")),
    ("success-envelope", {"result": {}}, ("'success' is a required property",)),
    ("success-envelope", {"success": True, "result": []}, ("$.result", "not of type 'object'")),
    ("error-envelope", ERROR, ()),
    ("error-envelope", edited(ERROR, "error.param", REMOVE), ()),
    ("error-envelope", edited(ERROR, "error.description", ""), ()),
    ("error-envelope", edited(ERROR, "error.code", 6), ("$.error.code", "6 is not one of")),
    ("error-envelope", edited(ERROR, "error.code", 16), ("$.error.code",)),
    ("error-envelope", edited(ERROR, "error.code", "12"), ("$.error.code",)),
    ("error-envelope", edited(ERROR, "error.code", 12.0), ("$.error.code", "not of type")),
    ("error-envelope", edited(ERROR, "error.code", True), ("$.error.code",)),
    ("error-envelope", edited(ERROR, "error.param", 7), ("$.error.param",)),
    ("error-envelope", edited(ERROR, "error.description", REMOVE), ("'description'",)),
    ("error-envelope", edited(ERROR, "error", REMOVE), ("'error' is a required",)),
    ("error-envelope", edited(ERROR, "success", True), ("$.success",)),
    ("envelope", ERROR, ()),
    ("envelope", CAPS, ()),
    ("envelope", {"success": True}, ()),
    ("envelope", edited(ERROR, "error.code", 99), ("$.error.code", "99")),
    ("envelope", {"success": 1}, ("$.success", "boolean")),
    ("envelope", [], ("$", "not of type 'object'")),
    ("caps", CAPS, ()),
    ("caps", edited(CAPS, "result.vendor", "x"), ()),
    ("caps", {"success": True}, ("'result' is a required",)),
    ("caps", edited(CAPS, "result.jpegResolution", []), ("jpegResolution", "non-empty")),
    ("caps", edited(CAPS, "result.sources", []), ("$.result.sources", "non-empty")),
    ("caps", edited(CAPS, "result.jpegResolution", REMOVE), ("'jpegResolution'",)),
    ("caps", edited(CAPS, "result.jpegResolution.0.width", 640.0), ("[0].width", "integer")),
    ("caps", edited(CAPS, "result.jpegResolution.0.width", "640"), ("[0].width",)),
    ("caps", edited(CAPS, "result.jpegResolution.1.height", 0), ("[1].height", "minimum")),
    ("caps", edited(CAPS, "result.jpegResolution.1.height", 65536), ("[1].height",)),
    ("caps", edited(CAPS, "result.jpegResolution.0", {"w": 1, "h": 1}), ("'width'",)),
    ("caps", edited(CAPS, "result.sources.0", {"name": "internal"}), ("'source'",)),
    ("caps", edited(CAPS, "result.sources.0.source", ""), ("sources[0].source",)),
    ("caps", ERROR, ("$.success",)),
    ("system-info", INFO, ()),
    ("system-info", edited(INFO, "result.variantId", 14), ()),
    ("system-info", edited(INFO, "result.devType", REMOVE), ()),
    ("system-info", edited(INFO, "result.buildType", ""), ()),
    ("system-info", edited(INFO, "result.serialNumber", REMOVE), ("'serialNumber'",)),
    ("system-info", edited(INFO, "result.swVersion", 2.35), ("$.result.swVersion",)),
    ("system-info", edited(INFO, "result.variant", ""), ("$.result.variant",)),
    ("system-info", edited(INFO, "result.macAddr", 1), ("$.result.macAddr",)),
    ("system-info-complete", INFO, ()),
    ("system-info-complete", edited(INFO, "result.macAddr", "7c:1e:b3:00:00:05"), ()),
    ("system-info-complete", edited(INFO, "result.macAddr", "7C-1E:B3-00-00-05"), ("macAddr",)),
    ("system-info-complete", edited(INFO, "result.macAddr", "7C1EB3000005"), ("macAddr",)),
    ("system-info-complete", edited(INFO, "result.swVersion", "2.35-beta"), ("swVersion",)),
    ("system-info-complete", edited(INFO, "result.devType", REMOVE), ("'devType'",)),
    ("system-info-complete", edited(INFO, "result.serialNumber", REMOVE), ("'serialNumber'",)),
]


@pytest.mark.parametrize(("schema", "document", "expected"), CASES)
def test_validate_json_reports_exactly_the_violations(
    schema: str, document: object, expected: tuple[str, ...]
) -> None:
    messages = validate_json(document, schema)
    if not expected:
        assert messages == []
    else:
        assert any(all(part in message for part in expected) for message in messages), messages


def test_messages_name_the_path_and_are_said_once() -> None:
    messages = validate_json(b"not parsed", "envelope")
    assert messages == ["$: b'not parsed' is not of type 'object'"]


def test_every_violation_is_reported_in_path_order() -> None:
    document = edited(edited(CAPS, "result.jpegResolution.1.width", 0), "result.sources", [])
    messages = validate_json(document, "caps")
    assert [message.split(":")[0] for message in messages] == [
        "$.result.jpegResolution[1].width",
        "$.result.sources",
    ]


def test_an_unknown_schema_name_is_our_error() -> None:
    with pytest.raises(ValueError, match="unknown schema 'capabilities'"):
        validate_json(CAPS, "capabilities")


@pytest.mark.parametrize("name", list(SCHEMAS))
def test_each_schema_is_valid_2020_12_with_an_id_naming_its_file(name: str) -> None:
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith("/" + schema_path(name).name)


def test_load_schema_returns_a_copy_callers_may_change() -> None:
    load_schema("caps")["required"].append("nothing")
    assert load_schema("caps")["required"] == ["result"]


JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
    | st.binary(max_size=4)
)
JSON_LIKE = st.recursive(
    JSON_LEAVES,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["success", "result", "error", "code", "jpegResolution", "x"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=150)
@given(document=JSON_LIKE, name=st.sampled_from(list(SCHEMAS)))
def test_validate_json_never_raises_for_any_document(document: object, name: str) -> None:
    messages = validate_json(document, name)
    assert all(isinstance(message, str) and message.startswith("$") for message in messages)


@pytest.mark.parametrize("profile", sorted(PROFILES.glob("*.toml")), ids=lambda path: path.stem)
def test_the_reference_device_profiles_identify_themselves_completely(profile: Path) -> None:
    info = tomllib.loads(profile.read_text("utf-8"))["system_info"]
    assert validate_json({"success": True, "result": info}, "system-info-complete") == []


# ---------------------------------------------------------------- OpenAPI

MINIMAL_OPENAPI_31 = {
    "type": "object",
    "required": ["openapi", "info", "paths", "components"],
    "properties": {
        "openapi": {"type": "string", "pattern": r"^3\.1\.[0-9]+$"},
        "info": {"type": "object", "required": ["title", "version"]},
        "paths": {"type": "object", "minProperties": 1},
        "components": {"type": "object", "required": ["schemas", "securitySchemes"]},
    },
}


def test_openapi_has_the_top_level_keys_of_an_openapi_3_1_document() -> None:
    errors = list(Draft202012Validator(MINIMAL_OPENAPI_31).iter_errors(load_openapi()))
    assert errors == []


def test_openapi_is_valid_for_openapi_spec_validator() -> None:
    openapi_spec_validator.validate(load_openapi())


def test_openapi_embeds_exactly_the_schema_files() -> None:
    # Regenerate on mismatch: components.schemas = snapcheck.schemas.openapi_components().
    assert load_openapi()["components"]["schemas"] == openapi_components()


def _component_validator(component: str) -> Draft202012Validator:
    document = load_openapi()
    uri = "urn:snapcheck:openapi"
    registry: Registry[Any] = Registry().with_resource(
        uri, Resource.from_contents(document, default_specification=DRAFT202012)
    )
    return Draft202012Validator(
        {"$ref": f"{uri}#/components/schemas/{component}"}, registry=registry
    )


def _leaves(node: object) -> list[object]:
    if isinstance(node, dict):
        return [leaf for value in node.values() for leaf in _leaves(value)]
    if isinstance(node, list):
        return [leaf for value in node for leaf in _leaves(value)]
    return [node]


def _has_integral_float(document: object) -> bool:
    return any(isinstance(leaf, float) and leaf.is_integer() for leaf in _leaves(document))


# Plain JSON Schema counts 12.0 as an integer; only snapcheck's validator refuses it.
PLAIN_CASES = [case for case in CASES if not _has_integral_float(case[1])]


@pytest.mark.parametrize(("schema", "document", "expected"), PLAIN_CASES)
def test_openapi_components_judge_like_the_schema_files(
    schema: str, document: object, expected: tuple[str, ...]
) -> None:
    valid = not list(_component_validator(SCHEMAS[schema]).iter_errors(document))
    assert valid == (not expected)


def test_only_the_integer_literal_rule_differs_from_plain_json_schema() -> None:
    document = edited(CAPS, "result.jpegResolution.0.width", 640.0)
    assert not list(_component_validator("Caps").iter_errors(document))
    assert validate_json(document, "caps") != []


def test_openapi_describes_get_and_post_of_the_three_functions() -> None:
    paths = load_openapi()["paths"]
    assert {path: sorted(methods) for path, methods in paths.items()} == {
        "/api/camera/caps": ["get", "post"],
        "/api/camera/snapshot": ["get", "post"],
        "/api/system/info": ["get", "post"],
    }


def test_openapi_snapshot_parameters_match_the_seed() -> None:
    parameters = load_openapi()["components"]["parameters"]
    summary = {
        name: (spec["in"], spec["required"], spec["schema"]) for name, spec in parameters.items()
    }
    assert summary == {
        "width": ("query", True, {"type": "integer", "minimum": 1}),
        "height": ("query", True, {"type": "integer", "minimum": 1}),
        "source": ("query", False, {"type": "string", "enum": ["internal", "external"]}),
        "fps": ("query", False, {"type": "number", "minimum": 0}),
        "time": ("query", False, {"type": "number", "minimum": -30, "maximum": 0}),
    }


def test_openapi_post_snapshot_accepts_a_form_body() -> None:
    document = load_openapi()
    body = document["components"]["requestBodies"]["SnapshotForm"]
    assert document["paths"]["/api/camera/snapshot"]["post"]["requestBody"] == {
        "$ref": "#/components/requestBodies/SnapshotForm"
    }
    assert list(body["content"]) == ["application/x-www-form-urlencoded"]
    assert body["required"] is False


def test_openapi_snapshot_replies_in_three_content_types() -> None:
    responses = load_openapi()["components"]["responses"]
    assert set(responses["Snapshot"]["content"]) == {
        "image/jpeg",
        "multipart/x-mixed-replace",
        "application/json",
    }
    unauthorized = responses["Unauthorized"]
    assert unauthorized["headers"]["WWW-Authenticate"]["required"] is True
    assert unauthorized["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorEnvelope"
    }


def test_openapi_security_is_basic_or_digest_and_system_info_is_open() -> None:
    document = load_openapi()
    schemes = document["components"]["securitySchemes"]
    assert {name: (s["type"], s["scheme"]) for name, s in schemes.items()} == {
        "basic": ("http", "basic"),
        "digest": ("http", "digest"),
    }
    for method in ("get", "post"):
        assert document["paths"]["/api/system/info"][method]["security"] == []
        snapshot = document["paths"]["/api/camera/snapshot"][method]
        assert {"digest": []} in snapshot["security"]
        assert {"basic": []} in snapshot["security"]


def test_schema_dir_holds_only_known_schemas_and_the_openapi_file() -> None:
    names = {path.name for path in SCHEMA_DIR.iterdir()}
    # report.schema.json describes snapcheck's own report.json, not a device's reply.
    others = {"openapi.json", REPORT_SCHEMA_FILE}
    assert names == {schema_path(name).name for name in SCHEMAS} | others
