"""Who may use the Camera service: connection type, service switch, accounts, Basic and Digest.

Strategy: the server asks ``AccessControl.decide`` about every request to a Camera
endpoint (caps, snapshot; ``/api/system/info`` is open to all and never asks) and gets
``Admitted`` or a ``Refusal`` it renders as-is. The rules run in a fixed order, one step
per row of ``AccessControl._STEPS``: plain HTTP to an HTTPS-only service (error 7, so that
nothing, not even a challenge inviting credentials, is said in clear text), the service
switched off (error 4), authentication (no, wrong or unknown credentials: HTTP 401, a
challenge of the configured scheme, error 9; a scheme other than the configured one:
HTTP 401 with the configured challenge and error 8), then the Camera Monitoring
privilege (error 10, HTTP 200).

Digest follows RFC 7616: two challenges (SHA-256 first, MD5 for older clients),
``qop="auth"``, an ``opaque`` value to echo, nonces that expire after ``nonce_lifetime_s``
on the injected clock (a correct answer to an expired or unknown nonce gets
``stale=true``), and a nonce count that may not repeat (a replay is refused). Every
secret comparison goes through ``hmac.compare_digest``, and an unknown user costs the
same work as a known one. With authentication None, credentials are ignored.

``faults`` breaks named rules on purpose (``ACCESS_FAULTS``), for snapcheck's own tests.
Nothing here knows about aiohttp or sockets: a request is the four facts in
``AccessRequest``, so every rule is tested without a server.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import re
import secrets
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from reference_device.clock import Clock
from reference_device.envelope import ApiError, ErrorCode

REALM = "reference intercom"
MAX_ACCOUNTS = 5  # as on the real devices
NOCAMERA = "nocamera"
# How many nonces are remembered, and how many requests one nonce may serve, before a
# client is asked (stale=true) to take a fresh one: bounded memory whatever clients do.
MAX_NONCES = 1024
MAX_USES_PER_NONCE = 4096
DEFAULT_NONCE_LIFETIME_S = 300.0

# Digest algorithms offered, in order of preference (RFC 7616 section 3.7).
DIGEST_HASHES: Mapping[str, Callable[[bytes], str]] = {
    "SHA-256": lambda data: hashlib.sha256(data).hexdigest(),
    "MD5": lambda data: hashlib.md5(data).hexdigest(),
}
_DIGEST_REQUIRED = ("username", "realm", "nonce", "uri", "response", "qop", "nc", "cnonce")
_DIGEST_PARAM = re.compile(r'\s*([A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s"]*)\s*(?:,|$)')
_NC = re.compile(r"[0-9a-fA-F]{8}")


class Authentication(enum.StrEnum):
    """The Camera service's authentication: None, Basic or Digest."""

    NONE = "none"
    BASIC = "basic"
    DIGEST = "digest"


class AccessFault(enum.StrEnum):
    """An access rule broken on purpose, so that a test can prove the suite notices."""

    PRIVILEGE_IGNORED = "privilege-ignored"
    BASIC_ON_DIGEST = "basic-on-digest"


ACCESS_FAULTS = frozenset(fault.value for fault in AccessFault)


@dataclass(frozen=True, slots=True)
class Account:
    """An API user: name, password, and whether it holds the Camera Monitoring privilege."""

    name: str
    password: str = field(repr=False)
    camera: bool = True

    def __post_init__(self) -> None:
        if not self.name or ":" in self.name:
            raise ValueError(f"an account name must be non-empty without ':', got {self.name!r}")

    @classmethod
    def parse(cls, text: str) -> Account:
        """``NAME:PASSWORD`` or ``NAME:PASSWORD:nocamera`` (ValueError when malformed)."""
        name, colon, password = text.partition(":")
        if not colon:
            raise ValueError(f"expected NAME:PASSWORD[:{NOCAMERA}], got {name!r}")
        camera = not password.endswith(":" + NOCAMERA)
        if not camera:
            password = password.removesuffix(":" + NOCAMERA)
        return cls(name, password, camera)


def check_accounts(auth: Authentication, accounts: Sequence[Account]) -> None:
    """ValueError unless the accounts suit the authentication (1..5 distinct names if on)."""
    names = [account.name for account in accounts]
    if len(names) > MAX_ACCOUNTS:
        raise ValueError(f"at most {MAX_ACCOUNTS} user accounts, got {len(names)}")
    if len(set(names)) != len(names):
        raise ValueError(f"user names must differ, got {sorted(names)}")
    if auth is not Authentication.NONE and not accounts:
        raise ValueError(f"authentication {auth} needs at least one user account")


@dataclass(frozen=True, slots=True)
class AccessRequest:
    """What access control needs to know of one request."""

    method: str
    target: str  # the request-target as sent: path and query, not decoded
    secure: bool  # arrived over TLS
    authorization: str | None


@dataclass(frozen=True, slots=True)
class Admitted:
    """The request may proceed; ``user`` is None when authentication is off."""

    user: str | None


@dataclass(frozen=True, slots=True)
class Refusal:
    """The reply to send instead: HTTP status, JSON error, WWW-Authenticate challenges."""

    status: int
    error: ApiError
    challenges: tuple[str, ...] = ()


