"""Access control of the reference device (reference_device/access.py; named apart from
suites/test_access.py, as test modules share one namespace): every rule without a server,
then on the wire.

Digest answers are computed here from RFC 7616's formulas with hashlib, independently of
the device's code and of snapcheck's client; one test also lets snapcheck's client answer.
Nonce expiry runs on a ManualClock: no test waits for time to pass.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import re
import ssl
from collections.abc import Callable, Iterator

import pytest

from reference_device import DeviceOptions, DeviceThread
from reference_device.access import (
    MAX_NONCES,
    REALM,
    AccessControl,
    AccessFault,
    AccessRequest,
    Account,
    Admitted,
    Authentication,
    Refusal,
    check_accounts,
    parse_digest_params,
)
from reference_device.clock import ManualClock
from reference_device.server import OptionsError
from snapcheck.auth import Credentials

ADMIN = Account("admin", "s3cret")
VIEWER = Account("viewer", "v1ew", camera=False)
CAPS = "/api/camera/caps"
SNAPSHOT = "/api/camera/snapshot?width=160&height=120"
LIFETIME_S = 60.0
TIMEOUT_S = 10.0
HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}
_PARAM = re.compile(r'([a-z]+)=("[^"]*"|[^,\s]+)')


def control(auth: Authentication = Authentication.DIGEST, **options: object) -> AccessControl:
    settings: dict[str, object] = {"accounts": (ADMIN, VIEWER), "nonce_lifetime_s": LIFETIME_S}
    settings.update(options)
    return AccessControl(ManualClock(), auth=auth, **settings)  # type: ignore[arg-type]


def challenge_params(challenge: str) -> dict[str, str]:
    """The parameters of one challenge, unquoted."""
    return {name: value.strip('"') for name, value in _PARAM.findall(challenge)}


def digest_header(
    challenge: str,
    user: str = "admin",
    password: str = "s3cret",
    *,
    uri: str = CAPS,
    method: str = "GET",
    nc: str = "00000001",
    **overrides: str,
) -> str:
    """An RFC 7616 answer (qop=auth) to ``challenge``; ``overrides`` replace sent fields."""
    offered = challenge_params(challenge)
    algorithm = offered.get("algorithm", "MD5")
    h = HASHES[algorithm]
    fields = {
        "username": user,
        "realm": offered["realm"],
        "nonce": offered["nonce"],
        "uri": uri,
        "algorithm": algorithm,
        "qop": "auth",
        "nc": nc,
        "cnonce": "0a4f113b",
        "opaque": offered["opaque"],
    }
    ha1 = h(f"{user}:{fields['realm']}:{password}".encode()).hexdigest()
    ha2 = h(f"{method}:{uri}".encode()).hexdigest()
    chain = [ha1, fields["nonce"], nc, fields["cnonce"], "auth", ha2]
    fields["response"] = h(":".join(chain).encode()).hexdigest()
    fields.update(overrides)
    return "Digest " + ", ".join(f'{k}="{v}"' for k, v in fields.items() if v != "-")


def basic_header(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def ask(
    access: AccessControl, authorization: str | None, *, secure: bool = False, target: str = CAPS
) -> Admitted | Refusal:
    return access.decide(AccessRequest("GET", target, secure, authorization))


def outcome(decision: Admitted | Refusal) -> tuple[int, int | None, str | None]:
    """(HTTP status, error code or None, the user admitted or the challenges' scheme)."""
    if isinstance(decision, Admitted):
        return 200, None, decision.user
    schemes = sorted({c.split(" ", 1)[0] for c in decision.challenges})
    return decision.status, int(decision.error.code), ",".join(schemes) or None


Header = Callable[[AccessControl], str | None]


def first_challenge(access: AccessControl, index: int = 0) -> str:
    return access.challenges()[index]


def digest_answer(**fields: str) -> Header:
    return lambda access: digest_header(first_challenge(access), **fields)


Outcome = tuple[int, int | None, str | None]
CASES: list[tuple[str, Authentication, dict[str, object], Header, Outcome]] = [
    ("none: no credentials", Authentication.NONE, {}, lambda a: None, (200, None, None)),
    ("none: credentials ignored", Authentication.NONE, {}, lambda a: "Basic !!", (200, None, None)),
    ("basic: none", Authentication.BASIC, {}, lambda a: None, (401, 9, "Basic")),
    ("basic: admin", Authentication.BASIC, {}, lambda a: basic_header("admin", "s3cret"),
     (200, None, "admin")),
    ("basic: wrong password", Authentication.BASIC, {},
     lambda a: basic_header("admin", "S3cret"), (401, 9, "Basic")),
    ("basic: unknown user", Authentication.BASIC, {},
     lambda a: basic_header("nobody", "s3cret"), (401, 9, "Basic")),
    ("basic: not base64", Authentication.BASIC, {}, lambda a: "Basic ***", (401, 9, "Basic")),
    ("basic: Digest sent", Authentication.BASIC, {},
     lambda a: 'Digest username="admin"', (401, 8, "Basic")),
    ("basic: Bearer sent", Authentication.BASIC, {}, lambda a: "Bearer x", (401, 8, "Basic")),
    ("basic: no privilege", Authentication.BASIC, {}, lambda a: basic_header("viewer", "v1ew"),
     (200, 10, None)),
    ("digest: none", Authentication.DIGEST, {}, lambda a: None, (401, 9, "Digest")),
    ("digest: SHA-256", Authentication.DIGEST, {}, digest_answer(), (200, None, "admin")),
    ("digest: MD5", Authentication.DIGEST, {},
     lambda a: digest_header(first_challenge(a, 1)), (200, None, "admin")),
    ("digest: MD5 implied", Authentication.DIGEST, {},
     lambda a: digest_header(first_challenge(a, 1), algorithm="-"), (200, None, "admin")),
    ("digest: wrong password", Authentication.DIGEST, {}, digest_answer(password="S3cret"),
     (401, 9, "Digest")),
    ("digest: unknown user", Authentication.DIGEST, {}, digest_answer(user="nobody"),
     (401, 9, "Digest")),
    ("digest: Basic sent", Authentication.DIGEST, {}, lambda a: basic_header("admin", "s3cret"),
     (401, 8, "Digest")),
    ("digest: another uri", Authentication.DIGEST, {}, digest_answer(uri=SNAPSHOT),
     (401, 9, "Digest")),
    ("digest: another realm", Authentication.DIGEST, {}, digest_answer(realm="x"),
     (401, 9, "Digest")),
    ("digest: another opaque", Authentication.DIGEST, {}, digest_answer(opaque="x"),
     (401, 9, "Digest")),
    ("digest: no qop", Authentication.DIGEST, {}, digest_answer(qop="-"), (401, 9, "Digest")),
    ("digest: qop auth-int", Authentication.DIGEST, {}, digest_answer(qop="auth-int"),
     (401, 9, "Digest")),
    ("digest: bad nc", Authentication.DIGEST, {}, digest_answer(nc="1"), (401, 9, "Digest")),
    ("digest: SHA-1", Authentication.DIGEST, {}, digest_answer(algorithm="SHA-1"),
     (401, 9, "Digest")),
    ("digest: garbage", Authentication.DIGEST, {}, lambda a: "Digest ,,==", (401, 9, "Digest")),
    # aiohttp hands over a byte that is not UTF-8 as a lone surrogate.
    ("digest: not UTF-8", Authentication.DIGEST, {},
     lambda a: digest_header(first_challenge(a)).replace('opaque="', 'opaque="\udcfe'),
     (401, 9, "Digest")),
    ("basic: not UTF-8", Authentication.BASIC, {}, lambda a: "Basic \udcfe", (401, 9, "Basic")),
    ("basic: not ASCII", Authentication.BASIC, {}, lambda a: "Basic \u00e9", (401, 9, "Basic")),
    ("digest: no privilege", Authentication.DIGEST, {},
     digest_answer(user="viewer", password="v1ew"), (200, 10, None)),
    ("HTTPS only: plain", Authentication.DIGEST, {"https_only": True}, digest_answer(),
     (200, 7, None)),
    ("disabled: anyone", Authentication.DIGEST, {"camera_enabled": False}, lambda a: None,
     (200, 4, None)),
    ("disabled: admin", Authentication.DIGEST, {"camera_enabled": False}, digest_answer(),
     (200, 4, None)),
    ("fault: privilege ignored", Authentication.DIGEST,
     {"faults": frozenset({AccessFault.PRIVILEGE_IGNORED})},
     digest_answer(user="viewer", password="v1ew"), (200, None, "viewer")),
    ("fault: Basic on Digest", Authentication.DIGEST,
     {"faults": frozenset({AccessFault.BASIC_ON_DIGEST})},
     lambda a: basic_header("admin", "s3cret"), (200, None, "admin")),
    ("fault: Basic on Digest, wrong password", Authentication.DIGEST,
     {"faults": frozenset({AccessFault.BASIC_ON_DIGEST})},
     lambda a: basic_header("admin", "x"), (401, 9, "Digest")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("auth", "options", "header", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_each_rule_admits_or_refuses_as_the_catalogue_says(
    auth: Authentication,
    options: dict[str, object],
    header: Header,
    expected: tuple[int, int | None, str | None],
) -> None:
    access = control(auth, **options)
    assert outcome(ask(access, header(access))) == expected


def test_https_only_admits_over_tls() -> None:
    access = control(https_only=True)
    assert ask(access, digest_header(first_challenge(access)), secure=True) == Admitted("admin")


def test_digest_offers_sha256_then_md5_with_one_nonce_qop_auth_and_opaque() -> None:
    offered = [challenge_params(c) for c in control().challenges()]
    assert [c["algorithm"] for c in offered] == ["SHA-256", "MD5"]
    assert {c["realm"] for c in offered} == {REALM}
    assert all(c["qop"] == "auth" and c["opaque"] for c in offered)
    # One nonce for both, so that a client merging the two headers still answers one.
    assert offered[0]["nonce"] == offered[1]["nonce"]
    assert "stale" not in offered[0]


def test_basic_challenge_names_realm_and_charset() -> None:
    assert control(Authentication.BASIC).challenges() == (
        f'Basic realm="{REALM}", charset="UTF-8"',
    )


def test_a_replayed_nonce_count_is_refused_and_a_new_count_admitted() -> None:
    access = control()
    challenge = first_challenge(access)
    header = digest_header(challenge)
    assert ask(access, header) == Admitted("admin")
    replayed = ask(access, header)
    assert outcome(replayed) == (401, 9, "Digest")
    assert isinstance(replayed, Refusal)
    assert all("stale" not in c for c in replayed.challenges)
    assert ask(access, digest_header(challenge, nc="00000002")) == Admitted("admin")


def test_an_expired_nonce_is_stale_and_a_fresh_one_works() -> None:
    clock = ManualClock()
    access = AccessControl(
        clock, auth=Authentication.DIGEST, accounts=(ADMIN,), nonce_lifetime_s=LIFETIME_S
    )
    challenge = first_challenge(access)
    clock.advance(LIFETIME_S + 1)
    refused = ask(access, digest_header(challenge))
    assert isinstance(refused, Refusal)
    assert refused.status == 401
    assert all(challenge_params(c)["stale"] == "true" for c in refused.challenges)
    assert ask(access, digest_header(refused.challenges[0])) == Admitted("admin")


def test_a_correct_answer_to_a_nonce_never_issued_is_stale_and_a_wrong_one_is_not() -> None:
    access = control()
    forged = first_challenge(access).replace('nonce="', 'nonce="forged')
    right = ask(access, digest_header(forged))
    wrong = ask(access, digest_header(forged, password="x"))
    assert isinstance(right, Refusal) and isinstance(wrong, Refusal)
    assert "stale=true" in right.challenges[0]
    assert "stale" not in wrong.challenges[0]


def test_the_oldest_nonce_is_forgotten_beyond_the_cap() -> None:
    access = control()
    oldest = first_challenge(access)
    for _ in range(MAX_NONCES):
        access.challenges()
    refused = ask(access, digest_header(oldest))
    assert isinstance(refused, Refusal) and "stale=true" in refused.challenges[0]


def test_snapcheck_client_answers_both_algorithms() -> None:
    access = control()
    for index in (0, 1):
        credentials = Credentials("admin", "s3cret", "digest")
        credentials.answer([first_challenge(access, index)], sent=False, answered=False)
        header = credentials.header("GET", CAPS)
        assert ask(access, header) == Admitted("admin"), index


@pytest.mark.parametrize(
    ("text", "account"),
    [
        ("admin:s3cret", Account("admin", "s3cret")),
        ("viewer:v1ew:nocamera", Account("viewer", "v1ew", camera=False)),
        ("admin:pa:ss", Account("admin", "pa:ss")),
        ("admin:", Account("admin", "")),
    ],
)
def test_accounts_parse_from_the_command_line_form(text: str, account: Account) -> None:
    assert Account.parse(text) == account
    assert "s3cret" not in repr(Account.parse(text))


@pytest.mark.parametrize("text", ["admin", ":pw", ""])
def test_a_malformed_account_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"NAME:PASSWORD|account name"):
        Account.parse(text)


@pytest.mark.parametrize(
    ("auth", "accounts", "message"),
    [
        (Authentication.DIGEST, [Account(f"u{i}", "p") for i in range(6)], "at most 5"),
        (Authentication.BASIC, [ADMIN, ADMIN], "must differ"),
        (Authentication.BASIC, [], "at least one user"),
    ],
)
def test_account_lists_are_checked(
    auth: Authentication, accounts: list[Account], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        check_accounts(auth, accounts)
    with pytest.raises(OptionsError, match=message):
        DeviceOptions(auth=auth, users=tuple(accounts))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"key": "k.pem"}, "--key needs --cert"),
        ({"cert": "c.pem"}, "--cert needs --https"),
        ({"faults": frozenset({"everything"})}, "unknown faults"),
        ({"nonce_lifetime_s": 0.0}, "positive"),
        ({"auth": "kerberos"}, "kerberos"),
    ],
)
def test_contradictory_device_options_are_refused(options: dict[str, object], message: str) -> None:
    with pytest.raises(OptionsError, match=message):
        DeviceOptions(**options)  # type: ignore[arg-type]


