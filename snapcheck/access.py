"""The access probes: requests with no, wrong, other, downgraded or replayed credentials.

Strategy: ``survey`` asks caps once without credentials and reads what the device is
(``ServiceState``: open, guarded, disabled, HTTPS-only at this address) and which
challenges it offers; each ``probe_*`` function then builds the requests one access
clause needs, sends them through transports of its own (other credentials, none, the
plain address), and judges the replies with ``snapcheck.checks.access_reply``. A probe
whose inputs were not given, or which the device's state makes meaningless, ends the
test as UNSUPPORTED through ``device.unsupported`` with the reason: never a silent pass.
Every finding's message starts with what was sent, so a report reads on its own. The
probes of the connection type (the certificate, the plain address) live in
``snapcheck.access_https``.

Rules the catalogue states (clauses.toml, the AUTH-* decisions): credentials never go
to the plain address of an HTTPS device; a password sent as a query parameter is
masked in every finding's curl line; credentials in a URL are sent as curl sends them
(Basic, at once).

What never belongs here: judging a reply's bytes (checks), pytest (suites, plugin).
"""

from __future__ import annotations

import enum
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Final

from snapcheck.auth import Challenge, DigestAuth
from snapcheck.checks.access_reply import (
    AUTH_SCHEMES,
    challenges,
    check_401,
    check_challenge,
    check_downgrade_refused,
    check_refusal_code,
    check_refused,
    error_code,
    served,
)
from snapcheck.checks.findings import ReplyFindings
from snapcheck.device import DeviceUnderTest
from snapcheck.exchange import Reply, Request
from snapcheck.judge import (
    AUTH_CHALLENGE_1,
    AUTH_OPEN_1,
    CAPS_PATH,
    INFO_PATH,
    SNAPSHOT_PATH,
    TRANSPORT_1,
    analyse_part,
    caps_from_reply,
    judge_system_info,
)
from snapcheck.transport import Transport
from snapcheck.verdicts import Finding, Verdict

AUTH_WRONG_1: Final = "AUTH-WRONG-1"
AUTH_DOWNGRADE_1: Final = "AUTH-DOWNGRADE-1"
AUTH_PRIV_1: Final = "AUTH-PRIV-1"
AUTH_DISABLED_1: Final = "AUTH-DISABLED-1"
AUTH_REPLAY_1: Final = "AUTH-REPLAY-1"
AUTH_NONE_1: Final = "AUTH-NONE-1"
AUTH_GUARD_1: Final = "AUTH-GUARD-1"
AUTH_URL_1: Final = "AUTH-URL-1"
AUTH_ALGO_1: Final = "AUTH-ALGO-1"

# The size every device in API-FACTS lists, for when caps cannot be read.
FALLBACK_SIZE = (640, 480)
PROBE_WINDOW_S = 1.0
MASK = "****"
# Query parameters a careless device might read credentials from.
QUERY_CREDENTIALS = ("user", "password", "username", "pass", "pwd")
UNKNOWN_USER_PREFIX = "snapcheck-nobody-"


class ServiceState(enum.Enum):
    """What caps without credentials says about the Camera service."""

    OPEN = "serves caps without credentials (authentication None)"
    GUARDED = "asks for credentials"
    DISABLED = "says the Camera service is disabled (error 4)"
    HTTPS_ONLY = "answers error 7 at this address (HTTPS required)"


@dataclass(frozen=True, slots=True)
class AccessSurvey:
    """The Camera service's state, the challenges it offers, and a size to ask for."""

    state: ServiceState
    challenges: tuple[Challenge, ...]
    size: tuple[int, int]

    @property
    def schemes(self) -> frozenset[str]:
        """The authentication schemes the device challenges with (lower case)."""
        return frozenset(challenge.scheme for challenge in self.challenges)