Decision = Admitted | Refusal


class NonceState(enum.Enum):
    """What a presented nonce and nonce count are worth."""

    FRESH = "fresh"
    STALE = "stale"  # expired, unknown, or used up: a correct answer gets stale=true
    REPLAYED = "replayed"


@dataclass(slots=True)
class _Nonce:
    issued_at: float
    counts: set[int] = field(default_factory=set)


class NonceBook:
    """Nonces issued, their age and the nonce counts seen, bounded in size."""

    def __init__(self, clock: Clock, lifetime_s: float) -> None:
        if not lifetime_s > 0:
            raise ValueError("the nonce lifetime must be positive")
        self._clock = clock
        self._lifetime_s = lifetime_s
        self._nonces: OrderedDict[str, _Nonce] = OrderedDict()

    def issue(self) -> str:
        """A new nonce, remembered with its issue time (the oldest forgotten beyond the cap)."""
        nonce = secrets.token_urlsafe(24)
        self._nonces[nonce] = _Nonce(self._clock.monotonic())
        while len(self._nonces) > MAX_NONCES:
            self._nonces.popitem(last=False)
        return nonce

    def use(self, nonce: str, count: int) -> NonceState:
        """Spend ``count`` of ``nonce``: FRESH once per count, REPLAYED after, STALE if expired."""
        entry = self._nonces.get(nonce)
        if entry is None or self._clock.monotonic() - entry.issued_at > self._lifetime_s:
            return NonceState.STALE
        if count in entry.counts:
            return NonceState.REPLAYED
        if len(entry.counts) >= MAX_USES_PER_NONCE:
            return NonceState.STALE
        entry.counts.add(count)
        return NonceState.FRESH


def parse_digest_params(text: str) -> dict[str, str] | None:
    """The parameters of a Digest credentials string (after the scheme), or None if malformed."""
    params: dict[str, str] = {}
    position = 0
    while position < len(text):
        match = _DIGEST_PARAM.match(text, position)
        if match is None or match.end() == position:
            return None
        name, value = match.group(1).lower(), match.group(2)
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        if name in params:
            return None
        params[name] = value
        position = match.end()
    return params


def digest_response(
    algorithm: str, user: str, password: str, method: str, params: Mapping[str, str]
) -> str:
    """The ``response`` RFC 7616 section 3.4.1 expects for qop=auth (KeyError: no such hash)."""
    digest = DIGEST_HASHES[algorithm]
    ha1 = digest(f"{user}:{params['realm']}:{password}".encode())
    ha2 = digest(f"{method}:{params['uri']}".encode())
    fields = (ha1, params["nonce"], params["nc"], params["cnonce"], params["qop"], ha2)
    return digest(":".join(fields).encode())


_Answerer = Callable[["AccessControl", AccessRequest, str], Decision]


