"""What the interop tests ask the reference device for: one size, one rate, their URLs.

Strategy: every client reads the same thing (a 320x240 snapshot, and a stream of them at
5 fps), so that a test's expected frame size and rate are written once. 320x240 is in
every profile's caps and small enough to decode quickly; 5 fps is within every profile's
sustainable rate.
"""

from __future__ import annotations

from dataclasses import dataclass

SNAPSHOT_PATH = "/api/camera/snapshot"


@dataclass(frozen=True, slots=True)
class DeviceTarget:
    """A running device and the size and rate the tests ask it for."""

    base_url: str
    width: int = 320
    height: int = 240
    fps: int = 5

    @property
    def snapshot_url(self) -> str:
        """One JPEG of the target size."""
        return f"{self.base_url}{SNAPSHOT_PATH}?width={self.width}&height={self.height}"

    @property
    def stream_url(self) -> str:
        """An endless MJPEG stream of the target size at the target rate."""
        return f"{self.snapshot_url}&fps={self.fps}"
