"""TLS of the reference device: the self-signed certificate, given PEM files, bad files."""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import socket
import ssl
import threading
from pathlib import Path

import pytest
from cryptography import x509

from reference_device.tls import SELF_SIGNED_DAYS, fingerprint, self_signed, server_tls

NOW = 1_764_000_000.0
TIMEOUT_S = 10.0


def names(certificate_pem: bytes) -> set[str]:
    certificate = x509.load_pem_x509_certificate(certificate_pem)
    extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    return {str(name.value) for name in extension.value}


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", {"localhost", "127.0.0.1"}),
        ("intercom.lan", {"localhost", "127.0.0.1", "intercom.lan"}),
        ("192.0.2.7", {"localhost", "127.0.0.1", "192.0.2.7"}),
    ],
)
def test_the_self_signed_certificate_names_loopback_and_the_host(
    host: str, expected: set[str]
) -> None:
    certificate_pem, _ = self_signed(host, NOW)
    assert names(certificate_pem) == expected


def test_the_self_signed_certificate_is_valid_for_a_year_from_the_clock() -> None:
    certificate = x509.load_pem_x509_certificate(self_signed("127.0.0.1", NOW)[0])
    start = datetime.datetime.fromtimestamp(NOW, datetime.UTC)
    assert certificate.not_valid_before_utc <= start < certificate.not_valid_after_utc
    lifetime = certificate.not_valid_after_utc - certificate.not_valid_before_utc
    assert lifetime == datetime.timedelta(days=SELF_SIGNED_DAYS)


def handshake(context: ssl.SSLContext) -> bytes:
    """The DER certificate a client sees from a server using ``context`` on loopback."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    failures: list[BaseException] = []

    def serve() -> None:
        try:
            raw, _ = listener.accept()
            with context.wrap_socket(raw, server_side=True) as tls:
                tls.recv(1)
        except (OSError, ssl.SSLError) as exc:
            failures.append(exc)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client = ssl.create_default_context()
    client.check_hostname = False
    client.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S) as raw,
        client.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        der = tls.getpeercert(binary_form=True)
        tls.sendall(b"x")
    thread.join(TIMEOUT_S)
    listener.close()
    assert not failures, failures
    assert der is not None
    return der


def test_a_generated_setup_presents_the_certificate_it_fingerprints() -> None:
    setup = server_tls("127.0.0.1", NOW)
    assert hashlib.sha256(handshake(setup.context)).hexdigest() == setup.certificate_sha256


def test_given_files_are_used_and_fingerprinted(tmp_path: Path) -> None:
    certificate_pem, key_pem = self_signed("127.0.0.1", NOW)
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_bytes(certificate_pem)
    key.write_bytes(key_pem)
    setup = server_tls("127.0.0.1", NOW, cert, key)
    assert setup.certificate_sha256 == fingerprint(certificate_pem)
    combined = tmp_path / "both.pem"
    combined.write_bytes(certificate_pem + key_pem)
    assert server_tls("127.0.0.1", NOW, combined).certificate_sha256 == fingerprint(certificate_pem)


@pytest.mark.parametrize("problem", ["missing", "not a certificate", "another key"])
def test_unusable_files_are_a_value_error_naming_them(tmp_path: Path, problem: str) -> None:
    certificate_pem, _ = self_signed("127.0.0.1", NOW)
    _, other_key = self_signed("127.0.0.1", NOW)
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    if problem != "missing":
        cert.write_bytes(b"garbage" if problem == "not a certificate" else certificate_pem)
        key.write_bytes(other_key)
    with pytest.raises(ValueError, match=r"cert\.pem"):
        server_tls("127.0.0.1", NOW, cert, key)


def test_an_ipv6_host_is_named_as_an_address() -> None:
    certificate_pem, _ = self_signed("::1", NOW)
    assert str(ipaddress.ip_address("::1")) in names(certificate_pem)
