"""``python -m reference_device``: serve the reference device until SIGINT or SIGTERM.

Strategy: the first line on stdout is ``listening on http://HOST:PORT`` (flushed), so a
script or a test can start the device on port 0 and read where it listens; everything
else (logs) goes to stderr. A usage problem (a bad option, a bad profile, an address
that cannot be bound) is one line on stderr and exit status 2; a signal ends the device
cleanly with exit status 0.

What never belongs here: anything the in-process runner would also need (server.py).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from typing import NoReturn
from urllib.parse import urlsplit

from reference_device.profile import ProfileError, load_profile, profile_names
from reference_device.server import Device, DeviceOptions, ListenError, OptionsError, serve

PROG = "reference_device"
USAGE_ERROR = 2


class _OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is a single line on stderr (still exit status 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message}\n")


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {text!r} (expected 0..65535)")
    return int(text)


def _http_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"invalid URL {text!r} (expected http://HOST/...)")
    return text


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m reference_device``."""
    parser = _OneLineParser(prog=PROG, description="Serve the bundled reference intercom.")
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the device; return the process's exit status."""
    args = build_parser().parse_args(argv)
    try:
        options = DeviceOptions(
            host=args.host,
            port=args.port,
            profile=load_profile(args.profile),
            preroll=args.preroll,
            external_url=args.external_url,
        )
    except ProfileError as exc:
        return _usage_error(f"bad profile: {exc}")
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    try:
        asyncio.run(_serve_until_signalled(options))
    except (ListenError, OptionsError) as exc:
        return _usage_error(str(exc))
    return 0


def _usage_error(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr, flush=True)
    return USAGE_ERROR


async def _serve_until_signalled(options: DeviceOptions) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await serve(options, _announce, stop)


def _announce(url: str, device: Device) -> None:
    print(f"listening on {url}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