def test_https_only_implies_https_and_strings_become_accounts() -> None:
    options = DeviceOptions(auth="digest", users=("a:b", "c:d:nocamera"), https_only=True)  # type: ignore[arg-type]
    assert options.https and options.auth is Authentication.DIGEST
    assert options.users == (Account("a", "b"), Account("c", "d", camera=False))


@pytest.mark.parametrize(
    ("text", "params"),
    [
        ('username="a", nc=00000001', {"username": "a", "nc": "00000001"}),
        ('uri="/x?a=1,2", qop=auth', {"uri": "/x?a=1,2", "qop": "auth"}),
        (r'username="a\"b"', {"username": 'a"b'}),
        ("username=a, username=b", None),
        ('username="a', None),
        ("= =", None),
    ],
)
def test_digest_credentials_parse_or_are_refused(text: str, params: dict[str, str] | None) -> None:
    assert parse_digest_params(text) == params


# ---------------------------------------------------------------- on the wire


def get(
    url: str, target: str, *, authorization: str | None = None
) -> tuple[int, list[str], dict[str, object]]:
    """(status, WWW-Authenticate values, JSON body) of one request, TLS unverified."""
    scheme, _, address = url.partition("://")
    host, _, port = address.rpartition(":")
    connection: http.client.HTTPConnection
    if scheme == "https":
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connection = http.client.HTTPSConnection(
            host, int(port), timeout=TIMEOUT_S, context=context
        )
    else:
        connection = http.client.HTTPConnection(host, int(port), timeout=TIMEOUT_S)
    try:
        headers = {"Authorization": authorization} if authorization else {}
        connection.request("GET", target, headers=headers)
        response = connection.getresponse()
        body = response.read()
        challenges = response.headers.get_all("WWW-Authenticate") or []
        assert response.headers["Content-Type"].startswith("application/json"), body[:40]
        document = json.loads(body)
        assert isinstance(document, dict)
        return response.status, challenges, document
    finally:
        connection.close()


