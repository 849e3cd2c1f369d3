"""Tests of reference_device.scene: a moving picture whose time code survives every size."""

from __future__ import annotations

import io
import re

import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops

from reference_device.capture import encode_jpeg, fit_inside
from reference_device.encoder import scale_to
from reference_device.profile import load_profile, profile_names
from reference_device.scene import (
    render_frame,
    timecode_box,
    timecode_image,
    timecode_payload,
)

T0 = 1_764_036_000.123
PAYLOAD = re.compile(r"SC1:[A-Z0-9]+:\d+:\d+")


def read_codes(image: Image.Image) -> list[str]:
    """Every QR text zxing-cpp finds in an image."""
    return [code.text for code in zxingcpp.read_barcodes(image)]


def after_jpeg(image: Image.Image, quality: int) -> Image.Image:
    """The image as a client sees it after a JPEG round trip at ``quality``."""
    return Image.open(io.BytesIO(encode_jpeg(image, quality)))


def test_payload_follows_the_documented_format() -> None:
    assert timecode_payload("internal", 451, T0) == "SC1:INTERNAL:451:1764036000123"
    assert PAYLOAD.fullmatch(timecode_payload("external", 0, 0.0))


@pytest.mark.parametrize(
    ("source", "seq", "captured_at"),
    [("Internal", 0, T0), ("in-ternal", 0, T0), ("internal", -1, T0), ("internal", 0, -1.0)],
)
def test_payload_refuses_what_the_format_cannot_carry(
    source: str, seq: int, captured_at: float
) -> None:
    with pytest.raises(ValueError):
        timecode_payload(source, seq, captured_at)


@pytest.mark.parametrize("size", [(1920, 1080), (1280, 960), (640, 480), (160, 120)])
def test_the_code_is_a_centred_square_of_half_the_height_with_nothing_over_it(
    size: tuple[int, int],
) -> None:
    frame = render_frame("internal", 7, T0, size)
    left, top, right, bottom = timecode_box(*size)
    assert right - left == bottom - top == size[1] // 2
    assert abs((left + right) - size[0]) <= 1 and abs((top + bottom) - size[1]) <= 1
    expected = timecode_image(timecode_payload("internal", 7, T0), size[1] // 2).convert("RGB")
    assert ImageChops.difference(frame.crop((left, top, right, bottom)), expected).getbbox() is None


def test_the_code_is_level_m_alphanumeric() -> None:
    [code] = zxingcpp.read_barcodes(timecode_image("SC1:INTERNAL:451:1764036000123", 400))
    assert code.text == "SC1:INTERNAL:451:1764036000123"
    assert code.format == zxingcpp.BarcodeFormat.QRCode
    assert code.ec_level == "M"


@pytest.mark.parametrize("fps", [15, 10, 2])
def test_consecutive_frames_differ_visibly_outside_the_code(fps: int) -> None:
    size = (1280, 720)
    first = render_frame("internal", 100, T0, size)
    second = render_frame("internal", 101, T0 + 1 / fps, size)
    difference = ImageChops.difference(first, second).convert("L").point(lambda v: v > 40 and 255)
    # Blank the code's square: the moving content alone must make a visible difference.
    difference.paste(0, timecode_box(*size))
    changed = sum(difference.histogram()[255:])
    assert changed > 0.01 * size[0] * size[1]


def test_a_frame_is_a_pure_function_of_its_identity() -> None:
    first = render_frame("external", 5, T0, (640, 360))
    again = render_frame("external", 5, T0, (640, 360))
    assert ImageChops.difference(first, again).getbbox() is None


def test_sources_look_different() -> None:
    internal = render_frame("internal", 5, T0, (640, 360))
    external = render_frame("external", 5, T0, (640, 360))
    assert internal.getpixel((5, 100)) != external.getpixel((5, 100))


def test_frames_smaller_than_16_pixels_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 16x16"):
        render_frame("internal", 0, T0, (15, 120))


def shipped_cases() -> list[tuple[str, str, tuple[int, int]]]:
    """Every (profile, source, advertised size) the reference device can be asked for."""
    cases = []
    for name in profile_names():
        profile = load_profile(name)
        for mode in profile.sources:
            cases += [(name, mode.name, size) for size in profile.resolutions]
    return cases


@pytest.mark.parametrize(("profile", "source", "size"), shipped_cases())
def test_the_code_decodes_at_every_advertised_size_at_quality_50(
    profile: str, source: str, size: tuple[int, int]
) -> None:
    mode = load_profile(profile).source(source)
    payload = timecode_payload(source, 123_456, T0)
    # The path of a snapshot: rendered at master size, stored as JPEG, scaled, sent.
    master = after_jpeg(
        render_frame(source, 123_456, T0, fit_inside((mode.width, mode.height))), 85
    )
    assert read_codes(after_jpeg(scale_to(master, size), 50)) == [payload]
    # The path of a live size above the master: rendered at native size, scaled, sent.
    native = render_frame(source, 123_456, T0, (mode.width, mode.height))
    assert read_codes(after_jpeg(scale_to(native, size), 50)) == [payload]


@settings(max_examples=25, deadline=None)
@given(
    seq=st.integers(min_value=0, max_value=10**9),
    captured_at=st.floats(min_value=0, max_value=4e9),
    source=st.sampled_from(["internal", "external"]),
)
def test_any_time_code_decodes_at_the_smallest_size(
    seq: int, captured_at: float, source: str
) -> None:
    master = after_jpeg(render_frame(source, seq, captured_at, (1280, 720)), 85)
    small = after_jpeg(scale_to(master, (160, 120)), 50)
    assert read_codes(small) == [timecode_payload(source, seq, captured_at)]
