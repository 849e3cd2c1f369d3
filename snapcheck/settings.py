"""The effective settings of a conformance run, from the command line, environment and ini.

Strategy: one frozen ``Settings`` value is resolved once per run, in this order of
precedence: command-line option, environment variable, ini value, default. Resolution
is a pure function of those three mappings, so it is tested without pytest. Nothing
here opens a socket or knows about pytest.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from snapcheck.verdicts import UsageError

AUTH_METHODS = ("none", "basic", "digest", "auto")
# A bundled device's account in --reference-args: the password is masked in reports.
_ACCOUNT_FLAG = re.compile(r"(--user(?:=|\s+)['\"]?[^:\s]+:)\S+")
GENTLE_RATE_LIMIT_PER_S = 5.0
_CLAUSE_PATTERN = re.compile(r"^[A-Z][A-Z0-9-]*\*?$")


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything that shapes a run; credentials are kept but never rendered."""

    device: str | None = None
    user: str | None = None
    password: str | None = None
    auth_method: str = "auto"
    unprivileged_user: str | None = None
    unprivileged_password: str | None = None
    reference_profile: str = "default"
    reference_args: str = ""
    plain_url: str | None = None
    strict: bool = False
    rate_limit: float | None = None
    request_timeout: float = 10.0
    stream_seconds: float = 3.0
    clauses: tuple[str, ...] = ()
    report_dir: Path = Path("reports")

    @property
    def bundled(self) -> bool:
        """True when the run targets the bundled reference device."""
        return self.device is None

    @property
    def effective_rate_limit(self) -> float | None:
        """Requests per second: gentle against a real device, unlimited against the bundled one."""
        if self.rate_limit is not None:
            return None if self.rate_limit == 0 else self.rate_limit
        return None if self.bundled else GENTLE_RATE_LIMIT_PER_S

    def describe(self) -> dict[str, str]:
        """The settings as text for report headers, with credentials masked."""
        shown: dict[str, str] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name in ("password", "unprivileged_password"):
                value = "****" if value else "(none)"
            elif item.name == "clauses":
                value = ",".join(value) if value else "(all)"
            elif item.name == "reference_args":
                value = _ACCOUNT_FLAG.sub(r"\1****", value) or "(none)"
            elif item.name == "device":
                value = value or "bundled reference device"
            elif item.name == "rate_limit":
                limit = self.effective_rate_limit
                value = "unlimited" if limit is None else f"{limit:g}/s"
            shown[item.name] = str(value)
        return shown

    def selects(self, clause_ids: tuple[str, ...]) -> bool:
        """Whether a test citing these clauses is selected by the clause filter."""
        if not self.clauses:
            return True
        return any(_matches(pattern, clause) for pattern in self.clauses for clause in clause_ids)


def _matches(pattern: str, clause: str) -> bool:
    if pattern.endswith("*"):
        return clause.startswith(pattern[:-1])
    return clause == pattern


