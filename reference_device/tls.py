"""TLS for the reference device: a server context from given PEM files, or self-signed.

Strategy: ``server_tls`` returns the ``ssl.SSLContext`` to listen with and the SHA-256
fingerprint of the certificate it presents (printed at start, so that it can be compared
with the fingerprint a client recorded). Without ``--cert``, a fresh self-signed
certificate (ECDSA P-256, valid for a year from the injected wall time, for ``localhost``,
``127.0.0.1`` and the listening host) is generated with ``cryptography``, as intercoms
ship self-signed certificates; the key never touches the disk for longer than loading it
takes. A file that cannot be read as a certificate or key is a ``ValueError`` naming it.

What never belongs here: listening, HTTP, or anything about access rules (access.py).
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SELF_SIGNED_DAYS = 365
COMMON_NAME = "snapcheck reference intercom"


@dataclass(frozen=True, slots=True)
class ServerTls:
    """A server TLS context and the SHA-256 fingerprint (hex) of its certificate."""

    context: ssl.SSLContext
    certificate_sha256: str


def _names(host: str) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    ]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        names.append(x509.DNSName(host))
    else:
        if address != ipaddress.ip_address("127.0.0.1"):
            names.append(x509.IPAddress(address))
    return names


def self_signed(host: str, now: float) -> tuple[bytes, bytes]:
    """A self-signed certificate and its private key, both PEM, for ``host``."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, COMMON_NAME)])
    start = datetime.datetime.fromtimestamp(now, datetime.UTC) - datetime.timedelta(minutes=5)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=SELF_SIGNED_DAYS))
        .add_extension(x509.SubjectAlternativeName(_names(host)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


def fingerprint(certificate_pem: bytes) -> str:
    """The SHA-256 of the (first) certificate's DER encoding, in hex (ValueError if not PEM)."""
    certificate = x509.load_pem_x509_certificate(certificate_pem)
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


def _context(cert_file: Path, key_file: Path | None) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context


def server_tls(
    host: str, now: float, cert: Path | None = None, key: Path | None = None
) -> ServerTls:
    """The TLS setup to listen with: from ``cert`` (and ``key``), else self-signed."""
    if cert is None:
        certificate_pem, key_pem = self_signed(host, now)
        with tempfile.TemporaryDirectory(prefix="reference-device-tls-") as folder:
            cert_file, key_file = Path(folder, "cert.pem"), Path(folder, "key.pem")
            cert_file.write_bytes(certificate_pem)
            key_file.touch(mode=0o600)
            key_file.write_bytes(key_pem)
            return ServerTls(_context(cert_file, key_file), fingerprint(certificate_pem))
    try:
        certificate_pem = cert.read_bytes()
        context = _context(cert, key)
        return ServerTls(context, fingerprint(certificate_pem))
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        files = f"{cert}" + (f" and {key}" if key is not None else "")
        raise ValueError(f"cannot use {files} for TLS: {exc}") from exc
