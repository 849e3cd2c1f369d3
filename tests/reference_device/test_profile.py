"""Tests of reference_device.profile: the shipped profiles and every way a file can be wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from reference_device.profile import (
    SYSTEM_INFO_FIELDS,
    ProfileError,
    SourceMode,
    load_profile,
    parse_profile,
    profile_names,
)

VERSO_FIELD_LIST = (
    (176, 144), (320, 240), (352, 288), (640, 480), (800, 600), (1280, 960),
    (160, 120), (352, 272), (480, 272), (1024, 600), (1280, 720), (640, 360),
)  # fmt: skip
MANUAL_CAPS_EXAMPLE = ((160, 120), (176, 144), (320, 240), (352, 272), (352, 288), (640, 480))


def test_the_three_profiles_are_shipped() -> None:
    assert profile_names() == ("default", "minimal", "verso")


@pytest.mark.parametrize("name", profile_names())
def test_every_shipped_profile_loads_and_is_coherent(name: str) -> None:
    profile = load_profile(name)
    assert profile.name == name
    assert profile.default_source in {mode.name for mode in profile.sources}
    assert tuple(profile.system_info) == SYSTEM_INFO_FIELDS
    assert profile.variant == profile.system_info["variant"]
    assert profile.server_header.startswith("HIP")
    assert len(set(profile.resolutions)) == len(profile.resolutions)


def test_default_profile_offers_a_live_size_above_the_time_shift_limit() -> None:
    profile = load_profile("default")
    assert (1920, 1080) in profile.resolutions
    assert {(1280, 960), (640, 480), (320, 240), (160, 120)} <= set(profile.resolutions)
    assert profile.sources == (
        SourceMode("internal", 1920, 1080, 15.0),
        SourceMode("external", 1280, 720, 10.0),
    )
    assert profile.default_source == "internal"
    assert profile.max_fps == 15
    assert profile.sustainable_rate(1920, 1080) == 15.0
    assert profile.server_header == "HIP2.35.0.45.0"


def test_verso_profile_keeps_the_field_reported_order_and_published_rates() -> None:
    profile = load_profile("verso")
    assert profile.resolutions == VERSO_FIELD_LIST
    assert profile.variant == "2N IP Verso"
    assert profile.max_fps == 15
    assert profile.sustainable_rate(640, 480) == 8.0
    assert profile.sustainable_rate(1280, 960) == 2.0
    assert profile.sustainable_rate(320, 240) == 15.0


def test_minimal_profile_is_the_manual_example_with_an_internal_camera_only() -> None:
    profile = load_profile("minimal")
    assert profile.resolutions == MANUAL_CAPS_EXAMPLE
    assert [mode.name for mode in profile.sources] == ["internal"]
    # No server_header in the file: it follows the firmware version.
    assert profile.server_header == "HIP" + profile.system_info["swVersion"]


def test_profile_source_looks_a_source_up_by_name() -> None:
    profile = load_profile("minimal")
    assert profile.source("internal").fps == 10.0
    with pytest.raises(ValueError, match="has no source 'external'"):
        profile.source("external")


def test_a_profile_can_be_loaded_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(VALID)
    profile = load_profile(str(path))
    assert profile.name == "mine"
    assert profile.resolutions == ((640, 480), (320, 240))


def test_an_unknown_profile_name_lists_the_known_ones() -> None:
    with pytest.raises(ProfileError, match="no such profile; known profiles: default, minimal"):
        load_profile("versa")


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "absent.toml"
    with pytest.raises(ProfileError, match=r"absent\.toml: cannot read the profile"):
        load_profile(str(missing))


VALID = """\
max_fps = 15
default_source = "internal"
resolutions = [{ width = 640, height = 480 }, { width = 320, height = 240 }]

[[sources]]
name = "internal"
width = 640
height = 480
fps = 15

[[sustainable_fps]]
width = 640
height = 480
fps = 8