def survey(device: DeviceUnderTest) -> AccessSurvey:
    """Ask caps without credentials and read the service's state from it (and the suite's)."""
    anonymous = device.fetch(device.request(path=CAPS_PATH), anonymous=True)
    codes = {error_code(anonymous), error_code(device.caps_reply)}
    state = next(
        (state for state, holds in _STATES if holds(anonymous, codes)), ServiceState.GUARDED
    )
    caps = caps_from_reply(device.caps_reply) or caps_from_reply(anonymous)
    size = min(caps.resolutions, key=lambda pair: pair[0] * pair[1]) if caps else FALLBACK_SIZE
    return AccessSurvey(state, challenges(anonymous), size)


# First that holds wins; anything else (a 401, a refusal of another shape) is GUARDED, so
# that AUTH-CHALLENGE-1 judges it.
_STATES: tuple[tuple[ServiceState, Callable[[Reply, set[int | None]], bool]], ...] = (
    (ServiceState.DISABLED, lambda reply, codes: 4 in codes),
    (ServiceState.HTTPS_ONLY, lambda reply, codes: 7 in codes),
    (ServiceState.OPEN, lambda reply, codes: served(reply) is not None),
)


# ---- shared plumbing


def _transport(
    device: DeviceUnderTest, user: str | None, password: str | None, method: str | None = None
) -> Transport:
    """A transport to the device with other credentials (or none), paced as the suite's."""
    settings = device.settings
    chosen = method or (settings.auth_method if settings.auth_method != "none" else "auto")
    return Transport(
        device.base_url,
        user=user,
        password=password,
        auth_method=chosen if user is not None else "none",
        timeout_s=settings.request_timeout,
        rate_limit_per_s=settings.effective_rate_limit,
    )


def _send(transport: Transport, request: Request) -> Reply:
    """One exchange; a stream request is read for a short window, in case it is served."""
    if request.param_values("fps") and not request.param_values("time"):
        return transport.stream(request, PROBE_WINDOW_S, analyse=analyse_part)
    return transport.exchange(request)


def labelled(label: str, findings: Iterable[Finding]) -> list[Finding]:
    """The findings with ``label`` (what was sent) in front of each message."""
    return [replace(finding, message=f"{label}: {finding.message}") for finding in findings]


def _snapshot(device: DeviceUnderTest, found: AccessSurvey, *extra: tuple[str, str]) -> Request:
    width, height = found.size
    return device.request((("width", str(width)), ("height", str(height)), *extra))


def _camera_requests(device: DeviceUnderTest, found: AccessSurvey) -> list[tuple[str, Request]]:
    """Caps, a live snapshot, a stream and a time-shifted snapshot."""
    return [
        ("caps", device.request(path=CAPS_PATH)),
        ("a live snapshot", _snapshot(device, found)),
        ("a stream", _snapshot(device, found, ("fps", "1"))),
        ("a time-shifted snapshot", _snapshot(device, found, ("time", "-1"))),
    ]


def _require_state(device: DeviceUnderTest, found: AccessSurvey, *states: ServiceState) -> None:
    if found.state not in states:
        device.unsupported(f"the Camera service {found.state.value}")


def _credentials(device: DeviceUnderTest) -> tuple[str, str]:
    user = device.settings.user
    if user is None:
        device.unsupported("needs the suite's credentials: give --user and --password")
    return user, device.settings.password or ""


def _declared(device: DeviceUnderTest) -> bool:
    """Whether --auth-method basic or digest declared the service's authentication on."""
    return device.settings.auth_method in AUTH_SCHEMES


def _schemes(device: DeviceUnderTest) -> frozenset[str]:
    """The challenge schemes acceptable: the declared one, else Basic or Digest."""
    method = device.settings.auth_method
    return frozenset({method}) if method in AUTH_SCHEMES else AUTH_SCHEMES


# ---- open to all, authentication None, algorithms


def probe_info_open(device: DeviceUnderTest) -> list[Finding]:
    """AUTH-OPEN-1: /api/system/info answers without credentials."""
    reply = device.fetch(device.request(path=INFO_PATH), anonymous=True)
    kept = (AUTH_OPEN_1, TRANSPORT_1)
    return [f for f in judge_system_info(reply) if f.clause in kept]


