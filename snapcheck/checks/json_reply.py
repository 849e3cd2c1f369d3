"""Checks of JSON replies: the envelope every JSON reply shares, and expected errors.

Strategy: the body is read twice at most. First strictly (RFC 8259: UTF-8, no byte order
mark, no duplicate member names, no NaN, no trailing comma); if that fails, tolerantly
(BOM stripped, trailing commas removed, last duplicate wins), so that a body written
like the manual's own example is NON-STRICT under ENV-SYNTAX-1 and the rest of it is
still judged. Schemas come from ``snapcheck.schemas``; the table of error codes from
``snapcheck.expected``. ``check_error_reply`` judges a reply that should refuse a request;
``check_success_json`` one that should answer it (caps, system info).
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeGuard

from snapcheck.checks.clause_ids import (
    ENV_CODE_1,
    ENV_JSON_1,
    ENV_PARAM_1,
    ENV_SCHEMA_1,
    ENV_SCHEMA_2,
    ENV_STATUS_1,
    ENV_SYNTAX_1,
)
from snapcheck.checks.findings import ReplyFindings, violation_verdict
from snapcheck.checks.tally import shown
from snapcheck.exchange import Reply
from snapcheck.expected import ERROR_CODES
from snapcheck.schemas import validate_json
from snapcheck.verdicts import Finding, Verdict

JSON_MEDIA_TYPE = "application/json"
SUCCESS_SCHEMA = "success-envelope"
ERROR_SCHEMA = "error-envelope"
# Quoted bodies in evidence are cut here.
BODY_EVIDENCE = 200
# Codes an HTTP 401 may carry (API-FACTS: "HTTP 401 for authentication").
AUTH_CODES = frozenset({8, 9})
# Codes for which a 5xx is the device's trouble rather than a reply to a client's mistake.
SERVER_SIDE_CODES = frozenset({14, 15})
# The manual's names of the error codes, for messages.
CODE_NAMES: dict[int, str] = {
    1: "function not supported",
    2: "invalid request path",
    3: "invalid request method",
    4: "function disabled",
    5: "function requires a licence",
    7: "invalid connection type",
    8: "invalid authentication method",
    9: "authorisation required",
    10: "insufficient user privileges",
    11: "missing mandatory parameter",
    12: "invalid parameter value",
    13: "parameter data too big",
    14: "unspecified processing error",
    15: "no data available",
    17: "parameter collision",
    18: "rejected",
    19: "file version unsupported",
}
# A JSON string (kept as is) or a comma before a closing bracket (dropped).
_TRAILING_COMMA = re.compile(r'"(?:[^"\\]|\\.)*"|,(\s*[}\]])')


@dataclass(frozen=True, slots=True)
class JsonBody:
    """A body read as JSON: the document (None when no reading parses it) and how it parsed."""

    document: object | None
    strict: bool
    problems: tuple[str, ...]


class _Duplicate(ValueError):
    """A member name occurs twice in one object (RFC 8259: names SHOULD be unique)."""


def _unique_members(pairs: list[tuple[str, object]]) -> dict[str, object]:
    names = [name for name, _ in pairs]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise _Duplicate(f"duplicate member names {twice}")
    return dict(pairs)


def _no_constants(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def parse_json_body(body: bytes) -> JsonBody:
    """Read a body as JSON strictly, else tolerantly; say what only the tolerant reading forgave."""
    try:
        text = body.decode("utf-8")
        document = json.loads(text, object_pairs_hook=_unique_members, parse_constant=_no_constants)
    except ValueError as strict_error:  # UnicodeDecodeError and JSONDecodeError included
        return _tolerant(body, strict_error)
    return JsonBody(document, True, ())


def _tolerant(body: bytes, strict_error: ValueError) -> JsonBody:
    """The tolerant reading; ``problems`` lists what it forgave, or why it failed too."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return JsonBody(None, False, (f"not UTF-8: {error}",))
    forgiven = ["a UTF-8 byte order mark"] if body.startswith(codecs.BOM_UTF8) else []
    text, commas = _drop_trailing_commas(text)
    if commas:
        forgiven.append(f"{commas} trailing comma(s) before a closing bracket")
    if isinstance(strict_error, _Duplicate):
        forgiven.append(str(strict_error))
    try:
        document = json.loads(text, parse_constant=_no_constants)
    except ValueError as error:
        return JsonBody(None, False, (f"not JSON: {error}",))
    return JsonBody(document, False, tuple(forgiven) or (str(strict_error),))


