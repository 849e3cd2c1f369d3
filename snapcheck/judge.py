"""Judge one reply: what the request as sent allowed, what came, and every check of its kind.

Strategy: ``judge`` composes the pieces and decides nothing of its own about the contract.
The expected-outcome model (``snapcheck.expected``) says which outcomes are acceptable for
the request as sent; the reply is classified (one JPEG, a stream, JSON, other) and
observed (its size, or its error code); the alternative it matches gives the verdict of
its clauses, and a reply matching none is ``Expectation.otherwise`` on the primary clause.
Then the wire checks of the reply's kind run against that alternative (or, when nothing
matched, the first alternative of the same kind). Each clause gets one finding: the worst
of what the model and the checks said. Every finding carries the reply's curl line.

What this module adds itself is only what no wire check covers: the transport (whether
the device answered at all, and in well-formed HTTP), authentication notes, the
system-info clauses, and requests the API refuses without a parameter at fault (an
unknown path, a method caps does not serve). A reply to HEAD has no body, so no body
check runs on it. A reply read from a HAR capture has no arrival times, so the
timing clauses become INFORMATIONAL ("not judgeable") instead of passing or failing.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from snapcheck.checks.caps_reply import check_caps_reply
from snapcheck.checks.clause_ids import (
    ENV_CODE_1,
    INFO_SCHEMA_1,
    STREAM_LIVE_1,
    STREAM_RATE_1,
    STREAM_RATE_2,
    STREAM_RATE_3,
)
from snapcheck.checks.findings import ReplyFindings
from snapcheck.checks.jpeg_reply import check_jpeg_reply
from snapcheck.checks.json_reply import (
    BODY_EVIDENCE,
    check_error_reply,
    judge_success_json,
    parse_json_body,
)
from snapcheck.checks.stream_reply import check_stream_reply, describe_part
from snapcheck.checks.tally import shown
from snapcheck.exchange import PartImage, Reply, Request
from snapcheck.expected import (
    ERROR_CODES,
    Alternative,
    AnyOutcome,
    Caps,
    DeviceConfig,
    Expectation,
    JsonError,
    Observed,
    ObservedError,
    SingleJpeg,
    Stream,
    expected_outcome,
)
from snapcheck.jpeg import walk_jpeg
from snapcheck.schemas import validate_json
from snapcheck.transport import DEVICE_UNREACHABLE
from snapcheck.verdicts import SEVERITY_ORDER, Finding, Verdict

SNAPSHOT_PATH = "/api/camera/snapshot"
CAPS_PATH = "/api/camera/caps"
INFO_PATH = "/api/system/info"
API_PATHS = (SNAPSHOT_PATH, CAPS_PATH, INFO_PATH)
# Caps and system info serve GET and POST; caps SHOULD refuse any other method with error 3.
SERVED_METHODS = frozenset({"GET", "POST"})
# A reply to HEAD has no body (RFC 9110, section 9.3.2): there is no body to judge.
BODILESS_METHODS = frozenset({"HEAD"})
INVALID_PATH_CODE = 2
INVALID_METHOD_CODE = 3

# Clauses judged here (the wire checks cite theirs through checks.clause_ids).
TRANSPORT_1 = "TRANSPORT-1"
AUTH_CHALLENGE_1 = "AUTH-CHALLENGE-1"
AUTH_OPEN_1 = "AUTH-OPEN-1"
CAPS_METHOD_1 = "CAPS-METHOD-1"
CAPS_METHOD_2 = "CAPS-METHOD-2"
ENV_PATH_1 = "ENV-PATH-1"
INFO_METHOD_1 = "INFO-METHOD-1"
INFO_FIELDS_1 = "INFO-FIELDS-1"
INFO_SERVER_1 = "INFO-SERVER-1"
# Clauses judged from arrival times, which a HAR capture does not have.
TIMING_CLAUSES = frozenset({STREAM_LIVE_1, STREAM_RATE_1, STREAM_RATE_2, STREAM_RATE_3})
UNTIMED = "not judgeable from a capture: the arrival times of its parts are unknown"
INFO_SCHEMA = "system-info"
# Reply.extra: how many other streams the client held open when it sent the request.
STREAMS_OPEN = "streams_open"
INFO_COMPLETE_SCHEMA = "system-info-complete"

# What every stream part's body is handed to, so parts can be judged after bodies are dropped.
analyse_part: Callable[[bytes], PartImage] = describe_part


class Kind(enum.Enum):
    """What a reply is, whatever it should have been."""

    SINGLE_JPEG = "one JPEG"
    STREAM = "a multipart stream"
    JSON = "JSON"
    OTHER = "neither an image, a stream nor JSON"


# First test that holds wins: a stream by its parts or type, JSON by type or first byte.
_KINDS: tuple[tuple[Kind, Callable[[Reply], bool]], ...] = (
    (Kind.STREAM, lambda r: bool(r.parts) or (r.content_type or "").startswith("multipart/")),
    (Kind.JSON, lambda r: r.content_type == "application/json" or r.body.lstrip()[:1] == b"{"),
    (Kind.SINGLE_JPEG, lambda r: r.content_type == "image/jpeg" or r.body[:2] == b"\xff\xd8"),
    (Kind.OTHER, lambda r: True),
)
# The outcome type whose wire checks fit each kind.
_OUTCOME_OF_KIND: Mapping[Kind, type] = {
    Kind.SINGLE_JPEG: SingleJpeg,
    Kind.STREAM: Stream,
    Kind.JSON: JsonError,
}


def classify(reply: Reply) -> Kind:
    """The kind of a reply, from its parts, media type and first bytes."""
    return next(kind for kind, test in _KINDS if test(reply))


def _stream_size(reply: Reply) -> tuple[int, int] | None:
    sizes = Counter(
        (part.image.width, part.image.height)
        for part in reply.parts
        if part.image is not None and part.image.width and part.image.height
    )
    return sizes.most_common(1)[0][0] if sizes else None


def _observe_jpeg(reply: Reply) -> Observed:
    info = walk_jpeg(reply.body)
    return SingleJpeg(info.width, info.height) if info.width and info.height else None


def _observe_stream(reply: Reply) -> Observed:
    size = _stream_size(reply)
    return None if size is None else Stream(size[0], size[1], None)


def _observe_json(reply: Reply) -> Observed:
    document = parse_json_body(reply.body).document
    error = document.get("error") if isinstance(document, Mapping) else None
    code = error.get("code") if isinstance(error, Mapping) else None
    if not isinstance(code, int) or isinstance(code, bool) or not isinstance(error, Mapping):
        return None
    param = error.get("param")
    return ObservedError(code, param if isinstance(param, str) else None)


_OBSERVERS: Mapping[Kind, Callable[[Reply], Observed]] = {
    Kind.SINGLE_JPEG: _observe_jpeg,
    Kind.STREAM: _observe_stream,
    Kind.JSON: _observe_json,
    Kind.OTHER: lambda reply: None,
}


def observe(reply: Reply) -> tuple[Kind, Observed]:
    """The reply's kind and what the model compares: its size, or its error code and param."""
    kind = classify(reply)
    return kind, _OBSERVERS[kind](reply)