def probe_open_service(device: DeviceUnderTest, found: AccessSurvey) -> list[Finding]:
    """AUTH-NONE-1: with authentication None, a snapshot is served with or without credentials."""
    _require_state(device, found, ServiceState.OPEN)
    findings: list[Finding] = []
    anonymous = device.fetch(_snapshot(device, found), anonymous=True)
    findings += device.judge(anonymous)
    made_up = _send(
        _transport(device, UNKNOWN_USER_PREFIX + "x", "made-up", "basic"), _snapshot(device, found)
    )
    for label, reply in (("no credentials", anonymous), ("made-up Basic credentials", made_up)):
        out = ReplyFindings(reply)
        out.judge(
            AUTH_NONE_1,
            served(reply) == "a JPEG",
            "a snapshot is served",
            f"not served (HTTP {reply.status}, error {error_code(reply)})",
        )
        findings += labelled(label, out.items)
    return findings


def probe_algorithms(device: DeviceUnderTest, found: AccessSurvey) -> list[Finding]:
    """AUTH-ALGO-1: the Digest algorithms offered, in the device's order (INFORMATIONAL)."""
    digests = [c for c in found.challenges if c.scheme == "digest"]
    if not digests:
        device.unsupported("the device does not challenge with Digest")
    offered = ", ".join((c.param("algorithm") or "MD5 (implied)") for c in digests)
    reply = device.fetch(device.request(path=CAPS_PATH), anonymous=True)
    out = ReplyFindings(reply)
    out.add(AUTH_ALGO_1, Verdict.INFORMATIONAL, f"Digest offered with {offered}")
    return out.items


# ---- refusals of missing, wrong, downgraded and unprivileged credentials


def probe_no_credentials(device: DeviceUnderTest, found: AccessSurvey) -> list[Finding]:
    """AUTH-CHALLENGE-1: caps and a snapshot without credentials are challenged."""
    if found.state is not ServiceState.OPEN or not _declared(device):
        _require_state(device, found, ServiceState.GUARDED)
    findings: list[Finding] = []
    for label, request in _camera_requests(device, found)[:2]:
        reply = device.fetch(request, anonymous=True)
        checked = check_challenge(reply, clause=AUTH_CHALLENGE_1, schemes=_schemes(device))
        findings += labelled(f"{label} without credentials", checked)
    return findings


def _refused_for(
    device: DeviceUnderTest, found: AccessSurvey, transport: Transport, who: str, clause: str
) -> list[Finding]:
    findings: list[Finding] = []
    for label, request in _camera_requests(device, found)[:2]:
        checked = check_challenge(
            _send(transport, request), clause=clause, schemes=_schemes(device)
        )
        findings += labelled(f"{label} with {who}", checked)
    return findings


def probe_wrong_password(device: DeviceUnderTest, found: AccessSurvey) -> list[Finding]:
    """AUTH-WRONG-1: the suite's user with a wrong password is refused like no credentials."""
    _require_state(device, found, ServiceState.GUARDED)
    user, password = _credentials(device)
    wrong = password + "-not-" + secrets.token_hex(4)
    transport = _transport(device, user, wrong)
    return _refused_for(
        device, found, transport, f"user {user!r} and a wrong password", AUTH_WRONG_1
    )


def probe_unknown_user(device: DeviceUnderTest, found: AccessSurvey) -> list[Finding]:
    """AUTH-WRONG-1: a user no device has is refused like no credentials."""
    _require_state(device, found, ServiceState.GUARDED)
    user = UNKNOWN_USER_PREFIX + secrets.token_hex(4)
    transport = _transport(device, user, device.settings.password or secrets.token_hex(8))
    return _refused_for(device, found, transport, f"the unknown user {user!r}", AUTH_WRONG_1)


def probe_downgrade(device: DeviceUnderTest, found: AccessSurvey) -> list[Finding]:
    """AUTH-DOWNGRADE-1: valid credentials sent as Basic to a Digest-only service are refused."""
    _require_state(device, found, ServiceState.GUARDED)
    if found.schemes & AUTH_SCHEMES != {"digest"}:
        offered = ", ".join(sorted(found.schemes)) or "no challenge"
        device.unsupported(f"the device is not Digest-only (it offers {offered})")
    user, password = _credentials(device)
    basic = _transport(device, user, password, "basic")
    findings: list[Finding] = []
    for label, request in _camera_requests(device, found)[:2]:
        checked = check_downgrade_refused(_send(basic, request), clause=AUTH_DOWNGRADE_1)
        findings += labelled(f"{label} with valid credentials sent as Basic", checked)
    return findings


