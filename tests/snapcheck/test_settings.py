"""Settings resolve from the command line, the environment and ini, in that order."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from snapcheck.settings import Settings, resolve_settings
from snapcheck.verdicts import UsageError


def test_defaults_target_the_bundled_device_without_rate_limit() -> None:
    settings = resolve_settings({}, {}, {})
    assert settings == Settings()
    assert settings.bundled
    assert settings.effective_rate_limit is None


def test_a_real_device_gets_a_gentle_rate_limit_by_default() -> None:
    settings = resolve_settings({"device": "http://10.0.0.5"}, {}, {})
    assert settings.device == "http://10.0.0.5"
    assert settings.effective_rate_limit == 5.0


@pytest.mark.parametrize(
    ("cli", "env", "ini", "field", "expected"),
    [
        ({"request_timeout": "3"}, {"SNAPCHECK_REQUEST_TIMEOUT": "4"}, {}, "request_timeout", 3.0),
        ({}, {"SNAPCHECK_REQUEST_TIMEOUT": "4"}, {"snapcheck_request_timeout": "5"},
         "request_timeout", 4.0),
        ({}, {}, {"snapcheck_request_timeout": "5"}, "request_timeout", 5.0),
        ({"strict": True}, {}, {}, "strict", True),
        ({}, {"SNAPCHECK_STRICT": "yes"}, {}, "strict", True),
        ({}, {}, {"snapcheck_clauses": "STREAM-*, TIME-AGE-1"}, "clauses",
         ("STREAM-*", "TIME-AGE-1")),
        ({"report_dir": "out"}, {}, {}, "report_dir", Path("out")),
        ({"rate_limit": "0"}, {}, {}, "rate_limit", 0.0),
        ({"device": "https://lab-intercom:8443/"}, {}, {}, "device", "https://lab-intercom:8443"),
        ({"plain_url": "http://lab-intercom/"}, {}, {}, "plain_url", "http://lab-intercom"),
        ({}, {"SNAPCHECK_REFERENCE_ARGS": "--auth basic"}, {}, "reference_args", "--auth basic"),
    ],
)
def test_precedence_and_parsing(
    cli: dict[str, object], env: dict[str, str], ini: dict[str, str], field: str, expected: object
) -> None:
    assert getattr(resolve_settings(cli, env, ini), field) == expected


@pytest.mark.parametrize(
    ("cli", "message"),
    [
        ({"device": "10.0.0.5"}, "http:// or https:// URL"),
        ({"device": "http://10.0.0.5/api/camera/snapshot"}, "base URL only"),
        ({"request_timeout": "soon"}, "must be a number"),
        ({"stream_seconds": "-1"}, "positive"),
        ({"rate_limit": "-2"}, "0 (unlimited) or positive"),
        ({"auth_method": "ntlm"}, "none, basic, digest, auto"),
        ({"clauses": "stream"}, "clause IDs or prefixes"),
        ({"password": "secret"}, "without --user"),
        ({"user": "admin", "auth_method": "none"}, "--auth-method is none"),
        ({"device": "https://admin:s3cret@10.0.0.5"}, "must not carry credentials"),
        ({"plain_url": "https://10.0.0.5"}, "plain http://HOST[:PORT]"),
        ({"plain_url": "http://10.0.0.5/api"}, "plain http://HOST[:PORT]"),
        ({"plain_url": "http://a:b@10.0.0.5"}, "no query, fragment or credentials"),
        ({"device": "http://10.0.0.5", "plain_url": "http://10.0.0.5:81"}, "over https://"),
        ({"device": "http://10.0.0.5", "reference_args": "--auth digest"}, "bundled device"),
    ],
)
def test_bad_settings_are_usage_errors_naming_the_problem(
    cli: dict[str, object], message: str
) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        resolve_settings(cli, {}, {})


def test_credentials_are_masked_in_the_description() -> None:
    settings = resolve_settings({"user": "admin", "password": "s3cret", "auth_method": "digest"},
                                {}, {})
    described = settings.describe()
    assert "s3cret" not in str(described)
    assert described["password"] == "****"
    assert described["rate_limit"] == "unlimited"


@pytest.mark.parametrize(
    ("reference_args", "shown"),
    [
        ("--auth digest --user admin:s3cret", "--auth digest --user admin:****"),
        ("--user=viewer:s3cret:nocamera --https", "--user=viewer:**** --https"),
        ("", "(none)"),
    ],
)
def test_bundled_account_passwords_are_masked_in_the_description(
    reference_args: str, shown: str
) -> None:
    described = resolve_settings({"reference_args": reference_args}, {}, {}).describe()
    assert described["reference_args"] == shown


@pytest.mark.parametrize(
    ("patterns", "clauses", "selected"),
    [
        ((), ("JPEG-CT-1",), True),
        (("STREAM-*",), ("STREAM-RATE-1",), True),
        (("STREAM-*",), ("TIME-AGE-1",), False),
        (("TIME-AGE-1",), ("TIME-AGE-1", "JPEG-CT-1"), True),
        (("TIME-AGE-1",), ("TIME-AGE-10",), False),
    ],
)
def test_clause_selection(
    patterns: tuple[str, ...], clauses: tuple[str, ...], selected: bool
) -> None:
    assert Settings(clauses=patterns).selects(clauses) is selected