def describe(thing: Observed | SingleJpeg | Stream | JsonError | AnyOutcome) -> str:
    """An outcome or an observation in words."""
    if isinstance(thing, SingleJpeg):
        return f"a {thing.width}x{thing.height} JPEG"
    if isinstance(thing, Stream):
        rate = f" at {thing.fps:g} fps" if thing.fps is not None else ""
        return f"a stream of {thing.width}x{thing.height} JPEGs{rate}"
    if isinstance(thing, JsonError):
        codes = " or ".join(str(code) for code in sorted(thing.codes))
        named = f" naming {' or '.join(sorted(thing.params))}" if thing.params else ""
        if thing.params is None:
            named = " (param: any)"
        return f"error {codes}{named}" if len(thing.codes) < len(ERROR_CODES) else "any error"
    if isinstance(thing, ObservedError):
        return f"error {thing.code}" + (f" naming {thing.param}" if thing.param else "")
    if isinstance(thing, AnyOutcome):
        return "any reply"
    return "nothing the model recognises"


def _snapshot_params(request: Request) -> tuple[tuple[str, str], ...]:
    return request.params + (request.form or ())


def expectation_for(
    request: Request, caps: Caps, config: DeviceConfig, streams_open: int = 0
) -> Expectation:
    """The expected outcomes of a snapshot request as sent (beside ``streams_open`` others)."""
    return expected_outcome(
        request.method,
        _snapshot_params(request),
        caps,
        config,
        form_body=request.form is not None,
        streams_open=streams_open,
    )