def _utf8(header: str) -> bool:
    """Whether a header value was UTF-8 on the wire (aiohttp keeps other bytes as surrogates)."""
    try:
        header.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class AccessControl:
    """The Camera service's security settings and the state Digest needs (its nonces).

    Used from the device's event loop only, so the nonce book needs no lock.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        auth: Authentication = Authentication.NONE,
        accounts: Sequence[Account] = (),
        https_only: bool = False,
        camera_enabled: bool = True,
        faults: frozenset[str] = frozenset(),
        nonce_lifetime_s: float = DEFAULT_NONCE_LIFETIME_S,
    ) -> None:
        check_accounts(auth, accounts)
        unknown = faults - ACCESS_FAULTS
        if unknown:
            raise ValueError(f"unknown access faults {sorted(unknown)}")
        self.auth = auth
        self.https_only = https_only
        self.camera_enabled = camera_enabled
        self.faults = frozenset(faults)
        self._accounts = {account.name: account for account in accounts}
        self._nonces = NonceBook(clock, nonce_lifetime_s)
        self._opaque = secrets.token_hex(16)
        # A stand-in compared against when the user is unknown, so that both cost the same.
        self._nobody = Account("nobody", secrets.token_hex(16))
        self._answerers = dict(self._SCHEMES)
        for fault, (key, answerer) in self._FAULTY_SCHEMES.items():
            if fault in self.faults:
                self._answerers[key] = answerer

    def decide(self, request: AccessRequest) -> Decision:
        """Admit the request to the Camera service, or say how it is refused."""
        admitted = Admitted(None)
        for step in self._STEPS:
            outcome = step(self, request, admitted)
            if isinstance(outcome, Refusal):
                return outcome
            admitted = outcome or admitted
        return admitted

    def _connection(self, request: AccessRequest, admitted: Admitted) -> Decision | None:
        if self.https_only and not request.secure:
            return Refusal(200, ApiError(ErrorCode.INVALID_CONNECTION_TYPE))
        return None

    def _switch(self, request: AccessRequest, admitted: Admitted) -> Decision | None:
        if not self.camera_enabled:
            return Refusal(200, ApiError(ErrorCode.FUNCTION_DISABLED))
        return None

    def _authentication(self, request: AccessRequest, admitted: Admitted) -> Decision | None:
        if self.auth is Authentication.NONE:
            return None  # credentials, if any, are ignored
        return self._authenticate(request)

    def _privilege(self, request: AccessRequest, admitted: Admitted) -> Decision | None:
        account = self._accounts.get(admitted.user or "")
        ignored = AccessFault.PRIVILEGE_IGNORED in self.faults
        if account is not None and not account.camera and not ignored:
            return Refusal(200, ApiError(ErrorCode.INSUFFICIENT_PRIVILEGES))
        return None

    # The rules in the order they apply; the first refusal is the answer.
    _STEPS: tuple[Callable[[AccessControl, AccessRequest, Admitted], Decision | None], ...] = (
        _connection,
        _switch,
        _authentication,
        _privilege,
    )

    def challenges(self, *, stale: bool = False) -> tuple[str, ...]:
        """The WWW-Authenticate values of the configured scheme (Digest: a fresh nonce)."""
        realm = _quoted(REALM)
        if self.auth is Authentication.BASIC:
            return (f'Basic realm={realm}, charset="UTF-8"',)
        if self.auth is Authentication.NONE:
            return ()
        nonce = _quoted(self._nonces.issue())
        tail = ", stale=true" if stale else ""
        return tuple(
            f'Digest realm={realm}, qop="auth", algorithm={algorithm}, nonce={nonce}, '
            f"opaque={_quoted(self._opaque)}{tail}"
            for algorithm in DIGEST_HASHES
        )

    def _refuse(self, code: ErrorCode, *, stale: bool = False) -> Refusal:
        return Refusal(401, ApiError(code), self.challenges(stale=stale))

    def _authenticate(self, request: AccessRequest) -> Decision:
        header = (request.authorization or "").strip()
        if not header or not _utf8(header):
            return self._refuse(ErrorCode.AUTHORISATION_REQUIRED)
        scheme, _, credentials = header.partition(" ")
        answer = self._answerers.get((self.auth, scheme.lower()))
        if answer is None:
            return self._refuse(ErrorCode.INVALID_AUTHENTICATION_METHOD)
        return answer(self, request, credentials.strip())

    def _account(self, name: str) -> tuple[Account, bool]:
        """The account of that name (or the stand-in) and whether it exists."""
        account = self._accounts.get(name)
        return (account, True) if account is not None else (self._nobody, False)

    def _basic(self, request: AccessRequest, credentials: str) -> Decision:
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except ValueError:  # not base64, not ASCII, or (UnicodeDecodeError) not UTF-8
            return self._refuse(ErrorCode.AUTHORISATION_REQUIRED)
        name, _, password = decoded.partition(":")
        account, known = self._account(name)
        matches = hmac.compare_digest(password.encode(), account.password.encode())
        if not (known and matches):
            return self._refuse(ErrorCode.AUTHORISATION_REQUIRED)
        return Admitted(account.name)

    def _digest(self, request: AccessRequest, credentials: str) -> Decision:
        params = parse_digest_params(credentials)
        if params is None or not self._digest_well_formed(params, request):
            return self._refuse(ErrorCode.AUTHORISATION_REQUIRED)
        algorithm = params.get("algorithm", "MD5").upper()
        account, known = self._account(params["username"])
        expected = digest_response(
            algorithm, account.name, account.password, request.method, params
        )
        matches = hmac.compare_digest(expected.encode(), params["response"].lower().encode())
        if not (known and matches):
            return self._refuse(ErrorCode.AUTHORISATION_REQUIRED)
        state = self._nonces.use(params["nonce"], int(params["nc"], 16))
        if state is NonceState.STALE:
            return self._refuse(ErrorCode.AUTHORISATION_REQUIRED, stale=True)
        if state is NonceState.REPLAYED:
            return self._refuse(ErrorCode.AUTHORISATION_REQUIRED)
        return Admitted(account.name)

    def _digest_well_formed(self, params: Mapping[str, str], request: AccessRequest) -> bool:
        """Every field present; realm, opaque, qop, algorithm ours; uri the request-target."""
        checks = (
            all(name in params for name in _DIGEST_REQUIRED),
            params.get("realm") == REALM,
            hmac.compare_digest(params.get("opaque", "").encode(), self._opaque.encode()),
            params.get("qop") == "auth",
            params.get("algorithm", "MD5").upper() in DIGEST_HASHES,
            _NC.fullmatch(params.get("nc", "")) is not None,
            params.get("uri") == request.target,
        )
        return all(checks)

    # Which answerer handles a credentials scheme under each configured authentication;
    # any other pair is error 8 (HTTP 401 with the configured challenge).
    _SCHEMES: Mapping[tuple[Authentication, str], _Answerer] = {
        (Authentication.BASIC, "basic"): _basic,
        (Authentication.DIGEST, "digest"): _digest,
    }
    # What each deliberate fault adds to that table.
    _FAULTY_SCHEMES: Mapping[AccessFault, tuple[tuple[Authentication, str], _Answerer]] = {
        AccessFault.BASIC_ON_DIGEST: ((Authentication.DIGEST, "basic"), _basic),
    }
