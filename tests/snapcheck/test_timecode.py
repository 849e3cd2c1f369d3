"""Tests of the time-code reader: the documented payload, strictly, from frames of every
advertised size; anything else is None, never an exception."""

from __future__ import annotations

import io

import pytest
import segno
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from synthetic import EPOCH_MS, jpeg_bytes, timecoded_jpeg

from snapcheck.timecode import TimeCode, parse_timecode, read_timecode


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SC1:INTERNAL:451:1764036000123", TimeCode("internal", 451, 1764036000123)),
        ("SC1:EXTERNAL:0:0", TimeCode("external", 0, 0)),
        ("SC1:CAM2:7:9", TimeCode("cam2", 7, 9)),
        ("SC1:internal:451:1764036000123", None),
        ("SC2:INTERNAL:451:1764036000123", None),
        ("SC1:INTERNAL:-1:1764036000123", None),
        ("SC1:INTERNAL:451", None),
        ("SC1:INTERNAL:451:1764036000123:extra", None),
        (" SC1:INTERNAL:451:1764036000123", None),
        ("SC1:INTERNAL:\u0664\u0665:1", None),
        ("SC1:INTERNAL:1:" + "9" * 20, None),
        ("", None),
    ],
)
def test_only_the_documented_payload_is_a_time_code(text: str, expected: TimeCode | None) -> None:
    assert parse_timecode(text) == expected


@pytest.mark.parametrize("size", [(160, 120), (640, 480), (1280, 960)])
def test_the_code_is_read_from_a_jpeg_at_every_size(size: tuple[int, int]) -> None:
    assert read_timecode(timecoded_jpeg(451, size)) == TimeCode(
        "internal", 451, EPOCH_MS + 451 * 200
    )


def test_a_decoded_image_is_read_as_well() -> None:
    image = Image.open(io.BytesIO(timecoded_jpeg(3, (320, 240), source="EXTERNAL")))
    assert read_timecode(image) == TimeCode("external", 3, EPOCH_MS + 600)


def code_image(*texts: str) -> bytes:
    """A frame holding one QR code per text, side by side."""
    frame = Image.new("L", (200 * len(texts), 200), 255)
    for i, text in enumerate(texts):
        png = io.BytesIO()
        segno.make(text, error="m", micro=False).save(png, kind="png", scale=5, border=4)
        frame.paste(Image.open(png).convert("L"), (200 * i, 10))
    out = io.BytesIO()
    frame.save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xff\xd8\xff",
        b"not an image",
        jpeg_bytes((160, 120)),
        code_image("https://example.com/not-a-time-code"),
        code_image("SC1:INTERNAL:1:100", "SC1:INTERNAL:2:300"),
    ],
    ids=["empty", "truncated", "garbage", "no code", "another code", "two different codes"],
)
def test_anything_else_is_none(data: bytes) -> None:
    assert read_timecode(data) is None


def test_two_copies_of_one_code_are_that_code() -> None:
    assert read_timecode(code_image("SC1:INTERNAL:1:100", "SC1:INTERNAL:1:100")) == TimeCode(
        "internal", 1, 100
    )


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=512))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    assert read_timecode(data) is None