[system_info]
devType = "2-14-0-0"
variant = "Test"
variantId = "14"
customerId = "0"
serialNumber = "00-0000-0001"
macAddr = "02-00-00-00-00-01"
hwVersion = "1"
swVersion = "2.35.0.45.0"
buildType = "release"
firmwarePackage = "test"
deviceName = "Test"
"""


def broken(old: str, new: str) -> str:
    """VALID with one change; the change must apply."""
    assert old in VALID
    return VALID.replace(old, new, 1)


SOURCES_NOT_AN_ARRAY = broken(
    '[[sources]]\nname = "internal"\nwidth = 640\nheight = 480\nfps = 15\n', ""
).replace("max_fps = 15", "max_fps = 15\nsources = 3")

BROKEN: list[tuple[str, str, str]] = [
    ("not TOML", "max_fps = = 15", "not valid TOML"),
    (
        "more than one default source",
        broken('default_source = "internal"', 'default_source = "internal"\ndefault_source = "x"'),
        "not valid TOML",
    ),
    ("unknown key", broken("max_fps", "max_fsp"), "unknown key 'max_fsp' in the top level"),
    ("missing key", broken("max_fps = 15\n", ""), "missing key 'max_fps' in the top level"),
    (
        "wrong type",
        broken("max_fps = 15", 'max_fps = "15"'),
        "'max_fps' in the top level must be an integer, got a string",
    ),
    (
        "bool for an int",
        broken("width = 640\nheight = 480\nfps = 15", "width = true\nheight = 480\nfps = 15"),
        "'width' in sources[0] must be an integer, got a boolean",
    ),
    ("max_fps below 1", broken("max_fps = 15", "max_fps = 0"), "max_fps must be at least 1"),
    (
        "default source not listed",
        broken('default_source = "internal"', 'default_source = "external"'),
        "default_source 'external' is not one of the sources (internal)",
    ),
    (
        "zero width",
        broken("{ width = 320, height = 240 }", "{ width = 0, height = 240 }"),
        "resolutions[1]: width and height must be positive, got 0x240",
    ),
    (
        "negative height",
        broken("{ width = 320, height = 240 }", "{ width = 320, height = -240 }"),
        "must be positive, got 320x-240",
    ),
    (
        "duplicate resolution",
        broken("{ width = 320, height = 240 }", "{ width = 640, height = 480 }"),
        "resolutions[1]: 640x480 is listed twice",
    ),
    (
        "no resolutions",
        broken(
            "resolutions = [{ width = 640, height = 480 }, { width = 320, height = 240 }]",
            "resolutions = []",
        ),
        "resolutions must list at least one size",
    ),
    (
        "resolution not a table",
        broken("{ width = 320, height = 240 }", "[320, 240]"),
        "resolutions[1] must be a table, got an array",
    ),
    (
        "unknown key in a resolution",
        broken("{ width = 320, height = 240 }", "{ width = 320, height = 240, depth = 8 }"),
        "unknown key 'depth' in resolutions[1]",
    ),
    (
        "source name upper case",
        broken('name = "internal"', 'name = "Internal"'),
        "sources[0].name must match [a-z0-9]+",
    ),
    (
        "duplicate source",
        broken(
            "[[sustainable_fps]]",
            '[[sources]]\nname = "internal"\nwidth = 1\nheight = 1\nfps = 1\n\n[[sustainable_fps]]',
        ),
        "sources[1]: source 'internal' is listed twice",
    ),
    (
        "zero fps",
        broken("height = 480\nfps = 15", "height = 480\nfps = 0"),
        "sources[0].fps must be a positive number, got 0",
    ),
    (
        "nan fps",
        broken("height = 480\nfps = 15", "height = 480\nfps = nan"),
        "sources[0].fps must be a positive number, got nan",
    ),
    (
        "sustainable size not advertised",
        broken("width = 640\nheight = 480\nfps = 8", "width = 800\nheight = 600\nfps = 8"),
        "sustainable_fps[0]: 800x600 is not one of the resolutions",
    ),
    (
        "sustainable above max",
        broken("height = 480\nfps = 8", "height = 480\nfps = 16"),
        "sustainable_fps[0].fps 16 exceeds max_fps 15",
    ),
    (
        "system_info field missing",
        broken('deviceName = "Test"\n', ""),
        "missing key 'deviceName' in [system_info]",
    ),
    (
        "system_info field unknown",
        broken('deviceName = "Test"', 'deviceName = "Test"\nfirmware = "x"'),
        "unknown key 'firmware' in [system_info]",
    ),
    (
        "system_info not a string",
        broken('variantId = "14"', "variantId = 14"),
        "'variantId' in [system_info] must be a string, got an integer",
    ),
    (
        "empty server header",
        broken("max_fps = 15", 'max_fps = 15\nserver_header = " "'),
        "server_header must not be empty",
    ),
    (
        "max_streams below 1",
        broken("max_fps = 15", "max_fps = 15\nmax_streams = 0"),
        "max_streams must be at least 1, got 0",
    ),
    (
        "sources not an array",
        SOURCES_NOT_AN_ARRAY,
        "'sources' in the top level must be an array, got an integer",
    ),
]


@pytest.mark.parametrize(
    ("text", "problem"), [(t, p) for _, t, p in BROKEN], ids=[c[0] for c in BROKEN]
)
def test_a_broken_profile_names_its_file_and_its_problem(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(text)
    with pytest.raises(ProfileError) as caught:
        load_profile(str(path))
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert problem in message


def test_the_valid_base_of_the_broken_table_is_valid() -> None:
    profile = parse_profile(VALID, origin="valid.toml")
    assert profile.sustainable_rate(640, 480) == 8.0
    assert profile.max_streams is None


def test_a_profile_may_limit_its_concurrent_streams() -> None:
    profile = parse_profile(broken("max_fps = 15", "max_fps = 15\nmax_streams = 3"), origin="x")
    assert profile.max_streams == 3