def _device(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--device must be an http:// or https:// URL, got {text!r}")
    if parts.query or parts.fragment or parts.path not in ("", "/"):
        raise UsageError(
            f"--device takes the device's base URL only (no path or query), got {text!r}"
        )
    if parts.username is not None or parts.password is not None:
        # Said at once, before any report could carry the URL (AUTH-URL-1's decision).
        raise UsageError("--device must not carry credentials: give --user and --password")
    return f"{parts.scheme}://{parts.netloc}"


def _plain_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme != "http" or not parts.hostname or parts.path not in ("", "/"):
        raise UsageError(f"--plain-url must be a plain http://HOST[:PORT] base URL, got {text!r}")
    if parts.query or parts.fragment or parts.username is not None:
        raise UsageError(f"--plain-url takes no query, fragment or credentials, got {text!r}")
    return f"http://{parts.netloc}"


def _positive(name: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise UsageError(f"{name} must be a number, got {text!r}") from None
        if not math.isfinite(value) or value <= 0:
            raise UsageError(f"{name} must be a positive number, got {text!r}")
        return value

    return parse


def _rate_limit(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UsageError(
            f"--rate-limit must be a number of requests per second, got {text!r}"
        ) from None
    if not math.isfinite(value) or value < 0:
        raise UsageError(f"--rate-limit must be 0 (unlimited) or positive, got {text!r}")
    return value


def _auth_method(text: str) -> str:
    if text not in AUTH_METHODS:
        raise UsageError(f"--auth-method must be one of {', '.join(AUTH_METHODS)}, got {text!r}")
    return text


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise UsageError(f"--strict takes a yes/no value, got {text!r}")


def _clauses(text: str) -> tuple[str, ...]:
    items = tuple(item.strip() for item in text.split(",") if item.strip())
    for item in items:
        if not _CLAUSE_PATTERN.match(item):
            raise UsageError(f"--clauses takes clause IDs or prefixes like STREAM-*, got {item!r}")
    return items


def _text(text: str) -> str:
    return text


@dataclass(frozen=True, slots=True)
class Option:
    """One setting: its field, command-line flag, environment variable, ini key and parser."""

    field: str
    flag: str
    env: str
    ini: str
    parse: Callable[[str], Any]
    help: str


OPTIONS: tuple[Option, ...] = (
    Option("device", "--device", "SNAPCHECK_DEVICE", "snapcheck_device", _device,
           "base URL of the device under test (default: start the bundled reference device)"),
    Option("user", "--user", "SNAPCHECK_USER", "snapcheck_user", _text, "API user name"),
    Option("password", "--password", "SNAPCHECK_PASSWORD", "snapcheck_password", _text,
           "API password (prefer the environment variable; never printed)"),
    Option("auth_method", "--auth-method", "SNAPCHECK_AUTH_METHOD", "snapcheck_auth_method",
           _auth_method, "none, basic, digest or auto (read the device's challenge)"),
    Option("unprivileged_user", "--unprivileged-user", "SNAPCHECK_UNPRIVILEGED_USER",
           "snapcheck_unprivileged_user", _text, "an account without Camera Monitoring"),
    Option("unprivileged_password", "--unprivileged-password",
           "SNAPCHECK_UNPRIVILEGED_PASSWORD", "snapcheck_unprivileged_password", _text,
           "that account's password"),
    Option("reference_profile", "--reference-profile", "SNAPCHECK_REFERENCE_PROFILE",
           "snapcheck_reference_profile", _text,
           "profile of the bundled reference device (name or TOML path)"),
    Option("reference_args", "--reference-args", "SNAPCHECK_REFERENCE_ARGS",
           "snapcheck_reference_args", _text,
           "flags for the bundled reference device, as for python -m reference_device"
           " (e.g. '--auth digest --user admin:secret --https-only'; see docs/access.md)"),
    Option("plain_url", "--plain-url", "SNAPCHECK_PLAIN_URL", "snapcheck_plain_url", _plain_url,
           "the device's plain http:// address when --device is https:// (judges AUTH-HTTPS-1"
           " and AUTH-HTTPS-2; known by itself for the bundled device)"),
    Option("strict", "--strict", "SNAPCHECK_STRICT", "snapcheck_strict", _bool,
           "NON-STRICT findings fail the run too"),
    Option("rate_limit", "--rate-limit", "SNAPCHECK_RATE_LIMIT", "snapcheck_rate_limit",
           _rate_limit, "requests per second (default: 5 against --device, unlimited bundled;"
           " 0 = unlimited)"),
    Option("request_timeout", "--request-timeout", "SNAPCHECK_REQUEST_TIMEOUT",
           "snapcheck_request_timeout", _positive("--request-timeout"),
           "seconds allowed for one request (default 10)"),
    Option("stream_seconds", "--stream-seconds", "SNAPCHECK_STREAM_SECONDS",
           "snapcheck_stream_seconds", _positive("--stream-seconds"),
           "seconds each MJPEG stream is read (default 3)"),
    Option("clauses", "--clauses", "SNAPCHECK_CLAUSES", "snapcheck_clauses", _clauses,
           "run only tests citing these clause IDs or prefixes"
           " (comma-separated, e.g. STREAM-*,TIME-AGE-1)"),
    Option("report_dir", "--report-dir", "SNAPCHECK_REPORT_DIR", "snapcheck_report_dir", Path,
           "where each run's report folder is written (default reports/)"),
)


def resolve_settings(
    cli: Mapping[str, object | None],
    env: Mapping[str, str],
    ini: Mapping[str, str | None],
) -> Settings:
    """Resolve the effective settings: command line, then environment, then ini, then default."""
    values: dict[str, Any] = {}
    for option in OPTIONS:
        given = cli.get(option.field)
        if given is True or (given is not None and not isinstance(given, (str, bool))):
            values[option.field] = given
            continue
        raw = given if isinstance(given, str) else (env.get(option.env) or ini.get(option.ini))
        if raw is not None and raw != "":
            values[option.field] = option.parse(raw)
    settings = Settings(**values)
    if settings.password and not settings.user:
        raise UsageError("a password was given without --user")
    if settings.user and settings.auth_method == "none":
        raise UsageError("--user was given but --auth-method is none")
    if settings.reference_args and not settings.bundled:
        raise UsageError("--reference-args configures the bundled device; --device was given")
    if settings.plain_url and settings.device and not settings.device.startswith("https://"):
        raise UsageError("--plain-url is the plain address of a device tested over https://")
    return settings
