"""The judgements behind the Schemathesis checks that replace the 4xx-minded ones."""

from __future__ import annotations

import pytest
from schemathesis_hooks import (
    asks_for_stream,
    error_code_of,
    refusal_problem,
    without_stream,
    wrong_method_problem,
)

ENVELOPE_12 = b'{"success": false, "error": {"code": 12, "description": "invalid parameter value"}}'
ENVELOPE_3 = b'{"success": false, "error": {"code": 3, "description": "invalid request method"}}'
ENVELOPE_9 = b'{"success": false, "error": {"code": 9, "description": "authorisation required"}}'


@pytest.mark.parametrize(
    ("value", "stream"),
    [("5", True), ("1", True), ("1e1", True), (" 2 ", True), (["0", "3"], True), (15.0, True),
     ("0.5", False), ("0", False), ("-1", False), ("nan", False), ("abc", False), (None, False),
     (["null", "null"], False), (True, False)],
)  # fmt: skip
def test_asks_for_stream_reads_fps_as_the_device_would(value: object, stream: bool) -> None:
    assert asks_for_stream(value) is stream


def test_without_stream_drops_only_a_streaming_fps() -> None:
    assert without_stream({"width": "1", "fps": "5"}) == {"width": "1"}
    assert without_stream({"width": "1", "fps": "0.5"}) == {"width": "1", "fps": "0.5"}
    assert without_stream(None) is None
    assert without_stream(["fps", "5"]) == ["fps", "5"]


@pytest.mark.parametrize(
    ("body", "code"),
    [(ENVELOPE_12, 12), (b'{"success": true}', None), (b"\xff\xd8\xff", None), (b"[]", None),
     (b'{"success": false, "error": {"code": "12"}}', None),
     (b'{"success": false, "error": {"code": true}}', None)],
)  # fmt: skip
def test_error_code_of_reads_only_the_error_envelope(body: bytes, code: int | None) -> None:
    assert error_code_of(body)[0] == code


@pytest.mark.parametrize(
    ("status", "body", "refused"),
    [(200, ENVELOPE_12, True), (401, ENVELOPE_9, True), (400, ENVELOPE_12, False),
     (500, ENVELOPE_12, False), (200, b"\xff\xd8\xff\xd9", False),
     (200, b'{"success": true}', False)],
)  # fmt: skip
def test_refusal_problem_accepts_only_the_envelope_with_200_or_401(
    status: int, body: bytes, refused: bool
) -> None:
    assert (refusal_problem(status, body) is None) is refused


@pytest.mark.parametrize(
    ("status", "body", "refused"),
    [(200, ENVELOPE_3, True), (401, ENVELOPE_9, True), (200, ENVELOPE_12, False),
     (405, b"", False), (200, b"\xff\xd8\xff\xd9", False)],
)  # fmt: skip
def test_wrong_method_problem_wants_error_3(status: int, body: bytes, refused: bool) -> None:
    assert (wrong_method_problem("PUT", status, body) is None) is refused