def streams_open(reply: Reply) -> int:
    """How many other streams the client held open when it sent the request (0: unknown)."""
    count = reply.extra.get(STREAMS_OPEN, 0)
    return count if isinstance(count, int) and not isinstance(count, bool) else 0


def stream_window(
    request: Request, caps: Caps | None, config: DeviceConfig, duration_s: float
) -> float | None:
    """How long to read the reply as a stream, or None when a stream is not acceptable."""
    if caps is not None:
        expectation = expectation_for(request, caps, config)
        streams = any(isinstance(alt.outcome, Stream) for alt in expectation.alternatives)
        return duration_s if streams else None
    fps, time = request.param_values("fps"), request.param_values("time")
    try:
        return duration_s if fps and not time and float(fps[-1]) >= 1 else None
    except ValueError:
        return None


def _reference(
    expectation: Expectation, kind: Kind, matched: Alternative | None
) -> Alternative | None:
    """The alternative to run the kind's checks against: the match, else the first of the kind."""
    wanted = _OUTCOME_OF_KIND.get(kind)
    candidates = ([matched] if matched is not None else []) + list(expectation.alternatives)
    return next((alt for alt in candidates if wanted and isinstance(alt.outcome, wanted)), None)


def _requested_size(request: Request) -> tuple[int, int] | None:
    try:
        return int(request.param_values("width")[-1]), int(request.param_values("height")[-1])
    except (IndexError, ValueError):
        return None


def _requested_fps(request: Request) -> float | None:
    try:
        fps = float(request.param_values("fps")[-1])
    except (IndexError, ValueError):
        return None
    return fps if fps >= 1 else None


def _kind_checks(reply: Reply, kind: Kind, reference: Alternative | None) -> list[Finding]:
    """The wire checks of the reply's kind, against the reference outcome when there is one."""
    outcome = reference.outcome if reference is not None else None
    if kind is Kind.SINGLE_JPEG:
        size = (outcome.width, outcome.height) if isinstance(outcome, SingleJpeg) else None
        # A time-shifted frame's size is also judged under its own clause (TIME-CLAMP-1).
        own = reference.size_clause if reference is not None else None
        return check_jpeg_reply(reply, expected_size=size, size_clauses=(own,) if own else ())
    if kind is Kind.STREAM:
        if isinstance(outcome, Stream):
            return check_stream_reply(
                reply, expected_size=(outcome.width, outcome.height), fps=outcome.fps
            )
        size = _stream_size(reply) or _requested_size(reply.request)
        if size is None:
            out = ReplyFindings(reply)
            out.adopt(reply.stream_findings)
            return out.items
        return check_stream_reply(reply, expected_size=size, fps=_requested_fps(reply.request))
    if kind is Kind.JSON:
        if isinstance(outcome, JsonError) and reference is not None:
            # Where the model names the parameter at fault, param is judged too (ENV-PARAM-1).
            return check_error_reply(
                reply,
                clause=reference.clauses[0],
                expected_codes=outcome.codes,
                expected_params=outcome.params,
            )
        return check_error_reply(reply, clause=ENV_CODE_1, expected_codes=ERROR_CODES)
    return []


