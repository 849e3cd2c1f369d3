"""Client-side HTTP authentication: challenge parsing, Basic, and Digest (RFC 7616/2617).

Strategy: pure functions and small stateful answerers that turn a device's
``WWW-Authenticate`` challenge into an ``Authorization`` header value. Nothing here
opens a socket: the transport asks for a header, sends it, and hands back the next
challenge. A device's malformed challenge is never an exception: the parser keeps what
it could read and returns notes that the transport records for the judge.

Digest follows RFC 7616 section 3.4 (and RFC 2617's form without ``qop``):

    HA1      = H(user ":" realm ":" password)          (-sess: H(HA1 ":" nonce ":" cnonce))
    HA2      = H(method ":" uri)                        (auth-int: ... ":" H(body))
    response = H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2)   (no qop: H(HA1:nonce:HA2))
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

# RFC 9110 section 5.6.2: tchar. A token68 adds "/" and trailing "=" (section 11.2).
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_TOKEN_RE = re.compile(_TOKEN)
_TOKEN68_RE = re.compile(r"[A-Za-z0-9._~+/-]+=*")
_SCHEME_RE = re.compile(rf"({_TOKEN})(?:[ \t]+|$)")
_PARAM_NAME_RE = re.compile(rf"({_TOKEN})[ \t]*=[ \t]*")


@dataclass(frozen=True, slots=True)
class Challenge:
    """One challenge of a ``WWW-Authenticate`` header: scheme (lower case) and parameters."""

    scheme: str
    params: tuple[tuple[str, str], ...] = ()
    token68: str | None = None

    def param(self, name: str) -> str | None:
        """A parameter's value (names are case-insensitive), or None when absent."""
        wanted = name.lower()
        return next((value for key, value in self.params if key == wanted), None)


@dataclass(frozen=True, slots=True)
class ChallengeParse:
    """The challenges read from one or more header values, and what could not be read."""

    challenges: tuple[Challenge, ...]
    notes: tuple[str, ...]


def _split_items(text: str) -> tuple[list[str], str | None]:
    """Split at top-level commas, keeping quoted strings whole."""
    items: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            items.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    items.append("".join(current).strip())
    problem = "an unterminated quoted string" if quoted else None
    return [item for item in items if item], problem


def _unquote(value: str) -> str | None:
    """The value of a token or quoted-string, or None when it is neither."""
    if value.startswith('"'):
        if len(value) < 2 or not value.endswith('"'):
            return None
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value if _TOKEN_RE.fullmatch(value) else None


def _param(text: str) -> tuple[str, str] | None:
    match = _PARAM_NAME_RE.match(text)
    if match is None:
        return None
    value = _unquote(text[match.end() :].strip())
    return None if value is None else (match.group(1).lower(), value)


def parse_challenges(values: Sequence[str]) -> ChallengeParse:
    """Read every challenge from ``WWW-Authenticate`` values (several per value allowed)."""
    found: list[tuple[str, list[tuple[str, str]], str | None]] = []
    notes: list[str] = []
    for value in values:
        items, problem = _split_items(value)
        if problem:
            notes.append(f"WWW-Authenticate {value!r} has {problem}")
        for item in items:
            param = _param(item)
            if param is not None:
                if not found:
                    notes.append(f"WWW-Authenticate parameter {item!r} comes before any scheme")
                else:
                    found[-1][1].append(param)
                continue
            scheme = _SCHEME_RE.match(item)
            if scheme is None:
                notes.append(f"WWW-Authenticate item {item!r} is neither a scheme nor a parameter")
                continue
            rest = item[scheme.end() :].strip()
            first = _param(rest) if rest else None
            token68 = rest if rest and first is None and _TOKEN68_RE.fullmatch(rest) else None
            if rest and first is None and token68 is None:
                notes.append(f"WWW-Authenticate {scheme.group(1)} has an unreadable {rest!r}")
            found.append((scheme.group(1).lower(), [first] if first else [], token68))
    challenges = tuple(Challenge(s, tuple(p), t) for s, p, t in found)
    return ChallengeParse(challenges, tuple(notes))


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Authenticator(Protocol):
    """Something that produces an ``Authorization`` header value for a request."""

    scheme: str

    def authorization(self, method: str, uri: str, *, body: bytes = b"") -> str:
        """The header value for one request."""
        ...


class BasicAuth:
    """RFC 7617 Basic: the credentials, base64-encoded, on every request."""

    scheme = "basic"

    def __init__(self, user: str, password: str) -> None:
        self._token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")

    def authorization(self, method: str, uri: str, *, body: bytes = b"") -> str:
        """The header value (the same for every request)."""
        return f"Basic {self._token}"


def _hasher(name: str) -> Callable[[bytes], str]:
    return lambda data: hashlib.new(name, data).hexdigest()


