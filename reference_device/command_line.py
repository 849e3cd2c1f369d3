"""The reference device's command line, turned into ``DeviceOptions``.

Strategy: one parser serves ``python -m reference_device`` and anyone who wants to start
the device in-process with the same flags (the snapcheck plugin's ``--reference-args``),
so a flag means the same everywhere. ``device_options`` never exits: a bad flag is
``ArgumentsError``, a bad profile ``ProfileError``, contradictory options ``OptionsError``
(all ``ValueError``); ``__main__`` turns each into one line on stderr and exit status 2.

What never belongs here: starting or serving the device (server.py, runner.py).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

from reference_device.access import (
    ACCESS_FAULTS,
    DEFAULT_NONCE_LIFETIME_S,
    MAX_ACCOUNTS,
    NOCAMERA,
    Account,
    Authentication,
)
from reference_device.faults import LISTING_FORMATS, fault_names, render_listing
from reference_device.profile import load_profile, profile_names
from reference_device.server import DeviceOptions

PROG = "reference_device"
SWITCH = {"on": True, "off": False}


class ArgumentsError(ValueError):
    """The command line cannot be parsed (an unknown flag, a bad value)."""


class _RaisingParser(argparse.ArgumentParser):
    """argparse, but a usage error raises ArgumentsError instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise ArgumentsError(message)


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {text!r} (expected 0..65535)")
    return int(text)


def _http_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"invalid URL {text!r} (expected http://HOST/...)")
    return text


def _stream_count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"invalid number of streams {text!r} (expected >= 1)")
    return int(text)


def _account(text: str) -> Account:
    try:
        return Account.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number of seconds {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"invalid number of seconds {text!r} (expected > 0)")
    return value


def _add_access_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("access to the Camera service")
    group.add_argument(
        "--auth",
        choices=[a.value for a in Authentication],
        default=Authentication.NONE.value,
        help="authentication of the Camera API (default none; digest offers SHA-256 and MD5)",
    )
    group.add_argument(
        "--user",
        type=_account,
        action="append",
        default=[],
        metavar="NAME:PASSWORD",
        help=f"an API account (repeatable, at most {MAX_ACCOUNTS}); NAME:PASSWORD:{NOCAMERA}"
        " for one without the Camera Monitoring privilege",
    )
    group.add_argument(
        "--https",
        action="store_true",
        help="serve HTTPS (plain HTTP stays open on --plain-port: HTTP and HTTPS accepted)",
    )
    group.add_argument("--cert", type=Path, help="PEM certificate (default: self-signed)")
    group.add_argument("--key", type=Path, help="PEM private key of --cert")
    group.add_argument(
        "--https-only",
        action="store_true",
        help="implies --https; plain HTTP answers the Camera API with error 7",
    )
    group.add_argument(
        "--plain-port", type=_port, default=0, help="plain HTTP port beside HTTPS (0: any)"
    )
    group.add_argument(
        "--camera-api",
        choices=sorted(SWITCH),
        default="on",
        help="off: the Camera service is disabled (error 4; /api/system/info stays open)",
    )
    group.add_argument(
        "--nonce-lifetime",
        type=_seconds,
        default=DEFAULT_NONCE_LIFETIME_S,
        metavar="SECONDS",
        help=f"how long a Digest nonce is accepted (default {DEFAULT_NONCE_LIFETIME_S:g})",
    )
    group.add_argument(
        "--access-fault",
        dest="fault",
        choices=sorted(ACCESS_FAULTS),
        action="append",
        default=[],
        help="an access fault: the same as --fault (repeatable)",
    )


def _add_fault_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("deliberate faults (to see what the suite reports)")
    group.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME[,NAME]",
        help="switch on deliberate defects (repeatable; see --list-faults)",
    )
    group.add_argument(
        "--list-faults",
        nargs="?",
        const="text",
        choices=LISTING_FORMATS,
        help="print every fault with the clauses it breaks (text, json or markdown) and exit",
    )


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m reference_device`` (usage errors raise)."""
    parser = _RaisingParser(prog=PROG, description="Serve the bundled reference intercom.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=_port, default=0, help="port (0: chosen by the OS)")
    parser.add_argument(
        "--profile",
        default="default",
        help=f"device model: {', '.join(profile_names())}, or a .toml file",
    )
    parser.add_argument(
        "--preroll", action="store_true", help="fill the 30 s history before listening"
    )
    parser.add_argument(
        "--external-url", type=_http_url, help="pull the external source from this URL"
    )
    parser.add_argument(
        "--max-streams",
        type=_stream_count,
        metavar="N",
        help="serve at most N streams at once; beyond, error 18 (default: the profile's"
        " max_streams, else no limit)",
    )
    _add_access_arguments(parser)
    _add_fault_arguments(parser)
    return parser


def fault_listing(argv: Sequence[str]) -> str | None:
    """The fault table when the command line asks for it (--list-faults), else None."""
    args = build_parser().parse_args(list(argv))
    return None if args.list_faults is None else render_listing(args.list_faults)


def device_options(argv: Sequence[str]) -> DeviceOptions:
    """The options a command line asks for (ArgumentsError, ProfileError, OptionsError)."""
    args = build_parser().parse_args(list(argv))
    return DeviceOptions(
        host=args.host,
        port=args.port,
        profile=load_profile(args.profile),
        preroll=args.preroll,
        external_url=args.external_url,
        auth=Authentication(args.auth),
        users=tuple(args.user),
        https=args.https,
        cert=args.cert,
        key=args.key,
        https_only=args.https_only,
        plain_port=args.plain_port,
        camera_api=SWITCH[args.camera_api],
        nonce_lifetime_s=args.nonce_lifetime,
        faults=fault_names(args.fault),
        max_streams=args.max_streams,
    )
