"""The bundled reference device: an intercom that implements the camera snapshot API.

Start it in-process with ``running_reference_device()`` (a context manager that yields
its base URL) or from a shell with ``python -m reference_device``.
"""

from __future__ import annotations

from reference_device.access import AccessFault, Account, Authentication
from reference_device.runner import DeviceThread, running_reference_device
from reference_device.server import DeviceOptions

__all__ = [
    "AccessFault",
    "Account",
    "Authentication",
    "DeviceOptions",
    "DeviceThread",
    "running_reference_device",
]