def code(document: dict[str, object]) -> int | None:
    error = document.get("error")
    value = error.get("code") if isinstance(error, dict) else None
    return value if isinstance(value, int) else None


@pytest.fixture(scope="module")
def guarded() -> Iterator[DeviceThread]:
    """A minimal device: Digest, two accounts, HTTPS only, a generated certificate."""
    options = DeviceOptions(
        profile="minimal",
        clock=ManualClock(),
        auth=Authentication.DIGEST,
        users=(ADMIN, VIEWER),
        https_only=True,
    )
    with DeviceThread(options) as running:
        yield running


def test_over_the_wire_no_credentials_get_401_two_challenges_and_error_9(
    guarded: DeviceThread,
) -> None:
    status, challenges, document = get(guarded.url, CAPS)
    assert (status, code(document)) == (401, 9)
    assert [challenge_params(c)["algorithm"] for c in challenges] == ["SHA-256", "MD5"]


def test_over_the_wire_an_answered_challenge_is_served_and_basic_is_error_8(
    guarded: DeviceThread,
) -> None:
    _, challenges, _ = get(guarded.url, CAPS)
    status, _, document = get(guarded.url, CAPS, authorization=digest_header(challenges[0]))
    assert (status, document["success"]) == (200, True)
    status, offered, document = get(
        guarded.url, CAPS, authorization=basic_header("admin", "s3cret")
    )
    assert (status, code(document)) == (401, 8)
    assert offered and all(c.startswith("Digest ") for c in offered)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (SNAPSHOT, (401, 9)),
        ("/api/camera/%73napshot?width=160&height=120", (401, 9)),
        ("/api/camera/snapshot?width=160&height=120&fps=1", (401, 9)),
        ("/api/camera/snapshot?width=160&height=120&time=-1", (401, 9)),
        ("/api/camera/snapshot?width=160&height=120&user=admin&password=s3cret", (401, 9)),
        # Spellings that are not the snapshot path are another path: error 2, no image.
        ("/api/camera/./snapshot?width=160&height=120", (200, 2)),
        ("/api/camera//snapshot?width=160&height=120", (200, 2)),
        ("/api/camera/snapshot/?width=160&height=120", (200, 2)),
        ("/API/CAMERA/SNAPSHOT?width=160&height=120", (200, 2)),
    ],
)
def test_over_the_wire_no_spelling_of_the_snapshot_path_escapes_the_guard(
    guarded: DeviceThread, target: str, expected: tuple[int, int]
) -> None:
    status, _, document = get(guarded.url, target)
    assert (status, code(document)) == expected


