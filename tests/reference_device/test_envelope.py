"""The JSON envelope: exact bytes a client parses, and every code described."""

from __future__ import annotations

import json

import pytest

from reference_device.envelope import (
    DESCRIPTIONS,
    ApiError,
    ErrorCode,
    render_error,
    render_success,
)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            ApiError(ErrorCode.INVALID_PATH),
            {"success": False, "error": {"code": 2, "description": "invalid request path"}},
        ),
        (
            ApiError(ErrorCode.MISSING_PARAMETER, "width"),
            {
                "success": False,
                "error": {
                    "code": 11,
                    "param": "width",
                    "description": "missing mandatory parameter",
                },
            },
        ),
        (
            ApiError(ErrorCode.INVALID_PARAMETER, "fps", "fps is above the maximum of 15"),
            {
                "success": False,
                "error": {
                    "code": 12,
                    "param": "fps",
                    "description": "fps is above the maximum of 15",
                },
            },
        ),
        (
            ApiError(ErrorCode.NO_DATA),
            {"success": False, "error": {"code": 15, "description": "no data available"}},
        ),
    ],
)
def test_error_envelope(error: ApiError, expected: dict[str, object]) -> None:
    assert json.loads(render_error(error)) == expected


def test_param_is_absent_unless_a_parameter_is_at_fault() -> None:
    assert b'"param"' not in render_error(ApiError(ErrorCode.INVALID_METHOD))


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (None, {"success": True}),
        ({"a": [1, 2]}, {"success": True, "result": {"a": [1, 2]}}),
    ],
)
def test_success_envelope(result: dict[str, object] | None, expected: dict[str, object]) -> None:
    assert json.loads(render_success(result)) == expected


def test_bodies_are_ascii_even_for_non_ascii_strings() -> None:
    body = render_success({"deviceName": "Vchod č. 1"})
    body.decode("ascii")
    assert json.loads(body)["result"]["deviceName"] == "Vchod č. 1"


def test_every_code_has_a_description_and_there_is_no_code_6() -> None:
    assert set(DESCRIPTIONS) == set(ErrorCode)
    assert 6 not in {int(code) for code in ErrorCode}
