"""What the reference device's pipeline costs: start-up with pre-roll, and per frame.

Run: ``.venv/bin/python benchmarks/reference_device_capture.py``. Prints wall-clock
figures for this machine; nothing here asserts a speed (timing belongs here, not in tests).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from reference_device.camera import Camera
from reference_device.capture import encode_jpeg, fit_inside
from reference_device.clock import ManualClock
from reference_device.profile import load_profile
from reference_device.scene import render_frame


def per_call_ms(action: Callable[[int], object], repeats: int) -> float:
    """The median wall time of ``action(i)`` in milliseconds."""
    samples = []
    for i in range(repeats):
        start = time.perf_counter()
        action(i)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    """Print the pre-roll time and the per-frame costs of the default profile."""
    profile = load_profile("default")
    camera = Camera(profile, ManualClock(), preroll=True)
    start = time.perf_counter()
    camera.start(threads=False)
    preroll_s = time.perf_counter() - start
    frames = sum(camera.captured(source) for source in camera.sources)
    print(f"start with pre-roll ({frames} frames, both sources): {preroll_s:.3f} s")

    start = time.perf_counter()
    for source in camera.sources:
        for offset in range(-30, 1):
            camera.at(source, offset).master  # noqa: B018 - materialises the deferred master
    print(f"first use of 62 pre-rolled masters: {time.perf_counter() - start:.3f} s")

    for mode in profile.sources:
        size = fit_inside((mode.width, mode.height))

        def capture(i: int, name: str = mode.name, master: tuple[int, int] = size) -> bytes:
            return encode_jpeg(render_frame(name, i, 1.0e9 + i, master))

        cost = per_call_ms(capture, 60)
        print(
            f"capture {mode.name} {mode.width}x{mode.height} (master {size[0]}x{size[1]}): "
            f"{cost:.1f} ms/frame, {cost * mode.fps / 10:.1f}% of a core at {mode.fps:g} fps"
        )
        eager = cost * (30 * mode.fps + 1) / 1000
        print(f"  an eager 30 s pre-roll of {mode.name} would take about {eager:.1f} s")

    latest = camera.latest("internal")
    # Sizes differ by a few rows so that every call is a real encode, not a cache hit.
    live = per_call_ms(lambda i: camera.jpeg(latest, 1920, 1080 - 2 * i), 10)
    small = per_call_ms(lambda i: camera.jpeg(latest, 160, 120 - 2 * i), 30)
    print(f"encode a live 1920x1080 from the raw picture: {live:.1f} ms")
    print(f"encode 160x120 from the master (draft mode): {small:.1f} ms")
    camera.stop()


if __name__ == "__main__":
    main()