def _model_findings(
    reply: Reply, expectation: Expectation, observed: Observed, kind: Kind
) -> tuple[list[Finding], Alternative | None]:
    """The model's verdict on the reply: the matched alternative's clauses, or the primary one."""
    out = ReplyFindings(reply)
    judgement = expectation.judge(observed)
    evidence = f"HTTP {reply.status} {reply.header('Content-Type') or '(no Content-Type)'}"
    got = describe(observed) if observed is not None else f"{kind.value} ({describe(None)})"
    if judgement.alternative is None:
        wanted = " or ".join(describe(alt.outcome) for alt in expectation.alternatives[:4])
        more = " or ..." if len(expectation.alternatives) > 4 else ""
        message = f"expected {wanted}{more}; got {got}"
        out.add(expectation.primary_clause, judgement.verdict, message, evidence)
        return out.items, None
    best = expectation.alternatives[0]
    tolerated = (
        ""
        if judgement.alternative is best
        else f" (the preferred answer: {describe(best.outcome)})"
    )
    for clause in judgement.clauses:
        out.add(
            clause, judgement.verdict, f"answered {got}, an acceptable outcome{tolerated}", evidence
        )
    return out.items, judgement.alternative


def _transport_findings(reply: Reply) -> list[Finding]:
    """TRANSPORT-1 (and authentication notes), from what the transport recorded."""
    out = ReplyFindings(reply)
    error = reply.transport_error
    if error == DEVICE_UNREACHABLE:
        out.add(TRANSPORT_1, Verdict.DEVICE_UNREACHABLE, "the device did not answer (unreachable)")
    elif error is not None:
        out.add(TRANSPORT_1, Verdict.FAIL, f"the exchange broke: {error}", f"HTTP {reply.status}")
    elif reply.extra.get("source") != "har":
        first = f"{reply.first_byte_s:.2f} s" if reply.first_byte_s is not None else "unknown"
        out.add(
            TRANSPORT_1,
            Verdict.PASS,
            f"a well-formed HTTP/1.1 reply within the timeout (first byte after {first})",
        )
    notes = reply.extra.get("auth_notes")
    if isinstance(notes, tuple) and notes:
        out.add(
            AUTH_CHALLENGE_1,
            Verdict.INFORMATIONAL,
            "the authentication challenge could not be fully answered",
            "; ".join(str(note) for note in notes),
        )
    return out.items


def _untimed(findings: list[Finding], reply: Reply) -> list[Finding]:
    """Timing clauses of a capture without arrival times become INFORMATIONAL."""
    if reply.extra.get("timings_known", True):
        return findings
    return [
        replace(finding, verdict=Verdict.INFORMATIONAL, message=UNTIMED, evidence="")
        if finding.clause in TIMING_CLAUSES
        else finding
        for finding in findings
    ]


def one_per_clause(findings: Sequence[Finding]) -> list[Finding]:
    """One finding per clause, the worst of them, in the order clauses first appear."""
    kept: dict[str, Finding] = {}
    for finding in findings:
        held = kept.get(finding.clause)
        rank = SEVERITY_ORDER.index
        if held is None or rank(finding.verdict) < rank(held.verdict):
            kept[finding.clause] = finding
    return list(kept.values())


def judge(
    reply: Reply, *, caps: Caps | None, config: DeviceConfig, window_s: float | None = None
) -> list[Finding]:
    """Every finding about a snapshot reply; without caps, only the checks that need none.

    ``window_s`` is the stream read window the reply was read with (None: a single
    exchange or a capture); the stream checks take the window from the reply itself.
    """
    if reply.request.path not in API_PATHS:
        return judge_unknown_path(reply)
    findings = _transport_findings(reply)
    if reply.status == 0:
        return findings
    kind, observed = observe(reply)
    reference: Alternative | None = None
    if caps is not None:
        expectation = expectation_for(reply.request, caps, config, streams_open(reply))
        model, matched = _model_findings(reply, expectation, observed, kind)
        findings += model
        reference = _reference(expectation, kind, matched)
    if reply.request.method not in BODILESS_METHODS:
        findings += _kind_checks(reply, kind, reference)
    return one_per_clause(_untimed(findings, reply))


def caps_from_reply(reply: Reply) -> Caps | None:
    """The caps a valid caps reply advertises, or None when it cannot be trusted."""
    result, _ = check_caps_reply(reply)
    if result is None:
        return None
    try:
        return Caps.from_json(result)
    except ValueError:
        return None


