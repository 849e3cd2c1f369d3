"""Tests of reference_device.encoder: exact sizes, the scaling rule, encode-once sharing."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, JpegImagePlugin

from reference_device.capture import Frame, Master, encode_jpeg
from reference_device.encoder import Encoder, crop_box, scale_to
from reference_device.profile import load_profile, profile_names

MASTER_COLOUR = (30, 200, 30)
RAW_COLOUR = (200, 30, 200)
MIB = 1024 * 1024


def make_frame(size: tuple[int, int] = (1280, 720), seq: int = 1) -> Frame:
    """A frame whose master is a flat green picture with a white centre square."""
    picture = Image.new("RGB", size, MASTER_COLOUR)
    picture.paste(
        (255, 255, 255), (size[0] // 2 - 8, size[1] // 2 - 8, size[0] // 2 + 8, size[1] // 2 + 8)
    )
    return Frame(
        source="internal",
        seq=seq,
        captured_at=1_764_000_000.0,
        master_size=size,
        native_size=(1920, 1080),
        stored=Master.encoded(encode_jpeg(picture)),
    )


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def all_advertised_sizes() -> list[tuple[int, int]]:
    sizes = {size for name in profile_names() for size in load_profile(name).resolutions}
    return sorted(sizes | {(17, 13), (1, 1), (100, 1000)})


@pytest.mark.parametrize(
    ("size", "target", "box"),
    [
        ((1920, 1080), (640, 480), (240.0, 0.0, 1680.0, 1080.0)),
        ((1280, 960), (1280, 720), (0.0, 120.0, 1280.0, 840.0)),
        ((1280, 720), (640, 360), (0.0, 0.0, 1280.0, 720.0)),
        ((1280, 720), (352, 288), (200.0, 0.0, 1080.0, 720.0)),
    ],
)
def test_crop_box_keeps_the_centre_at_the_target_aspect(
    size: tuple[int, int], target: tuple[int, int], box: tuple[float, float, float, float]
) -> None:
    assert crop_box(size, target) == pytest.approx(box)


def test_crop_box_refuses_empty_sizes() -> None:
    with pytest.raises(ValueError, match="positive"):
        crop_box((0, 10), (10, 10))


@given(
    size=st.tuples(st.integers(1, 4000), st.integers(1, 4000)),
    target=st.tuples(st.integers(1, 4000), st.integers(1, 4000)),
)
def test_crop_box_is_centred_full_in_one_dimension_and_of_the_target_aspect(
    size: tuple[int, int], target: tuple[int, int]
) -> None:
    left, top, right, bottom = crop_box(size, target)
    assert left == pytest.approx(size[0] - right) and top == pytest.approx(size[1] - bottom)
    assert left >= -1e-9 and top >= -1e-9
    assert (right - left == size[0]) or (bottom - top == size[1])
    assert (right - left) * target[1] == pytest.approx((bottom - top) * target[0])


@pytest.mark.parametrize("size", all_advertised_sizes())
def test_every_size_comes_out_exactly(size: tuple[int, int]) -> None:
    encoder = Encoder()
    image = decoded(encoder.jpeg(make_frame(), *size))
    assert (image.format, image.size) == ("JPEG", size)


def test_the_picture_is_centre_cropped_not_stretched() -> None:
    # A 16:9 master with black side strips: a 4:3 crop must cut them away entirely.
    picture = Image.new("RGB", (1280, 720), (0, 0, 0))
    picture.paste(MASTER_COLOUR, (160, 0, 1120, 720))
    frame = Frame(
        "internal", 1, 0.0, (1280, 720), (1280, 720), Master.encoded(encode_jpeg(picture))
    )
    image = decoded(Encoder().jpeg(frame, 640, 480)).convert("RGB")
    for x in (2, 637):
        assert image.getpixel((x, 240))[1] > 150  # type: ignore[index]


def test_a_size_is_encoded_once_and_the_bytes_are_shared() -> None:
    encoder = Encoder()
    frame = make_frame()
    first = encoder.jpeg(frame, 640, 480)
    again = encoder.jpeg(frame, 640, 480)
    assert again is first
    assert encoder.encode_count == 1
    encoder.jpeg(frame, 320, 240)
    encoder.jpeg(make_frame(seq=2), 640, 480)
    assert encoder.encode_count == 3


def test_the_master_size_is_the_master_itself() -> None:
    encoder = Encoder()
    frame = make_frame()
    assert encoder.jpeg(frame, 1280, 720) is frame.master
    assert encoder.encode_count == 0


def test_concurrent_callers_share_one_encode() -> None:
    encoder = Encoder(max_cache_bytes=0)  # no cache: only the in-flight encode can be shared
    callers = 8
    rendered: list[str] = []

    def slow_raw() -> Image.Image:
        # The one encoding caller holds its encode open until every other caller waits on it.
        rendered.append(threading.current_thread().name)
        deadline = time.monotonic() + 30
        while encoder.waiting < callers - 1 and time.monotonic() < deadline:
            time.sleep(0.001)
        return Image.new("RGB", (1920, 1080), RAW_COLOUR)

    frame = make_frame()
    results: list[bytes] = []
    start = threading.Barrier(callers)

    def call() -> None:
        start.wait()
        results.append(encoder.jpeg(frame, 1920, 1080, slow_raw))

    threads = [threading.Thread(target=call) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(rendered) == 1
    assert encoder.encode_count == 1
    assert len(results) == callers and all(result is results[0] for result in results)
    assert encoder.waiting == 0


def test_a_failed_encode_reaches_every_waiter_and_is_retried_later() -> None:
    encoder = Encoder()
    frame = make_frame()

    def broken_raw() -> Image.Image:
        raise OSError("sensor unplugged")

    with pytest.raises(OSError, match="sensor unplugged"):
        encoder.jpeg(frame, 1920, 1080, broken_raw)
    assert encoder.encode_count == 0
    assert decoded(encoder.jpeg(frame, 1920, 1080)).size == (1920, 1080)
    assert encoder.encode_count == 1


def test_the_cache_is_bounded_by_bytes_and_forgets_the_least_recently_used() -> None:
    frame = make_frame()
    # Three sizes whose JPEGs are nearly the same length; the cache holds two of them.
    a, b, c = (640, 480), (641, 480), (642, 480)
    limit = 2 * len(Encoder().jpeg(frame, *a)) + 500
    encoder = Encoder(max_cache_bytes=limit)
    encoder.jpeg(frame, *a)
    encoder.jpeg(frame, *b)
    encoder.jpeg(frame, *a)  # now the most recently used
    encoder.jpeg(frame, *c)  # evicts b
    assert encoder.cache_bytes <= limit
    assert encoder.encode_count == 3
    encoder.jpeg(frame, *a)
    assert encoder.encode_count == 3
    encoder.jpeg(frame, *b)
    assert encoder.encode_count == 4


def test_by_default_the_cache_holds_a_few_megabytes_not_the_history() -> None:
    # Noise makes every rendition large (~45 KB at 352x288), so few encodes overflow it.
    master = encode_jpeg(Image.effect_noise((640, 480), 64).convert("RGB"))
    encoder = Encoder()
    asked = 0
    for seq in range(400):
        frame = Frame(
            "internal", seq, 1_764_000_000.0 + seq, (640, 480), (1920, 1080), Master.encoded(master)
        )
        asked += len(encoder.jpeg(frame, 352, 288))
        if asked > 9 * MIB:
            break
    assert asked > 9 * MIB
    assert 7 * MIB < encoder.cache_bytes <= 8 * MIB


def test_a_live_size_above_the_master_comes_from_the_raw_picture() -> None:
    frame = make_frame()
    raw: Callable[[], Image.Image] = lambda: Image.new("RGB", (1920, 1080), RAW_COLOUR)  # noqa: E731
    live = decoded(Encoder().jpeg(frame, 1920, 1080, raw)).convert("RGB")
    assert live.getpixel((100, 100)) == pytest.approx(RAW_COLOUR, abs=6)
    upscaled = decoded(Encoder().jpeg(frame, 1920, 1080)).convert("RGB")
    assert upscaled.getpixel((100, 100)) == pytest.approx(MASTER_COLOUR, abs=6)


def test_sizes_within_the_master_never_render_the_raw_picture() -> None:
    def forbidden() -> Image.Image:
        raise AssertionError("the raw picture was rendered for a size the master covers")

    assert decoded(Encoder().jpeg(make_frame(), 640, 480, forbidden)).size == (640, 480)


@pytest.mark.parametrize(
    ("target", "decoded_size"),
    [((160, 120), (320, 180)), ((320, 240), (640, 360)), ((640, 480), (1280, 720))],
)
def test_small_sizes_decode_the_master_in_draft_mode(
    monkeypatch: pytest.MonkeyPatch, target: tuple[int, int], decoded_size: tuple[int, int]
) -> None:
    sizes: list[tuple[int, int]] = []
    original = JpegImagePlugin.JpegImageFile.draft

    def spy(
        self: JpegImagePlugin.JpegImageFile, mode: str | None, size: tuple[int, int] | None
    ) -> object:
        result = original(self, mode, size)
        sizes.append(self.size)
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    assert decoded(Encoder().jpeg(make_frame(), *target)).size == target
    assert sizes == [decoded_size]


def test_scale_to_applies_the_rule_to_any_picture() -> None:
    assert scale_to(Image.new("RGB", (1000, 1000)), (160, 120)).size == (160, 120)


@pytest.mark.parametrize(("width", "height"), [(0, 480), (640, -1), (True, 480)])
def test_sizes_must_be_positive_integers(width: int, height: int) -> None:
    with pytest.raises(ValueError, match="positive integer"):
        Encoder().jpeg(make_frame(), width, height)