def probe_unprivileged(device: DeviceUnderTest, found: AccessSurvey) -> list[Finding]:
    """AUTH-PRIV-1: an account without Camera Monitoring gets error 10 on every Camera request."""
    _require_state(device, found, ServiceState.GUARDED)
    user = device.settings.unprivileged_user
    if user is None:
        device.unsupported(
            "needs an account without Camera Monitoring:"
            " give --unprivileged-user and --unprivileged-password"
        )
    transport = _transport(device, user, device.settings.unprivileged_password or "")
    findings: list[Finding] = []
    for label, request in _camera_requests(device, found):
        checked = check_refusal_code(
            _send(transport, request), clause=AUTH_PRIV_1, codes=frozenset({10})
        )
        findings += labelled(f"{label} as the unprivileged user {user!r}", checked)
    return findings


# ---- credentials in the URL, replayed Digest answers, the guard over every spelling


def _masked(reply: Reply, secret: str) -> Reply:
    """The reply with ``secret`` masked in its request's parameters (for curl lines)."""
    params = tuple((k, MASK if v == secret else v) for k, v in reply.request.params)
    return replace(reply, request=replace(reply.request, params=params))


def probe_url_credentials(device: DeviceUnderTest, found: AccessSurvey) -> list[Finding]:
    """AUTH-URL-1: credentials in a URL are Basic (as curl sends them), never query parameters."""
    _require_state(device, found, ServiceState.OPEN, ServiceState.GUARDED)
    if found.state is ServiceState.OPEN and device.settings.user is None:
        user, password = UNKNOWN_USER_PREFIX + "x", "made-up"
    else:
        user, password = _credentials(device)
    label = f"http://{user}:{MASK}@host/... (sent as Basic, as curl does)"
    reply = _send(_transport(device, user, password, "basic"), _snapshot(device, found))
    if found.state is ServiceState.OPEN or "basic" in found.schemes:
        out = ReplyFindings(reply)
        out.judge(
            AUTH_URL_1,
            served(reply) == "a JPEG",
            "served, as Basic credentials are",
            f"not served (HTTP {reply.status}, error {error_code(reply)})",
        )
        findings = labelled(label, out.items)
    else:
        findings = labelled(label, check_downgrade_refused(reply, clause=AUTH_URL_1))
    if found.state is ServiceState.GUARDED:
        query = _snapshot(
            device,
            found,
            *((name, password) for name in QUERY_CREDENTIALS[1:]),
            ("user", user),
            ("username", user),
        )
        refused = check_refused(
            _masked(device.fetch(query, anonymous=True), password), clause=AUTH_URL_1
        )
        findings += labelled("credentials as query parameters", refused)
    return findings


def _forged(
    digest: DigestAuth, offered: Sequence[Challenge], user: str, password: str, target: str
) -> str:
    """A correct Digest answer for ``target``, but to a nonce the device never issued."""
    challenge = next(
        (c for c in offered if (c.param("algorithm") or "MD5").upper() == digest.algorithm),
        Challenge("digest", (("realm", ""), ("nonce", ""), ("qop", "auth"))),
    )
    nonce = secrets.token_urlsafe(24)
    params = tuple((k, nonce if k == "nonce" else v) for k, v in challenge.params)
    return DigestAuth(user, password, Challenge("digest", params)).authorization("GET", target)


