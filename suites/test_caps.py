"""Caps: the schema; every advertised pair and source usable; unlisted ones refused."""

from __future__ import annotations

import pytest

from snapcheck.device import DeviceUnderTest

pytestmark = pytest.mark.quick


@pytest.mark.clause("CAPS-SCHEMA-1", "ENV-JSON-1", "ENV-SCHEMA-1", "CAPS-DUP-1", "CAPS-ORDER-1")
def test_caps_reply_conforms(device: DeviceUnderTest) -> None:
    device.check(device.caps_reply)


@pytest.mark.clause("CAPS-METHOD-1")
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_caps_answers_get_and_post(device: DeviceUnderTest, method: str) -> None:
    device.expect(method=method, path="/api/camera/caps")


@pytest.mark.clause("CAPS-PAIR-1", "JPEG-SIZE-1", "JPEG-CT-1", "JPEG-DECODE-1")
def test_every_advertised_pair_gives_a_jpeg_of_that_size(device: DeviceUnderTest) -> None:
    for width, height in device.caps.resolutions:
        device.expect({"width": width, "height": height})
