"""Tests of the JPEG marker walk and the guarded decode: well-formed images of every kind a
camera sends, and broken ones that must become errors, never exceptions or allocations."""

from __future__ import annotations

import tracemalloc
from io import BytesIO

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from synthetic import jpeg_bytes

from snapcheck.jpeg import EOI, MAX_SEGMENTS, SOI, decode_jpeg, open_image, walk_jpeg

BASELINE = jpeg_bytes((64, 48))


def with_frame_size(data: bytes, width: int, height: int) -> bytes:
    """The JPEG with its frame header declaring another size."""
    sof = data.index(b"\xff\xc0")
    return data[: sof + 5] + height.to_bytes(2, "big") + width.to_bytes(2, "big") + data[sof + 9 :]


@pytest.mark.parametrize(
    ("progressive", "pillow_subsampling", "kind", "subsampling"),
    [
        (False, -1, "baseline", "4:2:0"),
        (True, -1, "progressive", "4:2:0"),
        (False, 0, "baseline", "4:4:4"),
        (False, 1, "baseline", "4:2:2"),
    ],
)
def test_the_walk_reads_what_a_well_formed_jpeg_declares(
    progressive: bool, pillow_subsampling: int, kind: str, subsampling: str
) -> None:
    data = jpeg_bytes((320, 240), progressive=progressive, subsampling=pillow_subsampling)
    info = walk_jpeg(data)
    assert info.errors == ()
    assert (info.width, info.height, info.precision) == (320, 240, 8)
    assert (info.frame_kind, info.subsampling, len(info.components)) == (kind, subsampling, 3)
    assert info.has_soi and info.eoi_offset == len(data) - 2 and info.trailing == 0
    assert info.segments[0].marker == SOI and info.segments[-1].marker == EOI


def test_a_grayscale_jpeg_has_one_component() -> None:
    out = BytesIO()
    Image.new("L", (32, 16), 90).save(out, "JPEG")
    info = walk_jpeg(out.getvalue())
    assert (info.subsampling, len(info.components), info.errors) == ("grayscale", 1, ())


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", "no SOI marker: the body starts with nothing"),
        (b"GIF89a", "no SOI marker: the body starts with 47 49 46 38"),
        (b"\xff\xd8", "the data ends at byte 2"),
        (BASELINE[:-20], "runs to the end without an EOI"),
        (BASELINE[:30], "declares"),
        (b"\xff\xd8\xff\xe0\xff\xff" + b"\x00" * 10, "declares 65535 bytes, only 12 remain"),
        (b"\xff\xd8\xff\xe0\x00\x01", "impossible length 1"),
        (b"\xff\xd8\xff\xd8", "a second SOI marker"),
        (b"\xff\xd8\x00\x00", "expected a marker at byte 2"),
        (b"\xff\xd8\xff\xff\xff", "inside fill bytes"),
        (b"\xff\xd8\xff\xc0\x00\x04\x08\x00", "shorter than 6"),
        (b"\xff\xd8\xff\xc0\x00\x08\x08\x00\x10\x00\x10\x03\xff\xd9", "room for 0"),
    ],
    ids=["empty", "not a jpeg", "soi only", "truncated in the scan", "truncated in a segment",
         "segment length lies", "length below 2", "second soi", "no marker", "fill to the end",
         "short frame header", "components missing"],
)  # fmt: skip
def test_broken_bytes_become_errors(data: bytes, error: str) -> None:
    info = walk_jpeg(data)
    assert any(error in message for message in info.errors), info.errors


def test_bytes_after_eoi_are_counted_not_an_error() -> None:
    info = walk_jpeg(BASELINE + b"\r\n\x00garbage")
    assert info.errors == () and info.trailing == 10


def test_the_walk_lists_a_bounded_number_of_segments() -> None:
    comments = b"".join(b"\xff\xfe\x00\x03x" for _ in range(MAX_SEGMENTS + 50))
    info = walk_jpeg(b"\xff\xd8" + comments + b"\xff\xd9")
    assert len(info.segments) == MAX_SEGMENTS
    assert info.segment_count == MAX_SEGMENTS + 52 and info.eoi_offset is not None


def test_a_gigapixel_frame_header_is_refused_before_any_allocation() -> None:
    bomb = with_frame_size(BASELINE, 65_000, 65_000)
    info = walk_jpeg(bomb)
    assert (info.width, info.height) == (65_000, 65_000)
    tracemalloc.start()
    try:
        decoded = decode_jpeg(bomb, info)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert decoded.image is None
    assert (
        decoded.error is not None
        and "65000x65000" in decoded.error
        and "not decoded" in decoded.error
    )
    assert peak < 1_000_000


def test_pillows_own_bomb_guard_is_reported_when_our_budget_is_larger() -> None:
    decoded = decode_jpeg(with_frame_size(BASELINE, 65_000, 65_000), max_pixels=10**12)
    assert decoded.image is None and decoded.error is not None
    assert "decompression bomb" in decoded.error


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (BASELINE[:-200], "Pillow cannot decode it"),
        (b"not an image at all", "Pillow cannot decode it: UnidentifiedImageError"),
    ],
)
def test_pillow_errors_become_messages(data: bytes, error: str) -> None:
    decoded = open_image(data)
    assert decoded.image is None and decoded.error is not None and error in decoded.error


def test_a_good_jpeg_decodes_to_its_size() -> None:
    decoded = decode_jpeg(jpeg_bytes((160, 120)))
    assert decoded.error is None and decoded.image is not None
    assert decoded.image.size == (160, 120)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048), st.booleans())
def test_the_walk_never_raises(data: bytes, with_soi: bool) -> None:
    info = walk_jpeg((b"\xff\xd8" if with_soi else b"") + data)
    assert info.size >= len(data)
    assert (info.eoi_offset is not None) or info.errors
