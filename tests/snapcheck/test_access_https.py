"""The connection-type probes: the certificate over HTTPS, and what the plain address says.

The bundled device is started with ``--https`` or ``--https-only`` (a generated
certificate, both listeners on 127.0.0.1 port 0); the plain address is also replaced by
a closed port and by scripted servers that answer wrongly, to see every verdict.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest
from hostile_server import Connection, response, running_server
from synthetic import error_document, jpeg_bytes, json_reply, reply

from reference_device import DeviceThread
from reference_device.command_line import device_options
from snapcheck import access, access_https
from snapcheck.access_https import PlainAnswer, plain_answer
from snapcheck.device import DeviceUnderTest, Unsupported
from snapcheck.recorder import RunRecorder
from snapcheck.settings import Settings
from snapcheck.verdicts import Finding, Verdict, worst

Probe = Callable[[DeviceUnderTest, access.AccessSurvey], list[Finding]]


@contextmanager
def https_device(*flags: str, **settings: Any) -> Iterator[tuple[DeviceUnderTest, DeviceThread]]:
    """A minimal device with HTTPS (and ``flags``), its plain address given as --plain-url."""
    with DeviceThread(device_options(["--profile", "minimal", "--https", *flags])) as running:
        chosen = replace(Settings(rate_limit=0, plain_url=running.plain_url), **settings)
        yield DeviceUnderTest.connect(running.url, chosen, RunRecorder()), running


def run(probe: Probe, dut: DeviceUnderTest) -> tuple[str, list[Finding]]:
    """The probe's worst verdict (or ``UNSUPPORTED: reason``) and its findings."""
    try:
        findings = probe(dut, access.survey(dut))
    except Unsupported as unsupported:
        return f"UNSUPPORTED: {unsupported}", []
    assert findings and all(f.curl for f in findings)
    return worst(f.verdict for f in findings).value, findings


def closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.mark.parametrize(
    ("sample", "answer"),
    [
        (json_reply(error_document(7)), PlainAnswer.REFUSED),
        (json_reply(error_document(4)), PlainAnswer.DISABLED),
        (json_reply(error_document(9), status=401), PlainAnswer.ACCEPTED),
        (json_reply(error_document(8)), PlainAnswer.ACCEPTED),
        (reply(jpeg_bytes()), PlainAnswer.ACCEPTED),
        (json_reply({"success": True}), PlainAnswer.ACCEPTED),
        (json_reply(error_document(14)), PlainAnswer.OTHER),
        (reply(b"<html>", content_type="text/html", status=403), PlainAnswer.OTHER),
        (replace(reply(b""), status=0, transport_error="refused"), PlainAnswer.NO_CONNECTION),
    ],
)
def test_plain_answers_are_classified(sample: Any, answer: PlainAnswer) -> None:
    assert plain_answer(sample) is answer


def test_the_certificate_is_recorded_as_informational() -> None:
    with https_device() as (dut, running):
        verdict, findings = run(lambda d, f: access_https.probe_certificate(d), dut)
    assert verdict == "INFORMATIONAL"
    assert running.certificate_sha256 is not None
    assert running.certificate_sha256 in findings[0].message


def test_over_plain_http_the_certificate_is_unsupported() -> None:
    with DeviceThread(device_options(["--profile", "minimal"])) as running:
        dut = DeviceUnderTest.connect(running.url, Settings(rate_limit=0), RunRecorder())
        verdict, _ = run(lambda d, f: access_https.probe_certificate(d), dut)
    assert verdict == "UNSUPPORTED: the device is tested over http://, not https://"


@pytest.mark.parametrize(
    ("flags", "plain", "refused", "connection_type"),
    [
        (("--https-only",), None, "PASS", "PASS"),
        (("--https-only", "--auth", "digest", "--user", "a:b"), None, "PASS", "PASS"),
        ((), None, "UNSUPPORTED: plain HTTP is served", "PASS"),
        (("--auth", "basic", "--user", "a:b"), None, "UNSUPPORTED: plain HTTP is served", "PASS"),
        (("--https-only",), "closed", "NON-STRICT", "PASS"),
        (("--https-only",), "none", "UNSUPPORTED: needs the device's plain http:// address",
         "UNSUPPORTED: needs the device's plain http:// address"),
    ],
)  # fmt: skip
def test_the_plain_address_on_the_bundled_device(
    flags: tuple[str, ...], plain: str | None, refused: str, connection_type: str
) -> None:
    settings: dict[str, Any] = {"user": "a", "password": "b"} if "--user" in flags else {}
    if plain is not None:
        settings["plain_url"] = closed_port() if plain == "closed" else None
    with https_device(*flags, **settings) as (dut, _):
        assert run(access_https.probe_plain_refused, dut)[0].startswith(refused)
        assert run(access_https.probe_connection_type, dut)[0].startswith(connection_type)


def scripted(codes: dict[str, int | None]) -> Callable[[Connection], None]:
    """A plain server answering each path with an error code, or a JPEG for None."""

    def handle(conn: Connection) -> None:
        path = conn.request_line.split(" ")[1].split("?")[0]
        code = codes.get(path, 2)
        if code is None:
            conn.send(response(headers=(("Content-Type", "image/jpeg"),), body=jpeg_bytes()))
            return
        body = json.dumps(error_document(code)).encode()
        conn.send(response(headers=(("Content-Type", "application/json"),), body=body))

    def read_then_answer(conn: Connection) -> None:
        conn.read_request()
        handle(conn)

    return read_then_answer


@pytest.mark.parametrize(
    ("codes", "refused", "connection_type", "message"),
    [
        ({"/api/camera/caps": 7, "/api/camera/snapshot": None}, "FAIL", "FAIL",
         "served, or asked for credentials: plain HTTP accepted, not error 7"),
        ({"/api/camera/caps": 14, "/api/camera/snapshot": 14}, "FAIL", "FAIL",
         "neither error 7 nor the service, not error 7"),
    ],
)  # fmt: skip
def test_a_plain_address_that_answers_wrongly_fails(
    codes: dict[str, int | None], refused: str, connection_type: str, message: str
) -> None:
    with (
        running_server(scripted(codes)) as server,
        https_device("--https-only", plain_url=server.url) as (dut, _),
    ):
        verdict, findings = run(access_https.probe_plain_refused, dut)
        assert verdict == refused
        assert any(message in f.message for f in findings), [f.message for f in findings]
        assert run(access_https.probe_connection_type, dut)[0] == connection_type


def test_a_device_tested_over_http_cannot_judge_its_plain_address() -> None:
    with DeviceThread(device_options(["--profile", "minimal"])) as running:
        settings = Settings(rate_limit=0, plain_url=running.url)
        dut = DeviceUnderTest.connect(running.url, settings, RunRecorder())
        verdict, _ = run(access_https.probe_plain_refused, dut)
    assert verdict.startswith("UNSUPPORTED: the device is tested over http://")


def test_no_credentials_are_ever_sent_to_the_plain_address() -> None:
    seen: list[str | None] = []

    def record(conn: Connection) -> None:
        conn.read_request()
        seen.append(conn.header("Authorization"))
        body = json.dumps(error_document(7)).encode()
        conn.send(response(headers=(("Content-Type", "application/json"),), body=body))

    flags = ("--https-only", "--auth", "digest", "--user", "a:b")
    with (
        running_server(record) as server,
        https_device(*flags, user="a", password="b", plain_url=server.url) as (dut, _),
    ):
        assert run(access_https.probe_plain_refused, dut)[0] == Verdict.PASS.value
    assert seen == [None, None]
