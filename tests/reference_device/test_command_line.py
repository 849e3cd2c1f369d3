"""The device's command line: each access flag becomes its option, each mistake an error."""

from __future__ import annotations

from pathlib import Path

import pytest

from reference_device.access import AccessFault, Account, Authentication
from reference_device.command_line import ArgumentsError, device_options
from reference_device.profile import ProfileError
from reference_device.server import DeviceOptions, OptionsError


@pytest.mark.parametrize(
    ("argv", "field", "value"),
    [
        ([], "auth", Authentication.NONE),
        (["--auth", "digest", "--user", "a:b"], "auth", Authentication.DIGEST),
        (
            ["--auth", "basic", "--user", "a:b", "--user", "c:d:nocamera"],
            "users",
            (Account("a", "b"), Account("c", "d", camera=False)),
        ),
        (["--https"], "https", True),
        (["--https-only"], "https", True),
        (["--https-only"], "https_only", True),
        (["--https", "--plain-port", "8080"], "plain_port", 8080),
        (["--camera-api", "off"], "camera_api", False),
        (["--camera-api", "on"], "camera_api", True),
        (["--nonce-lifetime", "2.5"], "nonce_lifetime_s", 2.5),
        (
            ["--access-fault", "privilege-ignored", "--access-fault", "basic-on-digest"],
            "faults",
            frozenset({AccessFault.PRIVILEGE_IGNORED, AccessFault.BASIC_ON_DIGEST}),
        ),
        (["--https", "--cert", "c.pem", "--key", "k.pem"], "cert", Path("c.pem")),
        (["--preroll", "--profile", "minimal"], "preroll", True),
        ([], "max_streams", None),
        (["--max-streams", "3"], "max_streams", 3),
    ],
)
def test_each_flag_sets_its_option(argv: list[str], field: str, value: object) -> None:
    options = device_options(argv)
    assert isinstance(options, DeviceOptions)
    assert getattr(options, field) == value


@pytest.mark.parametrize(
    ("argv", "error", "names"),
    [
        (["--auth", "kerberos"], ArgumentsError, "invalid choice: 'kerberos'"),
        (["--user", "nopassword"], ArgumentsError, "NAME:PASSWORD"),
        (["--camera-api", "maybe"], ArgumentsError, "invalid choice: 'maybe'"),
        (["--nonce-lifetime", "0"], ArgumentsError, "expected > 0"),
        (["--access-fault", "all"], ArgumentsError, "invalid choice: 'all'"),
        (["--plain-port", "99999"], ArgumentsError, "invalid port"),
        (["--max-streams", "0"], ArgumentsError, "invalid number of streams '0'"),
        (["--max-streams", "many"], ArgumentsError, "invalid number of streams 'many'"),
        (
            ["--auth", "digest", *[f"--user=u{i}:p" for i in range(6)]],
            OptionsError,
            "at most 5 user accounts, got 6",
        ),
        (["--auth", "basic"], OptionsError, "needs at least one user account"),
        (["--user", "a:b", "--user", "a:c"], OptionsError, "must differ"),
        (["--cert", "c.pem"], OptionsError, "--cert needs --https"),
        (["--https", "--key", "k.pem"], OptionsError, "--key needs --cert"),
        (["--profile", "no-such-model"], ProfileError, "no such profile"),
    ],
)
def test_each_mistake_is_a_value_error_naming_it(
    argv: list[str], error: type[ValueError], names: str
) -> None:
    with pytest.raises(error) as raised:
        device_options(argv)
    assert names in str(raised.value)