def test_over_the_wire_plain_http_is_error_7_and_system_info_stays_open(
    guarded: DeviceThread,
) -> None:
    assert guarded.plain_url is not None and guarded.plain_url.startswith("http://")
    status, challenges, document = get(guarded.plain_url, CAPS)
    assert (status, code(document), challenges) == (200, 7, [])
    for url in (guarded.url, guarded.plain_url):
        status, _, document = get(url, "/api/system/info")
        assert (status, document["success"]) == (200, True)


def test_over_the_wire_the_certificate_is_the_one_announced(guarded: DeviceThread) -> None:
    host, _, port = guarded.url.removeprefix("https://").rpartition(":")
    pem = ssl.get_server_certificate((host, int(port)), timeout=TIMEOUT_S)
    der = ssl.PEM_cert_to_DER_cert(pem)
    assert hashlib.sha256(der).hexdigest() == guarded.certificate_sha256


def test_over_the_wire_a_disabled_service_is_error_4_to_everyone() -> None:
    options = DeviceOptions(
        profile="minimal",
        clock=ManualClock(),
        auth=Authentication.BASIC,
        users=(ADMIN,),
        camera_api=False,
    )
    with DeviceThread(options) as running:
        assert running.plain_url is None and running.certificate_sha256 is None
        for authorization in (None, basic_header("admin", "s3cret")):
            for target in (CAPS, SNAPSHOT):
                status, _, document = get(running.url, target, authorization=authorization)
                assert (status, code(document)) == (200, 4)
        status, _, document = get(running.url, "/api/system/info")
        assert (status, document["success"]) == (200, True)
