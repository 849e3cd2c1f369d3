"""Parameters: Hypothesis over the whole parameter space, and one test per decision-table row.

Strategy: requests are drawn by ``snapcheck.strategies`` from the device's own caps and
each is judged by the expected-outcome model through ``device.expect``; a failure shows the
minimal falsifying parameters (Hypothesis) and the request's curl line (the findings).
The table-driven tests cite each parameter clause of the catalogue with a request built
on the smallest advertised pair, the cheapest snapshot to ask for. Streams are read only
briefly here (``WINDOW_S``): their rate and liveness are the fps suite's business.
What never belongs here: HTTP methods (test_methods.py), the wire format of replies
(test_content_types.py), and the age of time-shifted frames (test_time.py).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from snapcheck.device import DeviceUnderTest
from snapcheck.expected import Caps
from snapcheck.strategies import (
    Params,
    decoded_query,
    encoded_queries,
    invalid_params,
    largest_pair,
    loose_params,
    misencoded_queries,
    small_caps,
    smallest_pair,
    valid_params,
)

# Seconds a stream is read when the model allows one: enough for its format, and shorter
# than the liveness bound 2/fps + 1 s at any fps, so its rate is judged only by test_fps.py.
WINDOW_S = 0.6
# Where the size of the image is not what a test is about, sizes up to this many pixels
# keep the run short (encoding and decoding large frames is most of a request's cost).
CHEAP_PIXELS = 640 * 480


def cheap(caps: Caps) -> Caps:
    """Caps narrowed to small pairs, for valid bases whose size is not the point."""
    return small_caps(caps, CHEAP_PIXELS)


def known_max_fps(device: DeviceUnderTest) -> int:
    """The device's maximum fps, probed once per run (the probe records FPS-MAX-2)."""
    return device.config.max_fps or device.max_fps()


# ---------------------------------------------------------------- Hypothesis


@pytest.mark.clause(
    "CAPS-PAIR-1",
    "CAPS-SOURCE-1",
    "SNAP-SRC-1",
    "FPS-SINGLE-1",
    "STREAM-CT-1",
    "STREAM-PART-JPEG-1",
    "TIME-SINGLE-1",
    "TIME-SIZE-1",
    "TIME-CLAMP-1",
)
@given(data=st.data())
def test_valid_requests_are_served(device: DeviceUnderTest, data: st.DataObject) -> None:
    strategy = valid_params(device.caps, max_fps=known_max_fps(device))
    device.expect(data.draw(strategy, label="params"), window_s=WINDOW_S)


@pytest.mark.clause(
    "SNAP-WH-1",
    "SNAP-WH-3",
    "SNAP-WH-4",
    "SNAP-SRC-2",
    "FPS-NEG-1",
    "TIME-RANGE-1",
    "ENV-JSON-1",
    "ENV-CODE-1",
    "ENV-PARAM-1",
)
@given(data=st.data())
def test_invalid_requests_are_refused(device: DeviceUnderTest, data: st.DataObject) -> None:
    device.expect(data.draw(invalid_params(device.caps), label="params"), window_s=WINDOW_S)


@pytest.mark.clause(
    "SNAP-EXTRA-1",
    "SNAP-REPEAT-1",
    "FPS-SINGLE-1",
    "FPS-FRAC-1",
    "FPS-MAX-1",
    "TIME-RANGE-1",
    "TIME-FRAC-1",
)
@given(data=st.data())
def test_loose_requests_get_an_answer_the_contract_allows(
    device: DeviceUnderTest, data: st.DataObject
) -> None:
    strategy = loose_params(cheap(device.caps), max_fps=device.config.max_fps)
    device.expect(data.draw(strategy, label="params"), window_s=WINDOW_S)


@pytest.mark.clause("SNAP-WH-4", "SNAP-SRC-2", "ENV-JSON-1")
@given(data=st.data())
def test_misencoded_values_are_refused(device: DeviceUnderTest, data: st.DataObject) -> None:
    raw = data.draw(misencoded_queries(cheap(device.caps)), label="query")
    device.expect(decoded_query(raw), raw_query=raw, window_s=WINDOW_S)