# Digest algorithms we can answer, strongest first (RFC 7616 section 6.1).
DIGEST_ALGORITHMS: dict[str, tuple[Callable[[bytes], str], bool]] = {
    "SHA-512-256": (_hasher("sha512_256"), False),
    "SHA-512-256-SESS": (_hasher("sha512_256"), True),
    "SHA-256": (_hasher("sha256"), False),
    "SHA-256-SESS": (_hasher("sha256"), True),
    "MD5": (_hasher("md5"), False),
    "MD5-SESS": (_hasher("md5"), True),
}
if "sha512_256" not in hashlib.algorithms_available:
    del DIGEST_ALGORITHMS["SHA-512-256"], DIGEST_ALGORITHMS["SHA-512-256-SESS"]


def _digest_problem(challenge: Challenge) -> str | None:
    """Why we cannot answer a Digest challenge, or None when we can."""
    algorithm = (challenge.param("algorithm") or "MD5").upper()
    if challenge.param("realm") is None or challenge.param("nonce") is None:
        return "Digest challenge lacks realm or nonce"
    if algorithm not in DIGEST_ALGORITHMS:
        return f"Digest algorithm {algorithm!r} is not one we can answer"
    qops = challenge.param("qop")
    if qops is not None and not {"auth", "auth-int"} & _qop_options(qops):
        return f"Digest qop {qops!r} offers neither auth nor auth-int"
    return None


def _qop_options(text: str) -> set[str]:
    return {item.strip().lower() for item in text.split(",") if item.strip()}


def _new_cnonce() -> str:
    return secrets.token_hex(16)


class DigestAuth:
    """RFC 7616 Digest for one challenge; counts nc per nonce and renews on ``stale=true``."""

    scheme = "digest"

    def __init__(
        self,
        user: str,
        password: str,
        challenge: Challenge,
        *,
        cnonce_factory: Callable[[], str] = _new_cnonce,
    ) -> None:
        self._user = user
        self._password = password
        self._cnonce_factory = cnonce_factory
        self._nonce_counts: dict[str, int] = {}
        self._challenge = challenge
        self.renew(challenge)

    def renew(self, challenge: Challenge) -> None:
        """Adopt a new challenge (a fresh or stale nonce); ValueError if it cannot be answered."""
        problem = _digest_problem(challenge)
        if challenge.scheme != "digest" or problem:
            raise ValueError(problem or f"not a Digest challenge: {challenge.scheme}")
        self._challenge = challenge

    @property
    def nonce(self) -> str:
        """The server nonce currently answered."""
        return self._challenge.param("nonce") or ""

    @property
    def algorithm(self) -> str:
        """The algorithm in use, upper case as in RFC 7616."""
        return (self._challenge.param("algorithm") or "MD5").upper()

    @property
    def qop(self) -> str | None:
        """The quality of protection we answer with (auth preferred), or None (RFC 2617 form)."""
        offered = self._challenge.param("qop")
        if offered is None:
            return None
        return "auth" if "auth" in _qop_options(offered) else "auth-int"

    def next_nc(self) -> int:
        """Reserve the next nonce count for the current nonce."""
        count = self._nonce_counts.get(self.nonce, 0) + 1
        self._nonce_counts[self.nonce] = count
        return count

    def response(self, method: str, uri: str, *, nc: int, cnonce: str, body: bytes = b"") -> str:
        """The ``response`` value of RFC 7616 section 3.4.1."""
        digest, sess = DIGEST_ALGORITHMS[self.algorithm]
        realm = self._challenge.param("realm") or ""
        ha1 = digest(f"{self._user}:{realm}:{self._password}".encode())
        if sess:
            ha1 = digest(f"{ha1}:{self.nonce}:{cnonce}".encode())
        qop = self.qop
        ha2_input = f"{method}:{uri}"
        if qop == "auth-int":
            ha2_input += ":" + digest(body)
        ha2 = digest(ha2_input.encode())
        if qop is None:
            return digest(f"{ha1}:{self.nonce}:{ha2}".encode())
        return digest(f"{ha1}:{self.nonce}:{nc:08x}:{cnonce}:{qop}:{ha2}".encode())

    def authorization(
        self, method: str, uri: str, *, nc: int | None = None, body: bytes = b""
    ) -> str:
        """The header value; pass ``nc`` to reuse a nonce count (a deliberate replay)."""
        count = self.next_nc() if nc is None else nc
        cnonce = self._cnonce_factory()
        realm = self._challenge.param("realm") or ""
        username = self._user
        userhash = (self._challenge.param("userhash") or "").lower() == "true"
        if userhash:
            username = DIGEST_ALGORITHMS[self.algorithm][0](f"{self._user}:{realm}".encode())
        fields = [
            f"username={_quote(username)}",
            f"realm={_quote(realm)}",
            f"uri={_quote(uri)}",
            f"algorithm={self.algorithm}",
            f"nonce={_quote(self.nonce)}",
        ]
        qop = self.qop
        if qop is not None:
            fields += [f"nc={count:08x}", f"cnonce={_quote(cnonce)}", f"qop={qop}"]
        response = self.response(method, uri, nc=count, cnonce=cnonce, body=body)
        fields.append(f"response={_quote(response)}")
        opaque = self._challenge.param("opaque")
        if opaque is not None:
            fields.append(f"opaque={_quote(opaque)}")
        if userhash:
            fields.append("userhash=true")
        return "Digest " + ", ".join(fields)


