"""Tests of the JSON checks: strict and tolerant reading, expected errors (code, param,
status) and JSON successes, each clause with a conforming and a violating reply."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from synthetic import error_document, jpeg_bytes, json_reply, reply

from snapcheck.checks.json_reply import check_error_reply, check_success_json, parse_json_body
from snapcheck.exchange import Reply
from snapcheck.verdicts import Finding, Verdict

WIDTH_OR_HEIGHT = frozenset({"width", "height"})


def not_passing(findings: Sequence[Finding]) -> dict[str, Verdict]:
    return {f.clause: f.verdict for f in findings if f.verdict is not Verdict.PASS}


@pytest.mark.parametrize(
    ("body", "document", "strict", "problem"),
    [
        (b'{"success": true}', {"success": True}, True, ""),
        (b'{ "success" : true, }', {"success": True}, False, "1 trailing comma"),
        (
            b'{"a": [1, 2,], "b": {"c": 1,},}',
            {"a": [1, 2], "b": {"c": 1}},
            False,
            "3 trailing comma",
        ),
        (b'{"a": "x,]"}', {"a": "x,]"}, True, ""),
        (b'\xef\xbb\xbf{"a": 1}', {"a": 1}, False, "byte order mark"),
        (b'{"a": 1, "a": 2}', {"a": 2}, False, "duplicate member names ['a']"),
        (b'{"a": NaN}', None, False, "NaN is not JSON"),
        (b"\xff{}", None, False, "not UTF-8"),
        (b"<html></html>", None, False, "not JSON"),
        (b"", None, False, "not JSON"),
    ],
)
def test_strict_reading_first_then_tolerant(
    body: bytes, document: object, strict: bool, problem: str
) -> None:
    parsed = parse_json_body(body)
    assert (parsed.document, parsed.strict) == (document, strict)
    assert problem in "; ".join(parsed.problems)


ERRORS: list[tuple[str, Reply, frozenset[str] | None, str, dict[str, Verdict]]] = [
    ("conforming", json_reply(error_document(12, "width")), WIDTH_OR_HEIGHT, "SNAP-WH-2", {}),
    ("param names neither (SHOULD)", json_reply(error_document(12, "fps")), WIDTH_OR_HEIGHT,
     "SNAP-WH-2", {"SNAP-WH-2": Verdict.NON_STRICT}),
    ("param absent where a MUST names it", json_reply(error_document(12)), frozenset({"width"}),
     "SNAP-WH-3", {"SNAP-WH-3": Verdict.FAIL}),
    ("param a list, not a name", json_reply({"success": False, "error": {"code": 12,
     "param": ["width"]}}), frozenset({"width"}), "ENV-PARAM-1",
     {"ENV-PARAM-1": Verdict.NON_STRICT, "ENV-SCHEMA-2": Verdict.FAIL}),
    ("param where no parameter is at fault", json_reply(error_document(12, "width")), frozenset(),
     "ENV-PARAM-1", {"ENV-PARAM-1": Verdict.NON_STRICT}),
    ("wrong code", json_reply(error_document(11, "width")), None, "ENV-PARAM-1",
     {"SNAP-WH-1": Verdict.FAIL}),
    ("code not in the manual", json_reply(error_document(6)), None, "ENV-PARAM-1",
     {"SNAP-WH-1": Verdict.FAIL, "ENV-CODE-1": Verdict.FAIL, "ENV-SCHEMA-2": Verdict.FAIL}),
    ("code as a string", json_reply(error_document("12")), None, "ENV-PARAM-1",
     {"SNAP-WH-1": Verdict.FAIL, "ENV-CODE-1": Verdict.FAIL, "ENV-SCHEMA-2": Verdict.FAIL}),
    ("HTTP 400", json_reply(error_document(12), status=400), None, "ENV-PARAM-1",
     {"ENV-STATUS-1": Verdict.NON_STRICT}),
    ("HTTP 500 for a client's mistake", json_reply(error_document(12), status=500), None,
     "ENV-PARAM-1", {"ENV-STATUS-1": Verdict.FAIL}),
    ("HTTP 302", json_reply(error_document(12), status=302), None, "ENV-PARAM-1",
     {"ENV-STATUS-1": Verdict.FAIL}),
    ("text/html", json_reply(error_document(12), content_type="text/html"), None, "ENV-PARAM-1",
     {"ENV-JSON-1": Verdict.FAIL}),
    ("the manual's trailing comma", json_reply(b'{"success": false, "error": {"code": 12,'
     b' "description": "x",},}'), None, "ENV-PARAM-1", {"ENV-SYNTAX-1": Verdict.NON_STRICT}),
    ("no error member", json_reply({"success": False}), None, "ENV-PARAM-1",
     {"ENV-SCHEMA-2": Verdict.FAIL, "SNAP-WH-1": Verdict.FAIL}),
    ("a success instead", json_reply({"success": True}), None, "ENV-PARAM-1",
     {"ENV-SCHEMA-2": Verdict.FAIL, "SNAP-WH-1": Verdict.FAIL}),
    ("an image instead", reply(jpeg_bytes()), None, "ENV-PARAM-1", {"SNAP-WH-1": Verdict.FAIL}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("sent", "params", "param_clause", "expected"),
    [case[1:] for case in ERRORS],
    ids=[case[0] for case in ERRORS],
)
def test_an_expected_error_is_judged_clause_by_clause(
    sent: Reply, params: frozenset[str] | None, param_clause: str, expected: dict[str, Verdict]
) -> None:
    findings = check_error_reply(
        sent,
        clause="SNAP-WH-1",
        expected_codes=frozenset({12}),
        expected_params=params,
        param_clause=param_clause,
    )
    assert not_passing(findings) == expected
    assert all(f.curl and f.message for f in findings)


@pytest.mark.parametrize(
    ("status", "code", "verdict"),
    [
        (200, 12, Verdict.PASS),
        (401, 9, Verdict.PASS),
        (401, 8, Verdict.PASS),
        (401, 10, Verdict.NON_STRICT),
        (403, 10, Verdict.NON_STRICT),
        (500, 14, Verdict.NON_STRICT),
        (503, 15, Verdict.NON_STRICT),
        (500, 11, Verdict.FAIL),
        (204, 12, Verdict.FAIL),
    ],
)
def test_the_status_of_an_error_follows_the_table(status: int, code: int, verdict: Verdict) -> None:
    findings = check_error_reply(
        json_reply(error_document(code), status=status),
        clause="ENV-CODE-1",
        expected_codes=frozenset({code}),
    )
    assert next(f for f in findings if f.clause == "ENV-STATUS-1").verdict is verdict


def test_an_error_message_names_both_codes() -> None:
    findings = check_error_reply(
        json_reply(error_document(11)), clause="SNAP-WH-1", expected_codes=frozenset({12})
    )
    wrong = next(f for f in findings if f.clause == "SNAP-WH-1")
    assert wrong.message == (
        "expected error 12 (invalid parameter value), got 11 (missing mandatory parameter)"
    )
    assert '"code": 11' in wrong.evidence


INFO = {
    "success": True,
    "result": {"variant": "2N IP Verso", "serialNumber": "00-0000-0005",
               "swVersion": "2.35.0.45.0", "buildType": "release"},
}  # fmt: skip


@pytest.mark.parametrize(
    ("sent", "schema", "clause", "expected"),
    [
        (json_reply({"success": True}), "success-envelope", "ENV-SCHEMA-1", {}),
        (json_reply(b'{ "success" : true, }'), "success-envelope", "ENV-SCHEMA-1",
         {"ENV-SYNTAX-1": Verdict.NON_STRICT}),
        (json_reply(INFO), "system-info", "INFO-SCHEMA-1", {}),
        (json_reply({"success": True, "result": {}}), "system-info", "INFO-SCHEMA-1",
         {"INFO-SCHEMA-1": Verdict.FAIL}),
        (json_reply(error_document(9), status=401), "system-info", "INFO-SCHEMA-1",
         {"ENV-STATUS-1": Verdict.FAIL, "ENV-SCHEMA-1": Verdict.FAIL,
          "INFO-SCHEMA-1": Verdict.FAIL}),
        (json_reply(b"not json"), "success-envelope", "ENV-SCHEMA-1",
         {"ENV-SYNTAX-1": Verdict.NON_STRICT, "ENV-SCHEMA-1": Verdict.FAIL}),
    ],
    ids=["empty success", "manual's example", "system info", "system info incomplete",
         "refused", "not json"],
)  # fmt: skip
def test_a_json_success_is_judged_by_its_schema(
    sent: Reply, schema: str, clause: str, expected: dict[str, Verdict]
) -> None:
    document, findings = check_success_json(sent, schema=schema, schema_clause=clause)
    assert not_passing(findings) == expected
    assert (document is None) == (b"not json" in sent.body)


def test_a_refused_success_says_why() -> None:
    _, findings = check_success_json(json_reply(error_document(9), status=401))
    schema = next(f for f in findings if f.clause == "ENV-SCHEMA-1")
    assert "the device refused" in schema.message and "'code': 9" in schema.message


def test_members_of_any_json_type_are_judged_not_crashed_on() -> None:
    document = {"success": False, "error": {"code": [9], "param": {"a": 1}, "description": 1}}
    findings = check_error_reply(
        json_reply(document, status=401),
        clause="AUTH-CHALLENGE-1",
        expected_codes=frozenset({9}),
        expected_params=frozenset(),
    )
    assert not_passing(findings) == {
        "ENV-STATUS-1": Verdict.NON_STRICT,
        "ENV-SCHEMA-2": Verdict.FAIL,
        "ENV-CODE-1": Verdict.FAIL,
        "AUTH-CHALLENGE-1": Verdict.FAIL,
        "ENV-PARAM-1": Verdict.NON_STRICT,
    }
