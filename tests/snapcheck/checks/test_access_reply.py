"""Tests of the access refusal checks: each shape of refusal, right and wrong, on synthetic
replies; and what counts as served."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import pytest
from synthetic import error_document, jpeg_bytes, json_reply, reply

from snapcheck.auth import Challenge
from snapcheck.checks.access_reply import (
    challenge_problem,
    check_401,
    check_challenge,
    check_downgrade_refused,
    check_refusal_code,
    check_refused,
    error_code,
    served,
)
from snapcheck.exchange import Reply, StreamPart
from snapcheck.verdicts import Finding, Verdict, worst

CLAUSE = "AUTH-CHALLENGE-1"
DIGEST = 'Digest realm="r", qop="auth", algorithm=SHA-256, nonce="n", opaque="o"'
BASIC = 'Basic realm="r"'


def refusal(code: int = 9, status: int = 401, *challenges: str) -> Reply:
    """A JSON error reply with these WWW-Authenticate challenges."""
    base = json_reply(error_document(code), status=status)
    return replace(base, headers=base.headers + tuple(("WWW-Authenticate", c) for c in challenges))


def stream() -> Reply:
    part = StreamPart(0, (("Content-Type", "image/jpeg"),), 10, 0.0, 0.1)
    base = reply(b"", content_type="multipart/x-mixed-replace; boundary=b")
    return replace(base, parts=(part,))


def verdict(findings: Sequence[Finding], clause: str = CLAUSE) -> Verdict:
    """The worst verdict ``clause`` received (there must be one)."""
    mine = [f.verdict for f in findings if f.clause == clause]
    assert mine, findings
    return worst(mine)


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        (reply(jpeg_bytes()), "a JPEG"),
        (stream(), "a stream"),
        (json_reply({"success": True, "result": {}}), "a JSON success"),
        (refusal(), None),
        (json_reply(error_document(10)), None),
        (replace(reply(jpeg_bytes()), status=0), None),
    ],
)
def test_served_names_what_a_reply_handed_out(sample: Reply, expected: str | None) -> None:
    assert served(sample) == expected


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (error_document(9), 9),
        (error_document(True), None),
        (error_document("9"), None),
        ({"success": True}, None),
        (b"not json", None),
    ],
)
def test_error_code_reads_only_an_integer_code(body: object, code: int | None) -> None:
    assert error_code(json_reply(body)) == code


@pytest.mark.parametrize(
    ("offered", "schemes", "problem"),
    [
        ([Challenge("digest", (("realm", "r"), ("nonce", "n"), ("qop", "auth")))],
         {"digest"}, None),
        ([Challenge("digest", (("realm", "r"), ("nonce", "n"), ("qop", "auth-int,auth")))],
         {"digest"}, None),
        ([Challenge("basic", (("realm", "r"),))], {"basic", "digest"}, None),
        ([], {"basic"}, "no WWW-Authenticate challenge"),
        ([Challenge("basic", (("realm", "r"),))], {"digest"}, "challenges with basic, not digest"),
        ([Challenge("basic")], {"basic"}, "basic: no realm"),
        ([Challenge("digest", (("realm", "r"), ("qop", "auth")))], {"digest"},
         "digest: no nonce"),
        ([Challenge("digest", (("realm", "r"), ("nonce", "n")))], {"digest"},
         "digest: no qop offering auth"),
        ([Challenge("digest", (("realm", "r"), ("nonce", "n"), ("qop", "auth-int")))],
         {"digest"}, "digest: no qop offering auth"),
    ],
)  # fmt: skip
def test_a_challenge_is_usable_when_a_client_can_answer_it(
    offered: list[Challenge], schemes: set[str], problem: str | None
) -> None:
    assert challenge_problem(offered, schemes) == problem


@pytest.mark.parametrize(
    ("sample", "schemes", "expected", "why"),
    [
        (refusal(9, 401, DIGEST), {"digest"}, Verdict.PASS, "error 9"),
        (refusal(9, 401, BASIC, DIGEST), {"basic", "digest"}, Verdict.PASS, "error 9"),
        (refusal(9, 200, DIGEST), {"digest"}, Verdict.FAIL, "HTTP 200, not 401"),
        (refusal(9, 401), {"digest"}, Verdict.FAIL, "no WWW-Authenticate challenge"),
        (refusal(9, 401, BASIC), {"digest"}, Verdict.FAIL, "not digest"),
        (refusal(14, 401, DIGEST), {"digest"}, Verdict.FAIL, "expected error 9"),
        (reply(jpeg_bytes()), {"digest"}, Verdict.FAIL, "served a JPEG instead of refusing"),
        (stream(), {"digest"}, Verdict.FAIL, "served a stream"),
        (replace(refusal(), status=0, transport_error="reset"), {"digest"}, Verdict.FAIL,
         "no reply: reset"),
    ],
)  # fmt: skip
def test_check_challenge_wants_401_a_usable_challenge_and_error_9(
    sample: Reply, schemes: set[str], expected: Verdict, why: str
) -> None:
    findings = check_challenge(sample, clause=CLAUSE, schemes=schemes)
    assert verdict(findings) is expected
    assert any(why in f.message for f in findings if f.clause == CLAUSE), findings
    assert all(f.curl for f in findings)


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        (json_reply(error_document(10)), Verdict.PASS),
        (refusal(10, 401), Verdict.PASS),
        (json_reply(error_document(9)), Verdict.FAIL),
        (reply(jpeg_bytes()), Verdict.FAIL),
    ],
)
def test_check_refusal_code_wants_the_code(sample: Reply, expected: Verdict) -> None:
    findings = check_refusal_code(sample, clause="AUTH-PRIV-1", codes=frozenset({10}))
    assert verdict(findings, "AUTH-PRIV-1") is expected


def test_error_10_with_401_is_non_strict_on_the_status() -> None:
    findings = check_refusal_code(refusal(10, 401), clause="AUTH-PRIV-1", codes=frozenset({10}))
    assert verdict(findings, "ENV-STATUS-1") is Verdict.NON_STRICT


Check = Callable[..., list[Finding]]


@pytest.mark.parametrize(
    ("check", "sample", "expected"),
    [
        (check_refused, refusal(), Verdict.PASS),
        (check_refused, json_reply(error_document(2)), Verdict.PASS),
        (check_refused, reply(b"<html>", content_type="text/html", status=404), Verdict.PASS),
        (check_refused, reply(jpeg_bytes()), Verdict.FAIL),
        (check_refused, stream(), Verdict.FAIL),
        (check_downgrade_refused, refusal(9, 401, DIGEST), Verdict.PASS),
        (check_downgrade_refused, refusal(8, 200), Verdict.PASS),
        (check_downgrade_refused, refusal(8, 401, BASIC), Verdict.PASS),
        (check_downgrade_refused, refusal(9, 401, BASIC), Verdict.FAIL),
        (check_downgrade_refused, refusal(9, 200), Verdict.FAIL),
        (check_downgrade_refused, json_reply({"success": True}), Verdict.FAIL),
        (check_401, refusal(9, 401, DIGEST + ", stale=true"), Verdict.PASS),
        (check_401, refusal(9, 401), Verdict.PASS),
        (check_401, refusal(9, 200), Verdict.FAIL),
        (check_401, reply(jpeg_bytes()), Verdict.FAIL),
    ],
)
def test_the_other_refusal_shapes(check: Check, sample: Reply, expected: Verdict) -> None:
    findings = check(sample, clause="AUTH-GUARD-1")
    assert verdict(findings, "AUTH-GUARD-1") is expected
    assert all(f.curl for f in findings)
