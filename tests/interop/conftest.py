"""Fixtures of the interop tests: the reference device that real clients read.

Override ``reference_device_url`` in a module to point that module's clients elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from device_target import DeviceTarget

from reference_device import running_reference_device


@pytest.fixture(scope="session")
def reference_device_url() -> Iterator[str]:
    """The bundled reference device (default profile, no access control), shared by all."""
    with running_reference_device() as url:
        yield url


@pytest.fixture
def target(reference_device_url: str) -> DeviceTarget:
    """The device with the size and rate every interop client asks for."""
    return DeviceTarget(reference_device_url)
