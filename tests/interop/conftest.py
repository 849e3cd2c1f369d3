"""Fixtures of the interop tests: the reference device that real clients read.

Override ``reference_device_url`` in a module to point that module's clients elsewhere.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from device_target import DeviceTarget

from reference_device import running_reference_device

# The headless Chromium driver of tests/integration (devtools_pipe.py builds on it).
INTEGRATION = Path(__file__).resolve().parents[1] / "integration"
if str(INTEGRATION) not in sys.path:
    sys.path.append(str(INTEGRATION))


@pytest.fixture(scope="session")
def reference_device_url() -> Iterator[str]:
    """The bundled reference device (default profile, no access control), shared by all."""
    with running_reference_device() as url:
        yield url


@pytest.fixture
def target(reference_device_url: str) -> DeviceTarget:
    """The device with the size and rate every interop client asks for."""
    return DeviceTarget(reference_device_url)
