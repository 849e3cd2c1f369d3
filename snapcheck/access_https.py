"""The connection-type probes: the certificate over HTTPS, and the device's plain address.

Strategy: as ``snapcheck.access``, each probe builds its requests, sends them through a
transport of its own and judges the replies, or ends the test as UNSUPPORTED with the
reason. The plain address (``--plain-url``; the bundled device's is known) is only ever
sent requests without credentials: an HTTPS-only device's password must not cross the
network in clear text because a test asked. What the plain address answers is classified
once (``plain_answer``): error 7, no connection, the service (served or challenged), the
service switched off, or something else; AUTH-HTTPS-1 and AUTH-HTTPS-2 read that class.

What never belongs here: credentials (snapcheck.access), reply bytes (checks).
"""

from __future__ import annotations

import enum
from typing import Final

from snapcheck.access import AccessSurvey, labelled
from snapcheck.checks.access_reply import check_refusal_code, error_code, served
from snapcheck.checks.findings import ReplyFindings
from snapcheck.device import DeviceUnderTest
from snapcheck.exchange import Reply
from snapcheck.judge import CAPS_PATH, SNAPSHOT_PATH
from snapcheck.transport import Transport
from snapcheck.verdicts import Finding, Verdict

AUTH_HTTPS_1: Final = "AUTH-HTTPS-1"
AUTH_HTTPS_2: Final = "AUTH-HTTPS-2"
AUTH_TLS_1: Final = "AUTH-TLS-1"
# The plain address may refuse connections (NON-STRICT): do not give up on it at once.
PLAIN_FAILURE_THRESHOLD = 10


def probe_certificate(device: DeviceUnderTest) -> list[Finding]:
    """AUTH-TLS-1: the certificate the device presents over HTTPS (INFORMATIONAL)."""
    if not device.base_url.startswith("https://"):
        device.unsupported("the device is tested over http://, not https://")
    reply = device.info_reply
    out = ReplyFindings(reply)
    fingerprint = reply.tls_certificate_sha256 or device.caps_reply.tls_certificate_sha256
    seen = (
        f"a certificate with SHA-256 fingerprint {fingerprint} (chain and name not verified)"
        if fingerprint
        else f"no certificate recorded ({reply.transport_error})"
    )
    out.add(AUTH_TLS_1, Verdict.INFORMATIONAL, f"the device presents {seen}")
    return out.items


class PlainAnswer(enum.Enum):
    """What the plain address said to a Camera request without credentials."""

    REFUSED = "error 7 (HTTPS required)"
    NO_CONNECTION = "no connection"
    ACCEPTED = "served, or asked for credentials: plain HTTP accepted"
    DISABLED = "error 4 (service disabled)"
    OTHER = "neither error 7 nor the service"


def plain_answer(reply: Reply) -> PlainAnswer:
    """Classify a reply from the plain address."""
    code = error_code(reply)
    if reply.status == 0:
        return PlainAnswer.NO_CONNECTION
    if code in (7, 4):
        return PlainAnswer.REFUSED if code == 7 else PlainAnswer.DISABLED
    if served(reply) is not None or reply.status == 401 or code in (8, 9):
        return PlainAnswer.ACCEPTED
    return PlainAnswer.OTHER


def _plain_replies(device: DeviceUnderTest, found: AccessSurvey) -> list[tuple[str, Reply]]:
    """Caps and a snapshot at --plain-url, never with credentials."""
    if not device.base_url.startswith("https://"):
        device.unsupported("the device is tested over http://: give its https:// address")
    plain_url = device.settings.plain_url
    if plain_url is None:
        device.unsupported("needs the device's plain http:// address: give --plain-url")
    settings = device.settings
    plain = Transport(
        plain_url,
        timeout_s=settings.request_timeout,
        rate_limit_per_s=settings.effective_rate_limit,
        failure_threshold=PLAIN_FAILURE_THRESHOLD,
    )
    width, height = found.size
    return [
        ("caps over plain HTTP", plain.exchange(plain.request(CAPS_PATH))),
        (
            "a snapshot over plain HTTP",
            plain.exchange(
                plain.request(SNAPSHOT_PATH, (("width", str(width)), ("height", str(height))))
            ),
        ),
    ]


def probe_plain_refused(device: DeviceUnderTest, found: AccessSurvey) -> list[Finding]:
    """AUTH-HTTPS-1: an HTTPS-only service answers plain HTTP with error 7."""
    replies = _plain_replies(device, found)
    answers = {plain_answer(reply) for _, reply in replies}
    if answers <= {PlainAnswer.ACCEPTED, PlainAnswer.DISABLED}:
        device.unsupported(
            "plain HTTP is "
            + " and ".join(sorted(a.value for a in answers))
            + ": the connection type is not HTTPS-only"
        )
    findings: list[Finding] = []
    for label, reply in replies:
        answer = plain_answer(reply)
        if answer is PlainAnswer.REFUSED:
            checked = check_refusal_code(reply, clause=AUTH_HTTPS_1, codes=frozenset({7}))
        else:
            out = ReplyFindings(reply)
            verdict = Verdict.NON_STRICT if answer is PlainAnswer.NO_CONNECTION else Verdict.FAIL
            detail = reply.transport_error or f"HTTP {reply.status}, error {error_code(reply)}"
            out.add(AUTH_HTTPS_1, verdict, f"{answer.value}, not error 7 ({detail})")
            checked = out.items
        findings += labelled(label, checked)
    return findings


# The connection type each consistent answer of the plain address reveals.
CONNECTION_TYPES = {
    PlainAnswer.REFUSED: "HTTPS (plain HTTP refused with error 7)",
    PlainAnswer.NO_CONNECTION: "HTTPS (plain HTTP not answered at all)",
    PlainAnswer.ACCEPTED: "HTTP (HTTP and HTTPS accepted)",
}


def probe_connection_type(device: DeviceUnderTest, found: AccessSurvey) -> list[Finding]:
    """AUTH-HTTPS-2: HTTPS works and plain HTTP is consistently either accepted or refused."""
    replies = _plain_replies(device, found)
    answers = {plain_answer(reply) for _, reply in replies}
    if answers == {PlainAnswer.DISABLED}:
        device.unsupported("the Camera service is disabled over plain HTTP")
    kind = CONNECTION_TYPES.get(next(iter(answers))) if len(answers) == 1 else None
    out = ReplyFindings(replies[-1][1])
    shown = "; ".join(f"{label}: {plain_answer(reply).value}" for label, reply in replies)
    out.judge(
        AUTH_HTTPS_2,
        kind is not None,
        f"connection type {kind}",
        f"plain HTTP answers are not one connection type ({shown})",
        shown,
    )
    return out.items
