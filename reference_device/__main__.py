"""``python -m reference_device``: serve the reference device until SIGINT or SIGTERM.

Strategy: the first line on stdout is ``listening on http://HOST:PORT`` (or
``https://...`` with ``--https``), flushed, so a script or a test can start the device on
port 0 and read where it listens. With HTTPS two more lines follow: ``plain http on
http://HOST:PORT (...)`` (the plain-HTTP listener beside it, and whether it serves the
Camera API or answers error 7) and ``certificate sha256 HEX`` (the fingerprint of the
certificate it presents). Everything else (logs) goes to stderr. A usage problem (a bad
option, a bad profile, contradictory access options, an unusable certificate, an
address that cannot be bound) is one line on stderr and exit status 2; a signal ends the
device cleanly with exit status 0. ``--list-faults [text|json|markdown]`` prints the
fault zoo (faults.py) instead and exits 0. The flags themselves live in ``command_line.py``.

What never belongs here: anything the in-process runner would also need (server.py).
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import signal
import sys
from collections.abc import Sequence

from reference_device.command_line import PROG, device_options, fault_listing
from reference_device.profile import ProfileError
from reference_device.server import Device, DeviceOptions, ListenError, OptionsError, serve

USAGE_ERROR = 2
# glibc's mallopt parameter M_MMAP_THRESHOLD (malloc.h), and glibc's own initial value.
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD_BYTES = 128 * 1024

logger = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the device; return the process's exit status."""
    arguments = sys.argv[1:] if argv is None else argv
    try:
        listing = fault_listing(arguments)
        if listing is not None:
            print(listing, flush=True)
            return 0
        options = device_options(arguments)
    except ValueError as exc:  # ArgumentsError, ProfileError, OptionsError
        return _usage_error(_usage_text(exc))
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    keep_pictures_out_of_the_heap()
    try:
        asyncio.run(_serve_until_signalled(options))
    except (ListenError, OptionsError) as exc:
        return _usage_error(str(exc))
    return 0


def keep_pictures_out_of_the_heap() -> bool:
    """Have glibc mmap every picture buffer and unmap it when freed; False if it cannot.

    glibc raises its mmap threshold each time a large block is freed; from then on the
    device's picture buffers (megabytes each, made and freed many times a second in several
    threads) come from its heaps and stay resident once freed: 60-80 MB more under clients,
    and never flat (benchmarks/memory.py). Fixing the threshold keeps them out of the heaps.
    Only the device's own process does this: an in-process device leaves its host alone.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError) as exc:
        logger.info("no mallopt in this C library (%s): picture buffers may stay resident", exc)
        return False
    done = bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES))
    if not done:
        logger.info("the C library refused a fixed mmap threshold")
    return done


def _usage_text(error: ValueError) -> str:
    return f"bad profile: {error}" if isinstance(error, ProfileError) else str(error)


def _usage_error(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr, flush=True)
    return USAGE_ERROR


async def _serve_until_signalled(options: DeviceOptions) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await serve(options, _announce, stop)


def announcement(url: str, device: Device) -> list[str]:
    """The lines printed once listening: where, and with HTTPS the plain side and certificate."""
    lines = [f"listening on {url}"]
    endpoints = device.endpoints
    if endpoints is not None and endpoints.plain_url is not None:
        plain = "error 7: HTTPS only" if device.access.https_only else "HTTP and HTTPS accepted"
        lines.append(f"plain http on {endpoints.plain_url} ({plain})")
    if endpoints is not None and endpoints.certificate_sha256 is not None:
        lines.append(f"certificate sha256 {endpoints.certificate_sha256}")
    return lines


def _announce(url: str, device: Device) -> None:
    print("\n".join(announcement(url, device)), flush=True)


if __name__ == "__main__":
    sys.exit(main())