def probe_replay(device: DeviceUnderTest, found: AccessSurvey) -> list[Finding]:
    """AUTH-REPLAY-1: a replayed, forged-nonce or re-targeted Digest answer is refused."""
    _require_state(device, found, ServiceState.GUARDED)
    if "digest" not in found.schemes:
        device.unsupported("the device does not challenge with Digest")
    user, password = _credentials(device)
    transport = _transport(device, user, password, "digest")
    caps, snapshot = device.request(path=CAPS_PATH), _snapshot(device, found)
    target = transport.target(caps)
    accepted = transport.exchange(caps)  # answers the challenge: the nonce is now known
    digest = transport.digest_auth
    if digest is None or served(accepted) is None:
        device.unsupported(
            f"the suite's credentials were not accepted with Digest"
            f" (HTTP {accepted.status}, error {error_code(accepted)})"
        )
    header = digest.authorization("GET", target)
    accepted = transport.exchange(caps, authorization=header)
    if served(accepted) is None:
        device.unsupported(
            f"a fresh Digest answer was not accepted"
            f" (HTTP {accepted.status}, error {error_code(accepted)})"
        )
    probes = (
        ("the Authorization header just accepted, sent again", caps, header),
        (
            "an answer to a nonce the device never issued",
            caps,
            _forged(digest, found.challenges, user, password, target),
        ),
        (
            "an answer computed for caps, sent to a snapshot",
            snapshot,
            digest.authorization("GET", target),
        ),
    )
    findings: list[Finding] = []
    for label, request, authorization in probes:
        reply = transport.exchange(request, authorization=authorization)
        findings += labelled(label, check_401(reply, clause=AUTH_REPLAY_1))
    return findings


@dataclass(frozen=True, slots=True)
class GuardProbe:
    """One way to ask for an image: what it is, the path, extra parameters, the method."""

    label: str
    path: str = SNAPSHOT_PATH
    extra: tuple[tuple[str, str], ...] = ()
    form: bool = False


GUARD_PROBES: tuple[GuardProbe, ...] = (
    GuardProbe("a live snapshot"),
    GuardProbe("a live snapshot by POST with a form body", form=True),
    GuardProbe("a stream", extra=(("fps", "1"),)),
    GuardProbe("a time-shifted snapshot", extra=(("time", "-1"),)),
    GuardProbe("the path with a trailing slash", "/api/camera/snapshot/"),
    GuardProbe("the path with a doubled slash", "/api/camera//snapshot"),
    GuardProbe("the path with a dot segment", "/api/camera/./snapshot"),
    GuardProbe("the path with a percent-encoded letter", "/api/camera/%73napshot"),
    GuardProbe("the path in upper case", "/API/CAMERA/SNAPSHOT"),
)


def _guard_request(device: DeviceUnderTest, found: AccessSurvey, probe: GuardProbe) -> Request:
    width, height = found.size
    params = (("width", str(width)), ("height", str(height)), *probe.extra)
    if probe.form:
        return device.request(method="POST", path=probe.path, form=params)
    return device.request(params, path=probe.path)


def probe_guard(device: DeviceUnderTest, found: AccessSurvey) -> list[Finding]:
    """AUTH-GUARD-1: no image by any request or path spelling without valid credentials."""
    if found.state is ServiceState.OPEN and not _declared(device):
        device.unsupported(f"the Camera service {found.state.value}")
    callers = [("without credentials", device.anonymous)]
    if device.settings.user is not None:
        wrong = (device.settings.password or "") + "-not-" + secrets.token_hex(4)
        callers.append(("with a wrong password", _transport(device, device.settings.user, wrong)))
    findings: list[Finding] = []
    for who, transport in callers:
        for probe in GUARD_PROBES:
            reply = _send(transport, _guard_request(device, found, probe))
            findings += labelled(f"{probe.label} {who}", check_refused(reply, clause=AUTH_GUARD_1))
    return findings


# ---- the service switch


def probe_disabled(device: DeviceUnderTest, found: AccessSurvey) -> list[Finding]:
    """AUTH-DISABLED-1: a service that says it is off answers error 4 to every Camera request."""
    if found.state is not ServiceState.DISABLED:
        device.unsupported(f"the Camera service is not switched off: it {found.state.value}")
    findings: list[Finding] = []
    for label, request in _camera_requests(device, found):
        reply = device.caps_reply if request.path == CAPS_PATH else _send(device.transport, request)
        checked = check_refusal_code(reply, clause=AUTH_DISABLED_1, codes=frozenset({4}))
        findings += labelled(label, checked)
    return findings