def _drop_trailing_commas(text: str) -> tuple[str, int]:
    dropped = 0

    def replace(match: re.Match[str]) -> str:
        """Keep strings; drop a comma before a closing bracket, counting it."""
        nonlocal dropped
        if match.group(1) is None:
            return match.group(0)
        dropped += 1
        return match.group(1)

    return _TRAILING_COMMA.sub(replace, text), dropped


def check_error_reply(
    reply: Reply,
    *,
    clause: str,
    expected_codes: frozenset[int],
    expected_params: frozenset[str] | None = None,
    param_clause: str = ENV_PARAM_1,
) -> list[Finding]:
    """Judge a reply that should refuse the request with one of ``expected_codes``.

    ``clause`` is cited for the code (e.g. SNAP-WH-1), ``param_clause`` for ``param``
    when ``expected_params`` is given (an empty set: no param is expected).
    """
    out = ReplyFindings(reply)
    if not _looks_like_json(reply):
        out.add(
            clause,
            violation_verdict(clause),
            f"expected the JSON error {_codes(expected_codes)}, got HTTP {reply.status}"
            f" {reply.header('Content-Type') or 'without a Content-Type'}",
            _body_evidence(reply),
        )
        return out.items
    document = _envelope(out, reply)
    error = _error_member(document)
    code = error.get("code") if error is not None else None
    _error_status(out, reply, code)
    problems = _schema_problems(document, ERROR_SCHEMA)
    out.judge(
        ENV_SCHEMA_2,
        not problems,
        "the error envelope is well-formed",
        "the reply is not a well-formed error envelope: " + "; ".join(problems),
        _body_evidence(reply) if problems else "",
    )
    _codes_judged(out, reply, clause, code, expected_codes)
    if expected_params is not None and error is not None:
        _param(out, param_clause, error.get("param"), expected_params)
    return out.items


def _codes_judged(
    out: ReplyFindings, reply: Reply, clause: str, code: object, expected: frozenset[int]
) -> None:
    """ENV-CODE-1 (a code the manual defines) and ``clause`` (the code expected)."""
    if code is not None:
        out.judge(
            ENV_CODE_1,
            _is_int(code) and code in ERROR_CODES,
            f"code {code} is one the manual defines",
            f"code {code!r} is not one the manual defines (1-5, 7-15, 17-19)",
        )
    out.judge(
        clause,
        _is_int(code) and code in expected,
        f"error {_code_text(code)} as expected",
        f"expected error {_codes(expected)}, got "
        + (_code_text(code) if code is not None else "no error code"),
        _body_evidence(reply),
    )


def check_success_json(
    reply: Reply, *, schema: str = SUCCESS_SCHEMA, schema_clause: str = ENV_SCHEMA_1
) -> tuple[object | None, list[Finding]]:
    """Judge a JSON success (system info: schema "system-info", INFO-SCHEMA-1); the document."""
    out = ReplyFindings(reply)
    document, _ = judge_success_json(out, reply, schema=schema, schema_clause=schema_clause)
    return document, out.items


def judge_success_json(
    out: ReplyFindings, reply: Reply, *, schema: str, schema_clause: str
) -> tuple[object | None, bool]:
    """Add the findings of a JSON success reply to ``out``; the document (when it parsed)
    and whether it validates against ``schema``."""
    out.judge(
        ENV_STATUS_1,
        reply.status == 200,
        "HTTP 200 for a success",
        f"a success must come with HTTP 200, not {reply.status} {reply.reason}",
        f"status line: {reply.status} {reply.reason}",
    )
    document = _envelope(out, reply)
    error = _error_member(document)
    refused = f" (the device refused: {error})" if error is not None else ""
    problems = _schema_problems(document, SUCCESS_SCHEMA)
    valid = out.judge(
        ENV_SCHEMA_1,
        not problems,
        "the success envelope is well-formed",
        "the reply is not a well-formed success envelope" + refused + ": " + "; ".join(problems),
        _body_evidence(reply) if problems else "",
    )
    if schema != SUCCESS_SCHEMA:
        problems = _schema_problems(document, schema)
        valid = out.judge(
            schema_clause,
            not problems,
            f"the reply validates against the {schema} schema",
            f"the reply does not validate against the {schema} schema: " + "; ".join(problems),
            _body_evidence(reply) if problems else "",
        )
    return document, valid


