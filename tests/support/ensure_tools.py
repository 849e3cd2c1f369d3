"""Make sure the external programs the project's tests drive are installed.

Strategy: a table of program -> Debian package. Missing programs are installed with
apt-get (one `apt-get update` first) when this runs as root on a Debian-like system;
otherwise it prints exactly what to install and exits 1. It never downloads anything
but Debian packages, and does nothing when every program is already there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

# The program each test tier drives, and the Debian package that provides it.
TOOLS: dict[str, str] = {
    "chromium": "chromium",  # the report and the stream shown in a real browser
    "ffmpeg": "ffmpeg",  # ffmpeg/ffprobe read snapshots and MJPEG streams (interop)
    "ffprobe": "ffmpeg",
    "curl": "curl",  # the reproducing curl lines, and Basic/Digest interop
}
APT_TIMEOUT_S = 1200


def missing_packages() -> list[str]:
    """The Debian packages whose programs are not on PATH, in table order."""
    packages: list[str] = []
    for program, package in TOOLS.items():
        if shutil.which(program) is None and package not in packages:
            packages.append(package)
    return packages


def main() -> int:
    """Install what is missing (as root with apt-get), or say what to install."""
    packages = missing_packages()
    if not packages:
        return 0
    can_install = shutil.which("apt-get") is not None and os.geteuid() == 0
    if not can_install:
        print(
            "ensure_tools: the tests need these Debian packages: "
            + " ".join(packages)
            + "\n  install them with: sudo apt-get update && sudo apt-get install -y "
            + " ".join(packages),
            file=sys.stderr,
        )
        return 1
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print(f"ensure_tools: installing {' '.join(packages)} with apt-get", file=sys.stderr)
    for command in (
        ["apt-get", "update", "-q"],
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages],
    ):
        done = subprocess.run(command, env=env, timeout=APT_TIMEOUT_S, check=False)
        if done.returncode != 0:
            print(f"ensure_tools: {' '.join(command)} failed ({done.returncode})",
                  file=sys.stderr)
            return 1
    still = missing_packages()
    if still:
        print(f"ensure_tools: still missing after install: {' '.join(still)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
