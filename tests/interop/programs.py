"""The external programs the interop tests drive: found on PATH, run with a deadline.

Strategy: an interop test proves that a real client reads what the reference device
serves, so a missing client is a failure of the test environment, never a skip:
``require_program`` fails the test with the Debian package to install (the same table
``tests/support/ensure_tools.py`` installs from). ``run_program`` runs one command with a
timeout and keeps what it printed; a command that hangs fails the test instead of
hanging the run.

What never belongs here: what a test asserts about a program's output.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest

ENSURE_TOOLS = Path(__file__).resolve().parents[1] / "support" / "ensure_tools.py"

# Long enough for a cold start of Chromium or ffmpeg on a busy two-core machine.
DEFAULT_TIMEOUT_S = 60.0


def debian_package(program: str) -> str:
    """The Debian package that provides ``program``, from ensure_tools.py's table."""
    # tests/support is no package: its table is read from the file, not imported by name.
    spec = importlib.util.spec_from_file_location("ensure_tools", ENSURE_TOOLS)
    if spec is None or spec.loader is None:
        raise ValueError(f"cannot load {ENSURE_TOOLS}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tools: dict[str, str] = module.TOOLS
    return tools.get(program, program)


def require_program(name: str) -> str:
    """The program's path; fails the test (with what to install) when it is missing."""
    found = shutil.which(name)
    if found is None:
        package = debian_package(name)
        pytest.fail(
            f"{name} is not installed: the interop tests need Debian's {package} package"
            f" (run `python tests/support/ensure_tools.py` as root, as .ci/run does, or"
            f" `apt-get install -y --no-install-recommends {package}`)",
            pytrace=False,
        )
    return found


def run_program(
    args: list[str],
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run a command to completion within ``timeout_s``; fails the test if it hangs."""
    try:
        return subprocess.run(
            args,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            env=env,
            capture_output=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        printed = (exc.stderr or b"")[-2000:].decode("utf-8", "replace")
        pytest.fail(f"{args[0]} did not finish within {timeout_s} s: {printed}", pytrace=False)


def stderr_tail(done: subprocess.CompletedProcess[bytes], limit: int = 2000) -> str:
    """The last ``limit`` characters a finished command wrote to stderr, for messages."""
    return done.stderr[-limit:].decode("utf-8", "replace")
