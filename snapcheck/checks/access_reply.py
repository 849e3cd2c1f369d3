"""Access refusals: whether a reply let the caller in, and whether it refused the right way.

Strategy: pure functions from a ``Reply`` to findings on the clause a caller names, as
every wire check. ``served`` says what a reply handed out (an image, a stream, a JSON
success) — the one thing a refusal must never do. The shapes of refusal the catalogue
asks for are one function each: a challenge (HTTP 401, a ``WWW-Authenticate`` challenge
of an acceptable scheme, error 9: AUTH-CHALLENGE-1 and AUTH-WRONG-1), an error code
(error 10, error 4: ``check_error_reply`` with the codes), a downgrade refusal (HTTP 401
with a Digest challenge, or error 8), a bare 401 (a replayed Digest answer), and any
refusal at all (AUTH-GUARD-1). A well-formed challenge is judged by what a client needs
to answer it: Basic with a realm; Digest with realm, nonce and a qop offering ``auth``.

What never belongs here: sending anything (snapcheck.access builds and sends the probes).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

from snapcheck.auth import Challenge, parse_challenges
from snapcheck.checks.findings import ReplyFindings, hex_head
from snapcheck.checks.json_reply import check_error_reply, parse_json_body
from snapcheck.exchange import Reply, header_values
from snapcheck.verdicts import Finding, Verdict

AUTH_SCHEMES = frozenset({"basic", "digest"})
AUTH_REQUIRED = frozenset({9})
WRONG_METHOD = 8
JPEG_SOI = b"\xff\xd8"


def _is_stream(reply: Reply) -> bool:
    return bool(reply.parts) or (reply.content_type or "").startswith("multipart/")


def _is_jpeg(reply: Reply) -> bool:
    return reply.content_type == "image/jpeg" or reply.body[:2] == JPEG_SOI


def _is_json_success(reply: Reply) -> bool:
    document = parse_json_body(reply.body).document if reply.body else None
    return isinstance(document, Mapping) and document.get("success") is True


# What a reply may have handed out, in the order they are recognised.
_SERVED: tuple[tuple[str, Callable[[Reply], bool]], ...] = (
    ("a stream", _is_stream),
    ("a JPEG", _is_jpeg),
    ("a JSON success", _is_json_success),
)


def served(reply: Reply) -> str | None:
    """What the reply handed out ("a JPEG", "a stream", "a JSON success"), or None."""
    return next((what for what, test in _SERVED if reply.status and test(reply)), None)


def error_code(reply: Reply) -> int | None:
    """The JSON error code of a reply, or None when it carries none."""
    document = parse_json_body(reply.body).document if reply.body else None
    error = document.get("error") if isinstance(document, Mapping) else None
    code = error.get("code") if isinstance(error, Mapping) else None
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def challenges(reply: Reply) -> tuple[Challenge, ...]:
    """Every challenge of the reply's ``WWW-Authenticate`` headers."""
    return parse_challenges(header_values(reply.headers, "WWW-Authenticate")).challenges


def _challenge_missing(challenge: Challenge) -> str | None:
    """What a client needs to answer this challenge and does not get, or None."""
    if challenge.param("realm") is None:
        return "no realm"
    if challenge.scheme != "digest":
        return None
    if challenge.param("nonce") is None:
        return "no nonce"
    qop = {item.strip().lower() for item in (challenge.param("qop") or "").split(",")}
    return None if "auth" in qop else "no qop offering auth"


def challenge_problem(offered: Collection[Challenge], schemes: Collection[str]) -> str | None:
    """Why no challenge in ``offered`` is a well-formed one of ``schemes``, or None."""
    if not offered:
        return "no WWW-Authenticate challenge"
    wanted = [c for c in offered if c.scheme in schemes]
    if not wanted:
        shown = ", ".join(sorted({c.scheme for c in offered}))
        return f"challenges with {shown}, not {' or '.join(sorted(schemes))}"
    problems = [f"{c.scheme}: {why}" for c in wanted if (why := _challenge_missing(c))]
    return None if len(problems) < len(wanted) else "; ".join(problems)


def _evidence(reply: Reply) -> str:
    shown = ", ".join(header_values(reply.headers, "WWW-Authenticate")) or "(no challenge)"
    return f"HTTP {reply.status}; WWW-Authenticate: {shown}; body: {hex_head(reply.body, 24)}"


def _unanswered(out: ReplyFindings, reply: Reply, clause: str) -> bool:
    """FAIL ``clause`` when the device did not answer or handed something out."""
    if reply.status == 0:
        out.add(clause, Verdict.FAIL, f"no reply: {reply.transport_error}")
        return True
    what = served(reply)
    if what is not None:
        out.add(clause, Verdict.FAIL, f"served {what} instead of refusing", _evidence(reply))
        return True
    return False


def check_challenge(reply: Reply, *, clause: str, schemes: Collection[str]) -> list[Finding]:
    """A refusal for want of (valid) credentials: HTTP 401, a challenge of ``schemes``, error 9."""
    out = ReplyFindings(reply)
    if _unanswered(out, reply, clause):
        return out.items
    out.judge(clause, reply.status == 401, "HTTP 401", f"HTTP {reply.status}, not 401")
    problem = challenge_problem(challenges(reply), schemes)
    out.judge(
        clause,
        problem is None,
        f"a well-formed {' or '.join(sorted(schemes))} challenge",
        f"no usable challenge: {problem}",
        _evidence(reply),
    )
    return out.items + check_error_reply(reply, clause=clause, expected_codes=AUTH_REQUIRED)


def check_refusal_code(reply: Reply, *, clause: str, codes: frozenset[int]) -> list[Finding]:
    """A refusal with one of ``codes`` (error 10 for a missing privilege, 4 when disabled)."""
    out = ReplyFindings(reply)
    if _unanswered(out, reply, clause):
        return out.items
    return check_error_reply(reply, clause=clause, expected_codes=codes)


def check_refused(reply: Reply, *, clause: str) -> list[Finding]:
    """Any refusal passes: nothing handed out, whatever the status or code."""
    out = ReplyFindings(reply)
    if not _unanswered(out, reply, clause):
        code = error_code(reply)
        said = f", error {code}" if code is not None else ""
        out.add(clause, Verdict.PASS, f"refused (HTTP {reply.status}{said})")
    return out.items


def check_downgrade_refused(reply: Reply, *, clause: str) -> list[Finding]:
    """Basic to a Digest-only service: HTTP 401 with a Digest challenge, or error 8."""
    out = ReplyFindings(reply)
    if _unanswered(out, reply, clause):
        return out.items
    digest = reply.status == 401 and challenge_problem(challenges(reply), {"digest"}) is None
    code = error_code(reply)
    out.judge(
        clause,
        digest or code == WRONG_METHOD,
        f"refused (HTTP {reply.status}, error {code}"
        + (", a Digest challenge)" if digest else ")"),
        f"neither HTTP 401 with a Digest challenge nor error 8 (HTTP {reply.status}, error {code})",
        _evidence(reply),
    )
    return out.items


def check_401(reply: Reply, *, clause: str) -> list[Finding]:
    """A refused Digest answer: HTTP 401 (stale or not)."""
    out = ReplyFindings(reply)
    if _unanswered(out, reply, clause):
        return out.items
    stale = any((c.param("stale") or "").lower() == "true" for c in challenges(reply))
    out.judge(
        clause,
        reply.status == 401,
        "HTTP 401" + (" (stale=true)" if stale else ""),
        f"HTTP {reply.status}, not 401",
        _evidence(reply),
    )
    return out.items