@pytest.mark.clause("CAPS-PAIR-1", "SNAP-METHOD-1")
@given(data=st.data())
def test_percent_encoded_requests_are_the_same_requests(
    device: DeviceUnderTest, data: st.DataObject
) -> None:
    raw = data.draw(encoded_queries(cheap(device.caps)), label="query")
    device.expect(decoded_query(raw), raw_query=raw, window_s=WINDOW_S)


# ---------------------------------------------------------------- one row each

# Placeholders filled from caps: {w}x{h} the smallest pair, {W} the largest pair's width,
# {s} the first source listed.
Template = list[tuple[str, str]]
WH: Template = [("width", "{w}"), ("height", "{h}")]


def row(name: str, params: Template, *clauses: str, quick: bool = False) -> object:
    """One decision-table row: a request template and the clauses it cites."""
    marks = [pytest.mark.clause(*clauses), *([pytest.mark.quick] if quick else [])]
    return pytest.param(params, marks=marks, id=name.replace(" ", "-"))


ROWS = [
    row("width missing", [("height", "{h}")], "SNAP-WH-3", quick=True),
    row("height missing", [("width", "{w}")], "SNAP-WH-3"),
    row("width and height missing", [], "SNAP-WH-3"),
    row("width empty", [("width", ""), ("height", "{h}")], "SNAP-WH-4", quick=True),
    row("height empty", [("width", "{w}"), ("height", "")], "SNAP-WH-4"),
    row("width with a fraction", [("width", "{w}.0"), ("height", "{h}")], "SNAP-WH-4"),
    row("width negative", [("width", "-{w}"), ("height", "{h}")], "SNAP-WH-4"),
    row("height a word", [("width", "{w}"), ("height", "tall")], "SNAP-WH-4"),
    row("unknown parameter quality", [*WH, ("quality", "50")], "SNAP-EXTRA-1", quick=True),
    row("unknown parameter in another case", [*WH, ("Width", "{w}")], "SNAP-EXTRA-1"),
    row("width repeated", [("width", "{w}"), *WH], "SNAP-REPEAT-1", quick=True),
    row("width repeated, another value", [*WH, ("width", "{W}")], "SNAP-REPEAT-1"),
    row("source repeated", [*WH, ("source", "{s}"), ("source", "{s}")], "SNAP-REPEAT-1"),
    row("source empty", [*WH, ("source", "")], "SNAP-SRC-1", "SNAP-SRC-2"),
    row("fps absent", WH, "FPS-SINGLE-1"),
    row("fps 0", [*WH, ("fps", "0")], "FPS-SINGLE-1", quick=True),
    row("fps 0.5", [*WH, ("fps", "0.5")], "FPS-SINGLE-1"),
    row("fps -0", [*WH, ("fps", "-0")], "FPS-SINGLE-1"),
    row("fps empty", [*WH, ("fps", "")], "FPS-SINGLE-1", "FPS-NEG-1"),
    row("fps negative", [*WH, ("fps", "-1")], "FPS-NEG-1", quick=True),
    row("fps not a number", [*WH, ("fps", "fast")], "FPS-NEG-1"),
    row("fps 2.5", [*WH, ("fps", "2.5")], "FPS-FRAC-1"),
    row("fps above any maximum", [*WH, ("fps", "1000000")], "FPS-MAX-1"),
    row("time -1 with fps", [*WH, ("time", "-1"), ("fps", "5")], "TIME-SINGLE-1", quick=True),
    row("time -31", [*WH, ("time", "-31")], "TIME-RANGE-1", quick=True),
    row("time after now", [*WH, ("time", "1")], "TIME-RANGE-1"),
    row("time a Unix timestamp", [*WH, ("time", "1700000000")], "TIME-RANGE-1"),
    row("time not a number", [*WH, ("time", "now")], "TIME-RANGE-1"),
    row("time -2.5", [*WH, ("time", "-2.5")], "TIME-FRAC-1"),
]


def filled(template: Template, caps: Caps) -> Params:
    """The template's placeholders filled from what the device advertises."""
    (w, h), (big_w, _) = smallest_pair(caps), largest_pair(caps)
    values = {"w": str(w), "h": str(h), "W": str(big_w), "s": caps.sources[0]}
    return [(name, value.format(**values)) for name, value in template]


@pytest.mark.parametrize("template", ROWS)
def test_each_parameter_row_of_the_decision_table(
    device: DeviceUnderTest, template: Template
) -> None:
    device.expect(filled(template, device.caps), window_s=WINDOW_S)