def judge_caps(reply: Reply) -> list[Finding]:
    """Every finding about a /api/camera/caps reply."""
    findings = _transport_findings(reply)
    if reply.status == 0:
        return findings
    if reply.request.method not in SERVED_METHODS:
        return one_per_clause(findings + _refusal(reply, CAPS_METHOD_2, INVALID_METHOD_CODE))
    _, checked = check_caps_reply(reply)
    return one_per_clause(findings + _served_method(reply, CAPS_METHOD_1, "caps") + checked)


def _served_method(reply: Reply, clause: str, what: str) -> list[Finding]:
    """``clause`` for a method the path serves: answered, not refused with an error.

    Whether the answer itself is well-formed is the schema clauses' business.
    """
    out = ReplyFindings(reply)
    _, observed = observe(reply)
    method = reply.request.method
    out.judge(
        clause,
        not isinstance(observed, ObservedError),
        f"{method} is answered with {what}, not refused",
        f"{method} is refused with {describe(observed)}",
        f"HTTP {reply.status}; {shown(reply.body, BODY_EVIDENCE)}",
    )
    return out.items


def judge_unknown_path(reply: Reply) -> list[Finding]:
    """Every finding about a reply for a path the API does not define (SHOULD be error 2)."""
    findings = _transport_findings(reply)
    if reply.status == 0:
        return findings
    return one_per_clause(findings + _refusal(reply, ENV_PATH_1, INVALID_PATH_CODE))


def _refusal(reply: Reply, clause: str, code: int) -> list[Finding]:
    """A request ``clause`` says to refuse with error ``code``; no parameter is at fault."""
    if reply.request.method not in BODILESS_METHODS:
        return check_error_reply(
            reply, clause=clause, expected_codes=frozenset({code}), expected_params=frozenset()
        )
    out = ReplyFindings(reply)
    message = f"HTTP {reply.status} to {reply.request.method}, whose reply has no body to judge"
    out.add(clause, Verdict.INFORMATIONAL, message, f"status line: {reply.status} {reply.reason}")
    return out.items


def _server_header(out: ReplyFindings, reply: Reply, document: object) -> None:
    server = reply.header("Server")
    result = document.get("result") if isinstance(document, Mapping) else None
    version = result.get("swVersion") if isinstance(result, Mapping) else None
    if server is None:
        out.add(INFO_SERVER_1, Verdict.INFORMATIONAL, "no Server header")
        return
    agrees = isinstance(version, str) and version in server
    relation = "carries" if agrees else "does not carry"
    out.add(
        INFO_SERVER_1,
        Verdict.INFORMATIONAL,
        f"Server: {server!r} {relation} the firmware version swVersion {version!r}",
    )


def judge_system_info(reply: Reply) -> list[Finding]:
    """Every finding about a /api/system/info reply (fetched without credentials)."""
    findings = _transport_findings(reply)
    if reply.status == 0:
        return findings
    out = ReplyFindings(reply)
    if reply.request.user is None:
        out.judge(
            AUTH_OPEN_1,
            reply.status != 401,
            "answers without credentials",
            "asks for credentials, though system info needs no access rights",
            f"HTTP {reply.status}",
        )
    method = reply.request.method
    served = _served_method(reply, INFO_METHOD_1, "system info") if method in SERVED_METHODS else []
    if method == "POST" and isinstance(observe(reply)[1], ObservedError):
        # Answering POST is a SHOULD: a refusal is judged as an error reply, not a failed success.
        checked = check_error_reply(reply, clause=ENV_CODE_1, expected_codes=ERROR_CODES)
        return one_per_clause(findings + out.items + served + checked)
    out.items += served
    document, _ = judge_success_json(out, reply, schema=INFO_SCHEMA, schema_clause=INFO_SCHEMA_1)
    if document is not None:
        missing = validate_json(document, INFO_COMPLETE_SCHEMA)
        out.judge(
            INFO_FIELDS_1,
            not missing,
            "every member the manual lists is present and well-formed",
            "not every listed member is present and well-formed: " + "; ".join(missing),
        )
        _server_header(out, reply, document)
    return one_per_clause(findings + out.items)
