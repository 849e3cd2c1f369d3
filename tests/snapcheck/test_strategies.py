"""Tests of the strategies: each family draws what the expected-outcome model says it does.

valid draws use only what caps advertise and the model expects an image (or a stream) for
them; invalid and misencoded draws are never expected to give an image, whichever way a
device reads '+'; loose draws are where the model accepts more than one answer; encoded
draws decode to a valid request. The caps-derived values are never listed in caps.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from snapcheck.expected import (
    Caps,
    DeviceConfig,
    Expectation,
    JsonError,
    SingleJpeg,
    Stream,
    expected_outcome,
)
from snapcheck.strategies import (
    MISENCODINGS,
    PAIR_DERIVATIONS,
    SOURCE_DERIVATIONS,
    Params,
    decoded_query,
    encoded_queries,
    invalid_params,
    largest_pair,
    loose_params,
    misencoded_queries,
    query_string,
    set_param,
    small_caps,
    smallest_pair,
    unlisted_pairs,
    unlisted_sources,
    valid_params,
    without_param,
)

BOTH = Caps(
    ((1920, 1080), (1280, 960), (640, 480), (320, 240), (160, 120)), ("internal", "external")
)
# The manual's caps example, internal only; and a field Verso's unsorted list.
MANUAL = Caps(
    ((160, 120), (176, 144), (320, 240), (352, 272), (352, 288), (640, 480)), ("internal",)
)
UNSORTED = Caps(((640, 480), (1280, 960), (160, 120), (1280, 720), (640, 360)), ("internal",))
ONE = Caps(((640, 480),), ("internal",))
# A source name no misencoding can spoil (no printable ASCII in it).
FOREIGN = Caps(((640, 480), (320, 240)), ("\u30ab\u30e1\u30e9",))
EVERY_CAPS = pytest.mark.parametrize(
    "caps",
    [BOTH, MANUAL, UNSORTED, ONE, FOREIGN],
    ids=["both", "manual", "unsorted", "one", "foreign"],
)
KNOWN_MAX = DeviceConfig(max_fps=15)
CONFIGS = (KNOWN_MAX, DeviceConfig())


def expect(params: Params, caps: Caps, config: DeviceConfig = KNOWN_MAX) -> Expectation:
    return expected_outcome("GET", params, caps, config)


def gives_an_image(expectation: Expectation) -> bool:
    return any(isinstance(alt.outcome, SingleJpeg | Stream) for alt in expectation.alternatives)


def with_literal_plus(raw: str) -> Params:
    """How a device that does not read '+' as a space decodes a query."""
    return parse_qsl(raw.replace("+", "%2B"), keep_blank_values=True)


@EVERY_CAPS
@given(data=st.data())
def test_valid_draws_use_what_caps_advertise_and_expect_an_image(
    caps: Caps, data: st.DataObject
) -> None:
    params = data.draw(valid_params(caps, max_fps=15))
    values = dict(params)
    assert len(values) == len(params), "no parameter is sent twice"
    assert (int(values["width"]), int(values["height"])) in caps.resolutions
    assert values.get("source", caps.sources[0]) in caps.sources
    expectation = expect(params, caps)
    assert expectation.alternatives[0].verdict.value == "PASS"
    assert isinstance(expectation.alternatives[0].outcome, SingleJpeg | Stream)
    # The only error allowed is 15 (no history yet, or no external camera connected).
    errors = [alt.outcome for alt in expectation.alternatives if isinstance(alt.outcome, JsonError)]
    assert all(error.codes == frozenset({15}) for error in errors)


@EVERY_CAPS
@given(data=st.data())
def test_valid_draws_without_streams_never_ask_for_one(caps: Caps, data: st.DataObject) -> None:
    params = data.draw(valid_params(caps, max_fps=15, streams=False))
    expectation = expect(params, caps)
    assert not any(isinstance(alt.outcome, Stream) for alt in expectation.alternatives)


@EVERY_CAPS
@given(data=st.data())
def test_invalid_draws_are_never_expected_to_give_an_image(caps: Caps, data: st.DataObject) -> None:
    params = data.draw(invalid_params(caps))
    for config in CONFIGS:
        assert not gives_an_image(expect(params, caps, config)), params


@EVERY_CAPS
@given(data=st.data())
def test_loose_draws_leave_the_device_a_choice(caps: Caps, data: st.DataObject) -> None:
    params = data.draw(loose_params(caps, max_fps=15))
    assert len(expect(params, caps).alternatives) > 1, params


@EVERY_CAPS
@given(data=st.data())
def test_misencoded_queries_are_never_expected_to_give_an_image(
    caps: Caps, data: st.DataObject
) -> None:
    raw = data.draw(misencoded_queries(caps))
    assert " " not in raw and raw.isascii()
    for reading in (decoded_query(raw), with_literal_plus(raw)):
        assert not gives_an_image(expect(reading, caps)), (raw, reading)


@EVERY_CAPS
@given(data=st.data())
def test_encoded_queries_decode_to_a_valid_request(caps: Caps, data: st.DataObject) -> None:
    raw = data.draw(encoded_queries(caps))
    params = decoded_query(raw)
    assert raw.isascii() and "+" not in raw
    values = dict(params)
    assert (int(values["width"]), int(values["height"])) in caps.resolutions
    assert isinstance(expect(params, caps).alternatives[0].outcome, SingleJpeg)


@EVERY_CAPS
@pytest.mark.parametrize("derivation", list(PAIR_DERIVATIONS))
def test_derived_pairs_are_never_listed(caps: Caps, derivation: str) -> None:
    pairs = unlisted_pairs(caps, derivation)
    assert not set(pairs) & set(caps.resolutions)
    assert all(min(pair) >= 0 for pair in pairs)
    if derivation != "mixed" or len(caps.resolutions) > 1:
        assert pairs, f"{derivation} gives a pair for {caps}"


def test_every_pair_derivation_is_in_the_union() -> None:
    everything = unlisted_pairs(BOTH)
    assert (641, 480) in everything and (480, 640) in everything and (0, 0) in everything
    assert (1920, 120) in everything  # the width of one pair, the height of another
    assert (640 + 2**32, 480 + 2**32) not in everything  # wraps the first pair: 1920x1080
    assert (1920 + 2**32, 1080 + 2**32) in everything
    assert unlisted_pairs(ONE, "mixed") == []


@EVERY_CAPS
@pytest.mark.parametrize("derivation", list(SOURCE_DERIVATIONS))
def test_derived_sources_are_never_listed_nor_empty(caps: Caps, derivation: str) -> None:
    names = unlisted_sources(caps, derivation)
    assert all(name and name not in caps.sources for name in names)
    # Only a name without letters that have case has no wrong case to send.
    caseless = all(name.upper() == name.capitalize() == name for name in caps.sources)
    assert names or (caseless and derivation in ("upper case", "capitalised"))


def test_source_derivations_cover_case_padding_and_undocumented_names() -> None:
    assert unlisted_sources(MANUAL, "upper case") == ["INTERNAL"]
    assert unlisted_sources(MANUAL, "padded") == [" internal", "internal "]
    assert "external" in unlisted_sources(MANUAL)
    assert "external" not in unlisted_sources(BOTH)


@pytest.mark.parametrize(
    ("params", "name", "value", "expected"),
    [
        ([("width", "640")], "height", "480", [("width", "640"), ("height", "480")]),
        ([("a", "1"), ("fps", "2")], "fps", "x", [("a", "1"), ("fps", "x")]),
        ([("fps", "1"), ("a", "1"), ("fps", "2")], "fps", "x", [("fps", "x"), ("a", "1")]),
    ],
)
def test_set_param_gives_a_name_once_in_place(
    params: Params, name: str, value: str, expected: Params
) -> None:
    assert set_param(params, name, value) == expected


def test_without_param_drops_every_value_of_a_name() -> None:
    assert without_param([("a", "1"), ("b", "2"), ("a", "3")], "a") == [("b", "2")]


@pytest.mark.parametrize(
    ("how", "value", "raw"),
    [
        ("NUL after", "640", "640%00"),
        ("bad escape", "640", "640%ZZ"),
        ("truncated escape", "640", "640%4"),
        ("overlong UTF-8", "64", "%C0%B6%C0%B4"),
        ("plus before", "640", "+640"),
        ("%20 before", "640", "%20640"),
        ("full-width", "64", "%EF%BC%96%EF%BC%94"),
    ],
)
def test_misencodings_write_the_value_as_documented(how: str, value: str, raw: str) -> None:
    assert MISENCODINGS[how](value) == raw


# Lone surrogates cannot be encoded as UTF-8, so no query carries them.
_TEXT = st.text(st.characters(codec="utf-8"), max_size=8)


@given(st.lists(st.tuples(_TEXT.filter(bool), _TEXT), max_size=5))
def test_query_string_round_trips_through_decoding(params: Params) -> None:
    assert decoded_query(query_string(params)) == params


def test_query_string_keeps_raw_values_as_given() -> None:
    params = [("width", "640"), ("source", "a b")]
    assert query_string(params) == "width=640&source=a%20b"
    assert query_string(params, {0: "%C0%B6"}) == "width=%C0%B6&source=a%20b"


def test_smallest_and_largest_pairs_go_by_pixels_not_by_order() -> None:
    assert smallest_pair(UNSORTED) == (160, 120)
    assert largest_pair(UNSORTED) == (1280, 960)
    assert largest_pair(Caps(((640, 480), (700, 400)), ("internal",))) == (640, 480)


@pytest.mark.parametrize(
    ("caps", "max_pixels", "pairs"),
    [
        (UNSORTED, 640 * 480, ((640, 480), (160, 120), (640, 360))),
        (BOTH, 320 * 240, ((320, 240), (160, 120))),
        (ONE, 100, ((640, 480),)),
    ],
)
def test_small_caps_keep_the_small_pairs_and_every_source(
    caps: Caps, max_pixels: int, pairs: tuple[tuple[int, int], ...]
) -> None:
    assert small_caps(caps, max_pixels) == Caps(pairs, caps.sources)
