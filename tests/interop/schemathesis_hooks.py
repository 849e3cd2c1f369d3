"""Schemathesis hooks and checks for the intercom API (loaded through SCHEMATHESIS_HOOKS).

Strategy: Schemathesis runs against the reference device with schemas/openapi.json and
its own checks, except two whose premise the contract rejects, each replaced by a check
of what the contract says instead:

- ``negative_data_rejection`` expects a 4xx for a request the description calls
  invalid. The intercom answers a wrong parameter with HTTP 200 and the JSON error
  envelope (API-FACTS: "Success is always HTTP 200. An error is HTTP 200, or HTTP 401
  for authentication"), as the description says. ``invalid_query_refused`` demands that
  envelope instead.
- ``unsupported_method`` expects 405 for a method the description does not list; the
  intercom answers error 3 in the envelope (with HTTP 200). ``undeclared_method_refused``
  demands error 3 instead.

Every other check stays on, among them status codes, content types, response headers
and response schemas (so the envelope of each error reply is validated). A request with
``fps >= 1`` (and no ``time``) asks for an endless multipart stream, which no
request/response checker can read to its end: ``map_query`` and ``map_body`` drop such
an fps, and the streams are proved by ffmpeg, OpenCV, Chromium and snapcheck instead.

The judgements are plain functions (``refusal_problem``, ``wrong_method_problem``) so
that tests can show they fail on a wrong reply; the hooks are thin wrappers.
"""

from __future__ import annotations

import json
import math
from typing import Any

import schemathesis
from schemathesis import Case, HookContext, Response
from schemathesis.checks import CheckContext
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.modes import GenerationMode

# The methods every path of the description declares; anything else must be error 3.
DECLARED_METHODS = frozenset({"GET", "POST"})
# A reply to HEAD has no body to judge.
BODILESS_METHODS = frozenset({"HEAD"})
INVALID_METHOD_CODE = 3
# The parameters the description declares for a snapshot.
DECLARED_PARAMETERS = frozenset({"width", "height", "source", "fps", "time"})


def asks_for_stream(value: object) -> bool:
    """Whether an fps value (or any of repeated values) reads as a number >= 1."""
    values = value if isinstance(value, list) else [value]
    for item in values:
        # A bool is sent as "true"/"false", which no device reads as a number.
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            continue
        try:
            number = float(item)
        except (TypeError, ValueError):
            continue
        if not math.isnan(number) and number >= 1:
            return True
    return False


def without_stream(parameters: Any) -> Any:
    """The parameters without an fps that would start an endless stream (others: as they are)."""
    # An operation without parameters has None here, and a negative body may be no mapping.
    if isinstance(parameters, dict) and asks_for_stream(parameters.get("fps")):
        return {name: value for name, value in parameters.items() if name != "fps"}
    return parameters


def error_code_of(body: bytes) -> tuple[int | None, str]:
    """The error code of a JSON error envelope, or None and why the body is not one."""
    try:
        document = json.loads(body)
    except ValueError:
        return None, f"not JSON: {body[:80]!r}"
    if not isinstance(document, dict) or document.get("success") is not False:
        return None, f"not an error envelope: {body[:120]!r}"
    error = document.get("error")
    code = error.get("code") if isinstance(error, dict) else None
    if not isinstance(code, int) or isinstance(code, bool):
        return None, f"not an error envelope: {body[:120]!r}"
    return code, ""


def refusal_problem(status: int, body: bytes) -> str | None:
    """What is wrong with the reply to an invalid request (None: a proper refusal)."""
    if status not in (200, 401):
        return f"HTTP {status}: an error is HTTP 200 (401 for authentication)"
    code, problem = error_code_of(body)
    return problem if code is None else None


def wrong_method_problem(method: str, status: int, body: bytes) -> str | None:
    """What is wrong with the reply to a method the API does not serve (None: error 3)."""
    problem = refusal_problem(status, body)
    if problem is not None:
        return problem
    code, _ = error_code_of(body)
    if code != INVALID_METHOD_CODE and status != 401:
        return f"{method} answered error {code}, not {INVALID_METHOD_CODE} (invalid method)"
    return None


@schemathesis.hook
def map_query(context: HookContext, query: Any) -> Any:
    """Drop an fps that would start an endless stream from the query."""
    return without_stream(query)


@schemathesis.hook
def map_body(context: HookContext, body: Any) -> Any:
    """Drop an fps that would start an endless stream from a form body."""
    return without_stream(body)


def _judged_query_is_invalid(case: Case[Any]) -> bool:
    """Whether the device must refuse this case for its query alone."""
    info = case.meta.components.get(ParameterLocation.QUERY) if case.meta else None
    if info is None or info.mode is not GenerationMode.NEGATIVE:
        return False
    # An undeclared parameter SHOULD be ignored (API-FACTS), and in a POST the form body
    # may supply what the query lacks (the query's value wins only where it has one).
    query = case.query or {}
    if set(query) - DECLARED_PARAMETERS:
        return False
    return case.method.upper() == "GET" or case.body is None


@schemathesis.check
def invalid_query_refused(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """A query the description calls invalid is refused with the JSON error envelope."""
    if not _judged_query_is_invalid(case):
        return None
    problem = refusal_problem(response.status_code, response.content)
    if problem is not None:
        raise AssertionError(f"an invalid query was not refused: {problem}")
    return True


@schemathesis.check
def undeclared_method_refused(
    ctx: CheckContext, response: Response, case: Case[Any]
) -> bool | None:
    """A method the API does not serve is refused with error 3 in the JSON envelope."""
    method = case.method.upper()
    if method in DECLARED_METHODS | BODILESS_METHODS:
        return None
    problem = wrong_method_problem(method, response.status_code, response.content)
    if problem is not None:
        raise AssertionError(problem)
    return True