def _strength(challenge: Challenge) -> int:
    """Higher is stronger; -1 when we cannot answer the challenge."""
    if challenge.scheme == "basic":
        return 0
    if challenge.scheme == "digest" and _digest_problem(challenge) is None:
        algorithm = (challenge.param("algorithm") or "MD5").upper()
        return len(DIGEST_ALGORITHMS) - list(DIGEST_ALGORITHMS).index(algorithm)
    return -1


# Which challenge schemes each configured method may answer: never downgrade to Basic
# when Digest was asked for, since Basic would put the password on the wire.
ACCEPTED_SCHEMES: dict[str, frozenset[str]] = {
    "basic": frozenset({"basic"}),
    "digest": frozenset({"digest"}),
    "auto": frozenset({"basic", "digest"}),
    "none": frozenset(),
}


def answer_challenges(
    challenges: Sequence[Challenge],
    user: str,
    password: str,
    method: str,
    *,
    cnonce_factory: Callable[[], str] = _new_cnonce,
) -> tuple[Authenticator | None, str | None]:
    """The authenticator for the strongest acceptable challenge, or None and the reason."""
    if method not in ACCEPTED_SCHEMES:
        raise ValueError(f"unknown auth method {method!r}")
    usable = [c for c in challenges if c.scheme in ACCEPTED_SCHEMES[method] and _strength(c) >= 0]
    if not usable:
        offered = ", ".join(sorted({c.scheme for c in challenges})) or "no readable challenge"
        problems = {p for c in challenges if c.scheme == "digest" and (p := _digest_problem(c))}
        why = "".join(f"; {problem}" for problem in sorted(problems))
        return None, f"cannot answer with {method}: the device offered {offered}{why}"
    best = max(usable, key=_strength)
    if best.scheme == "basic":
        return BasicAuth(user, password), None
    return DigestAuth(user, password, best, cnonce_factory=cnonce_factory), None


def is_stale(challenges: Sequence[Challenge]) -> Challenge | None:
    """The Digest challenge that says ``stale=true`` (retry with its nonce), if any."""
    for challenge in challenges:
        if challenge.scheme == "digest" and (challenge.param("stale") or "").lower() == "true":
            return challenge
    return None


class Credentials:
    """A user's credentials and the answerer currently in use; thread-safe (nc must not repeat)."""

    def __init__(
        self,
        user: str,
        password: str,
        method: str,
        *,
        cnonce_factory: Callable[[], str] = _new_cnonce,
    ) -> None:
        if method not in ACCEPTED_SCHEMES or method == "none":
            raise ValueError(f"auth method must be basic, digest or auto, got {method!r}")
        self.user = user
        self.method = method
        self._password = password
        self._cnonce_factory = cnonce_factory
        self._lock = threading.Lock()
        # Basic needs no challenge, so it is sent pre-emptively.
        self._auth: Authenticator | None = BasicAuth(user, password) if method == "basic" else None

    def __repr__(self) -> str:
        return f"Credentials(user={self.user!r}, method={self.method!r}, password=****)"

    @property
    def digest(self) -> DigestAuth | None:
        """The Digest answerer in use, if any (e.g. to build a replayed nonce count)."""
        with self._lock:
            return self._auth if isinstance(self._auth, DigestAuth) else None

    def header(self, method: str, uri: str, *, body: bytes = b"") -> str | None:
        """The Authorization value for the next request, or None before any challenge."""
        with self._lock:
            return None if self._auth is None else self._auth.authorization(method, uri, body=body)

    def answer(
        self, challenge_values: Sequence[str], *, sent: bool, answered: bool
    ) -> tuple[bool, tuple[str, ...]]:
        """After a 401: whether to retry (a challenge answered or a stale nonce renewed), notes."""
        parsed = parse_challenges(challenge_values)
        notes = list(parsed.notes)
        with self._lock:
            stale = is_stale(parsed.challenges)
            if sent and isinstance(self._auth, DigestAuth) and stale is not None:
                try:
                    self._auth.renew(stale)
                except ValueError as exc:
                    notes.append(f"stale nonce cannot be renewed: {exc}")
                    return False, tuple(notes)
                return True, tuple(notes)
            auth, note = answer_challenges(
                parsed.challenges,
                self.user,
                self._password,
                self.method,
                cnonce_factory=self._cnonce_factory,
            )
            if note is not None:
                notes.append(note)
            # A refused answer to this very challenge, or refused Basic, is final.
            if auth is None or (sent and (answered or isinstance(self._auth, BasicAuth))):
                return False, tuple(notes)
            self._auth = auth
            return True, tuple(notes)
