"""Caps: the schema; every advertised pair and source usable; unlisted ones refused.

Strategy: everything here is derived from what the device advertises. The pairs and
sources to refuse are computed from caps by ``snapcheck.strategies`` (a pair one pixel
off, swapped, mixed from two pairs, wrapping around a fixed-width integer; a source in
the wrong case, padded, NUL-terminated, or a name caps does not list), so the same test
judges any device. What never belongs here: parameter spellings (test_parameters.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import pytest

from snapcheck.device import DeviceUnderTest
from snapcheck.strategies import (
    PAIR_DERIVATIONS,
    SOURCE_DERIVATIONS,
    largest_pair,
    smallest_pair,
    unlisted_pairs,
    unlisted_sources,
)

T = TypeVar("T")


@pytest.mark.quick
@pytest.mark.clause("CAPS-SCHEMA-1", "ENV-JSON-1", "ENV-SCHEMA-1", "CAPS-DUP-1", "CAPS-ORDER-1")
def test_caps_reply_conforms(device: DeviceUnderTest) -> None:
    device.check(device.caps_reply)


@pytest.mark.quick
@pytest.mark.clause("CAPS-METHOD-1")
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_caps_answers_get_and_post(device: DeviceUnderTest, method: str) -> None:
    device.expect(method=method, path="/api/camera/caps")


@pytest.mark.quick
@pytest.mark.clause("CAPS-PAIR-1", "JPEG-SIZE-1", "JPEG-CT-1", "JPEG-DECODE-1")
def test_every_advertised_pair_gives_a_jpeg_of_that_size(device: DeviceUnderTest) -> None:
    for width, height in device.caps.resolutions:
        device.expect({"width": width, "height": height})


# Requests per derivation: enough to see a pattern, few enough for a slow real device.
PER_DERIVATION = 4


def spread(items: Sequence[T], count: int = PER_DERIVATION) -> list[T]:
    """At most ``count`` items, spread evenly over the sequence (first and last included)."""
    if len(items) <= count:
        return list(items)
    step = (len(items) - 1) / (count - 1)
    return [items[round(index * step)] for index in range(count)]


def slug(name: str) -> str:
    """A test id without spaces, easy to pass to -k."""
    return name.replace(" ", "-")


@pytest.mark.quick
@pytest.mark.clause("CAPS-SOURCE-1", "SNAP-SRC-3")
@pytest.mark.parametrize("source", ["internal", "external"])
def test_a_documented_source_in_caps_gives_a_snapshot(device: DeviceUnderTest, source: str) -> None:
    device.require_source(source)
    width, height = smallest_pair(device.caps)
    device.expect({"width": width, "height": height, "source": source})


@pytest.mark.clause("CAPS-SOURCE-1", "CAPS-PAIR-1", "JPEG-SIZE-1", "SNAP-SRC-3")
def test_every_advertised_source_gives_the_smallest_and_largest_pair(
    device: DeviceUnderTest,
) -> None:
    for source in device.caps.sources:
        for width, height in dict.fromkeys((smallest_pair(device.caps), largest_pair(device.caps))):
            device.expect({"width": width, "height": height, "source": source})


@pytest.mark.quick
@pytest.mark.clause("SNAP-SRC-1", "CAPS-PAIR-1")
def test_without_a_source_the_default_source_gives_a_snapshot(device: DeviceUnderTest) -> None:
    width, height = smallest_pair(device.caps)
    device.expect({"width": width, "height": height})


@pytest.mark.quick
@pytest.mark.clause("SNAP-WH-1", "SNAP-WH-2", "ENV-PARAM-1")
@pytest.mark.parametrize("derivation", list(PAIR_DERIVATIONS), ids=slug)
def test_a_pair_caps_does_not_list_is_refused(device: DeviceUnderTest, derivation: str) -> None:
    pairs = unlisted_pairs(device.caps, derivation)
    if not pairs:
        device.unsupported(f"caps leave no {derivation!r} pair unlisted to ask for")
    for width, height in spread(pairs):
        device.expect({"width": width, "height": height})


@pytest.mark.quick
@pytest.mark.clause("SNAP-SRC-2", "ENV-PARAM-1")
@pytest.mark.parametrize("derivation", list(SOURCE_DERIVATIONS), ids=slug)
def test_a_source_caps_does_not_list_is_refused(device: DeviceUnderTest, derivation: str) -> None:
    sources = unlisted_sources(device.caps, derivation)
    if not sources:
        device.unsupported(f"caps list no source with a {derivation!r} form to ask for")
    width, height = smallest_pair(device.caps)
    for source in sources:
        device.expect({"width": width, "height": height, "source": source})