def _envelope(out: ReplyFindings, reply: Reply) -> object | None:
    """ENV-JSON-1 and ENV-SYNTAX-1; the parsed document (None when no reading parses it)."""
    declared = reply.header("Content-Type")
    out.judge(
        ENV_JSON_1,
        reply.content_type == JSON_MEDIA_TYPE,
        "Content-Type: application/json",
        f"the JSON body comes as {declared!r}, not application/json",
        f"Content-Type: {declared!r}",
    )
    parsed = parse_json_body(reply.body)
    out.judge(
        ENV_SYNTAX_1,
        parsed.strict,
        "the body is strict JSON (RFC 8259)",
        "the body is not strict JSON: " + "; ".join(parsed.problems),
        "" if parsed.strict else _body_evidence(reply),
    )
    return parsed.document


def _error_status(out: ReplyFindings, reply: Reply, code: object) -> None:
    """ENV-STATUS-1 for an error reply, by the table of API-FACTS and the catalogue."""
    status = reply.status
    if status == 200 or (status == 401 and _is_int(code) and code in AUTH_CODES):
        verdict, why = Verdict.PASS, "HTTP 200 (or 401 for authentication) for an error"
    elif 500 <= status <= 599:
        server_side = _is_int(code) and code in SERVER_SIDE_CODES
        verdict = Verdict.NON_STRICT if server_side else Verdict.FAIL
        why = f"HTTP {status} for error {code!r}: a 5xx " + (
            "for the device's own trouble (code 14 or 15)"
            if server_side
            else "for a client's mistake"
        )
    elif 400 <= status <= 499:
        verdict, why = (
            Verdict.NON_STRICT,
            f"HTTP {status} for an error: the manual answers errors with 200",
        )
    else:
        verdict, why = Verdict.FAIL, f"HTTP {status} is no status for an error reply"
    out.add(ENV_STATUS_1, verdict, why, f"status line: {status} {reply.reason}; code {code!r}")


def _param(out: ReplyFindings, clause: str, param: object, expected: frozenset[str]) -> None:
    if not expected:
        out.judge(
            clause,
            param is None,
            "no param, as no parameter is at fault",
            f"param {param!r} names a parameter, though no parameter is at fault",
        )
        return
    out.judge(
        clause,
        # A param that is not a string (a list, an object) names nothing, and is unhashable.
        isinstance(param, str) and param in expected,
        f"param {param!r} names the parameter at fault",
        f"param is {param!r}, expected one of {sorted(expected)}",
    )


def _looks_like_json(reply: Reply) -> bool:
    head = reply.body.lstrip(b" \t\r\n" + codecs.BOM_UTF8)[:1]
    return reply.content_type == JSON_MEDIA_TYPE or head in (b"{", b"[")


def _error_member(document: object) -> Mapping[str, object] | None:
    error = document.get("error") if isinstance(document, Mapping) else None
    return error if isinstance(error, Mapping) else None


def _schema_problems(document: object | None, schema: str) -> list[str]:
    if document is None:
        return ["the body is not JSON"]
    return validate_json(document, schema)


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _code_text(code: object) -> str:
    if _is_int(code):
        return f"{code} ({CODE_NAMES.get(code, 'not in the manual')})"
    return f"{code!r}"


def _codes(codes: frozenset[int]) -> str:
    return " or ".join(_code_text(code) for code in sorted(codes))


def _body_evidence(reply: Reply) -> str:
    return f"body: {shown(reply.body, BODY_EVIDENCE)}"
