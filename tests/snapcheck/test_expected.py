"""Tests of the expected-outcome model: one row per case of the decision table, and properties."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snapcheck.clauses import load_catalogue
from snapcheck.expected import (
    ERROR_CODES,
    Alternative,
    AnyOutcome,
    Caps,
    DeviceConfig,
    Expectation,
    JsonError,
    ObservedError,
    Outcome,
    SingleJpeg,
    Stream,
    expected_outcome,
)
from snapcheck.schemas import load_schema
from snapcheck.verdicts import SEVERITY_ORDER, Verdict

PASS, NS, INFO = Verdict.PASS, Verdict.NON_STRICT, Verdict.INFORMATIONAL
CAPS = Caps(((640, 480), (320, 240), (1920, 1080), (1280, 720)), ("internal", "external"))
INTERNAL_ONLY = Caps(((640, 480),), ("internal",))
CONFIG = DeviceConfig(default_source="internal", max_fps=15, history_s=30.0)
UNKNOWN = DeviceConfig()
VGA = "width=640&height=480"


def E(code: int, *params: str) -> JsonError:
    """The error envelope with ``code`` naming one of ``params`` (none given: any param)."""
    return JsonError(frozenset({code}), frozenset(params) if params else None)


J = SingleJpeg(640, 480)
PAIR_ERRORS: set[tuple[Outcome, Verdict]] = {(E(12, "width", "height"), PASS), (E(12), NS)}
COLLISION = JsonError(frozenset({12, 17}))
EXTRA_REFUSALS: set[tuple[Outcome, Verdict]] = {
    (JsonError(ERROR_CODES, frozenset({"quality"})), INFO),
    (JsonError(ERROR_CODES), NS),
}


def outcomes(
    query: str, config: DeviceConfig = CONFIG, caps: Caps = CAPS, method: str = "GET"
) -> set[tuple[Outcome, Verdict]]:
    """The (outcome, verdict) pairs expected for a query string."""
    expectation = expected_outcome(method, parse_qsl(query, keep_blank_values=True), caps, config)
    return {(alt.outcome, alt.verdict) for alt in expectation.alternatives}


def primary(query: str, config: DeviceConfig = CONFIG) -> str:
    """The clause a reply matching nothing fails."""
    return expected_outcome(
        "GET", parse_qsl(query, keep_blank_values=True), CAPS, config
    ).primary_clause


# (decision-table row, query, config, expected (outcome, verdict) pairs, primary clause)
ROWS: list[tuple[str, str, DeviceConfig, set[tuple[Outcome, Verdict]], str]] = [
    # width / height
    ("advertised pair", VGA, CONFIG, {(J, PASS)}, "CAPS-PAIR-1"),
    ("leading zeros are decimal", "width=0640&height=0480", CONFIG, {(J, PASS)}, "CAPS-PAIR-1"),
    ("pair not in caps", "width=640&height=240", CONFIG, PAIR_ERRORS, "SNAP-WH-1"),
    ("width in no pair", "width=641&height=480", CONFIG, PAIR_ERRORS, "SNAP-WH-1"),
    ("huge integer", "width=99999999999999999999&height=480", CONFIG, PAIR_ERRORS, "SNAP-WH-1"),
    ("width missing", "height=480", CONFIG, {(E(11, "width"), PASS)}, "SNAP-WH-3"),
    ("height missing, width valid", "width=640", CONFIG, {(E(11, "height"), PASS)}, "SNAP-WH-3"),
    ("both missing", "", CONFIG, {(E(11, "width"), PASS), (E(11, "height"), PASS)}, "SNAP-WH-3"),
    ("missing, lone height in no pair", "height=999", CONFIG,
     {(E(11, "width"), PASS), (E(12, "height"), PASS), (E(12), NS)}, "SNAP-WH-3"),
    ("empty width: 11 or 12", "width=&height=480", CONFIG,
     {(E(11, "width"), PASS), (E(12, "width"), PASS), (E(12), NS)}, "SNAP-WH-4"),
    ("case-sensitive names", "Width=640&height=480", CONFIG,
     {(E(11, "width"), PASS), (JsonError(ERROR_CODES, frozenset({"Width"})), INFO),
      (JsonError(ERROR_CODES), NS)}, "SNAP-WH-3"),
    # source
    ("source absent: default", VGA, CONFIG, {(J, PASS)}, "CAPS-PAIR-1"),
    ("source listed", VGA + "&source=internal", CONFIG, {(J, PASS)}, "CAPS-PAIR-1"),
    ("external listed: or error 15", VGA + "&source=external", CONFIG,
     {(J, PASS), (E(15), NS)}, "CAPS-PAIR-1"),
    ("default source external", VGA, DeviceConfig(default_source="external"),
     {(J, PASS), (E(15), NS)}, "CAPS-PAIR-1"),
    ("source unknown", VGA + "&source=front", CONFIG,
     {(E(12, "source"), PASS), (E(12), NS)}, "SNAP-SRC-2"),
    ("source wrong case", VGA + "&source=Internal", CONFIG,
     {(E(12, "source"), PASS), (E(12), NS)}, "SNAP-SRC-2"),
    ("source with a space", VGA + "&source=internal%20", CONFIG,
     {(E(12, "source"), PASS), (E(12), NS)}, "SNAP-SRC-2"),
    ("empty source: default or 12", VGA + "&source=", CONFIG,
     {(J, PASS), (E(12, "source"), PASS), (E(12), NS)}, "CAPS-PAIR-1"),
    # fps
    ("fps=0", VGA + "&fps=0", CONFIG, {(J, PASS)}, "FPS-SINGLE-1"),
    ("0 <= fps < 1", VGA + "&fps=0.5", CONFIG, {(J, PASS)}, "FPS-SINGLE-1"),
    ("fps=-0: zero or refused", VGA + "&fps=-0", CONFIG,
     {(J, PASS), (E(12, "fps"), PASS), (E(12), NS)}, "FPS-SINGLE-1"),
    ("empty fps: absent or 12", VGA + "&fps=", CONFIG,
     {(J, PASS), (E(12, "fps"), PASS), (E(12), NS)}, "CAPS-PAIR-1"),
    ("fps=1 streams", VGA + "&fps=1", CONFIG, {(Stream(640, 480, 1.0), PASS)}, "STREAM-CT-1"),
    ("fps at the maximum", VGA + "&fps=15", CONFIG,
     {(Stream(640, 480, 15.0), PASS)}, "STREAM-CT-1"),
    ("fps above the maximum", VGA + "&fps=16", CONFIG,
     {(E(12, "fps"), PASS), (Stream(640, 480, None), NS), (E(12), NS)}, "FPS-MAX-1"),
    ("huge fps", VGA + "&fps=99999999999999999999", CONFIG,
     {(E(12, "fps"), PASS), (Stream(640, 480, None), NS), (E(12), NS)}, "FPS-MAX-1"),
    ("maximum unknown: fps=1 streams", VGA + "&fps=1", UNKNOWN,
     {(Stream(640, 480, 1.0), PASS)}, "STREAM-CT-1"),
    ("maximum unknown: stream or 12", VGA + "&fps=3", UNKNOWN,
     {(Stream(640, 480, 3.0), PASS), (E(12, "fps"), PASS), (E(12), NS)}, "STREAM-CT-1"),
    ("maximum unknown, past any camera", VGA + "&fps=1001", UNKNOWN,
     {(E(12, "fps"), PASS), (Stream(640, 480, None), NS), (E(12), NS)}, "FPS-MAX-1"),
    ("fps negative", VGA + "&fps=-1", CONFIG, {(E(12, "fps"), PASS), (E(12), NS)}, "FPS-NEG-1"),
    ("fps negative fraction", VGA + "&fps=-0.5", CONFIG,
     {(E(12, "fps"), PASS), (E(12), NS)}, "FPS-NEG-1"),
    ("fps not an integer", VGA + "&fps=2.5", CONFIG,
     {(Stream(640, 480, 2.5), INFO), (J, INFO), (E(12, "fps"), INFO), (E(12), NS)}, "FPS-FRAC-1"),
    ("fps written with .0", VGA + "&fps=2.0", CONFIG,
     {(Stream(640, 480, 2.0), INFO), (J, INFO), (E(12, "fps"), INFO), (E(12), NS)}, "FPS-FRAC-1"),
    ("fps with a '+'", VGA + "&fps=%2B2", CONFIG,
     {(Stream(640, 480, 2.0), PASS), (E(12, "fps"), PASS), (E(12), NS)}, "STREAM-CT-1"),
    ("fps '.5'", VGA + "&fps=.5", CONFIG,
     {(J, PASS), (E(12, "fps"), PASS), (E(12), NS)}, "FPS-SINGLE-1"),
    # time
    ("time in range", VGA + "&time=-5", CONFIG, {(J, PASS)}, "TIME-SINGLE-1"),
    ("time=0 is a time request", "width=1920&height=1080&time=0", CONFIG,
     {(SingleJpeg(1280, 960), PASS)}, "TIME-SINGLE-1"),
    ("time=-0", VGA + "&time=-0", CONFIG, {(J, PASS)}, "TIME-SINGLE-1"),
    ("time=-30", VGA + "&time=-30", CONFIG, {(J, PASS)}, "TIME-SINGLE-1"),
    ("time with fps: fps ignored", VGA + "&time=-5&fps=5", CONFIG, {(J, PASS)}, "TIME-SINGLE-1"),
    ("time=0 with fps", VGA + "&time=0&fps=5", CONFIG, {(J, PASS)}, "TIME-SINGLE-1"),
    ("time with a bad fps", VGA + "&time=-5&fps=-1", CONFIG,
     {(J, PASS), (E(12, "fps"), PASS), (E(12), NS)}, "TIME-SINGLE-1"),
    ("time with fps above the maximum", VGA + "&time=-5&fps=16", CONFIG,
     {(J, PASS), (E(12, "fps"), PASS), (E(12), NS)}, "TIME-SINGLE-1"),
    ("time clamps to 1280x960", "width=1920&height=1080&time=-5", CONFIG,
     {(SingleJpeg(1280, 960), PASS)}, "TIME-SINGLE-1"),
    ("time within 1280x960", "width=1280&height=720&time=-5", CONFIG,
     {(SingleJpeg(1280, 720), PASS)}, "TIME-SINGLE-1"),
    ("time, pair not in caps", "width=1600&height=1200&time=-5", CONFIG, PAIR_ERRORS, "SNAP-WH-1"),
    ("time below the range", VGA + "&time=-31", CONFIG,
     {(E(12, "time"), PASS), (E(12), NS)}, "TIME-RANGE-1"),
    ("time below the range, fraction", VGA + "&time=-30.5", CONFIG,
     {(E(12, "time"), PASS), (E(12), NS)}, "TIME-RANGE-1"),
    ("time positive: 12 or a timestamp", VGA + "&time=5", CONFIG,
     {(E(12, "time"), PASS), (J, NS), (E(15), NS), (E(12), NS)}, "TIME-RANGE-1"),
    ("time not a number", VGA + "&time=yesterday", CONFIG,
     {(E(12, "time"), PASS), (E(12), NS)}, "TIME-RANGE-1"),
    ("time not an integer", VGA + "&time=-2.5", CONFIG,
     {(J, INFO), (E(12, "time"), INFO), (E(12), NS)}, "TIME-FRAC-1"),
    ("empty time: absent or 12", VGA + "&time=", CONFIG,
     {(J, PASS), (E(12, "time"), PASS), (E(12), NS)}, "CAPS-PAIR-1"),
    ("time past the history", VGA + "&time=-5", DeviceConfig(history_s=3.0),
     {(J, PASS), (E(15), PASS)}, "TIME-SINGLE-1"),
    ("history unknown", VGA + "&time=-5", UNKNOWN, {(J, PASS), (E(15), PASS)}, "TIME-SINGLE-1"),
    ("time=0 needs no history", VGA + "&time=0", UNKNOWN, {(J, PASS)}, "TIME-SINGLE-1"),
    # unknown and repeated parameters
    ("unknown extra parameter", VGA + "&quality=50", CONFIG,
     {(J, PASS), *EXTRA_REFUSALS}, "CAPS-PAIR-1"),
    ("repeated width", "width=640&width=320&height=480", CONFIG,
     {(J, INFO), (COLLISION, INFO), (E(12, "width", "height"), INFO), (E(12), NS)},
     "CAPS-PAIR-1"),
    ("repeated identical width", "width=640&width=640&height=480", CONFIG,
     {(J, INFO), (COLLISION, INFO)}, "CAPS-PAIR-1"),
    ("repeated fps", VGA + "&fps=5&fps=-1", CONFIG,
     {(Stream(640, 480, 5.0), INFO), (E(12, "fps"), INFO), (E(12), NS), (COLLISION, INFO)},
     "STREAM-CT-1"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("row", "query", "config", "expected", "clause"), ROWS, ids=[r[0] for r in ROWS]
)
def test_decision_table_row(
    row: str, query: str, config: DeviceConfig, expected: set[tuple[Outcome, Verdict]], clause: str
) -> None:
    assert outcomes(query, config) == expected
    assert primary(query, config) == clause


NOT_INTEGERS = [
    "+640",
    "-640",
    " 640",
    "640 ",
    "640.0",
    "6e2",
    "0x10",
    "\uff16\uff14\uff10",
    "640\n",
    "abc",
    "6 40",
]


@pytest.mark.parametrize("text", NOT_INTEGERS)
def test_width_that_is_not_an_integer_is_error_12(text: str) -> None:
    expectation = expected_outcome("GET", [("width", text), ("height", "480")], CAPS, CONFIG)
    assert {(a.outcome, a.verdict) for a in expectation.alternatives} == {
        (E(12, "width"), PASS),
        (E(12), NS),
    }
    assert expectation.primary_clause == "SNAP-WH-4"


NOT_NUMBERS = ["NaN", "inf", "1e1", "0x10", " 1", "1 ", "abc", "\uff11", "--1", "1.2.3", "\u0663"]


@pytest.mark.parametrize("text", NOT_NUMBERS)
@pytest.mark.parametrize("name", ["fps", "time"])
def test_fps_or_time_that_is_not_a_number_is_error_12(name: str, text: str) -> None:
    params = [("width", "640"), ("height", "480"), (name, text)]
    expectation = expected_outcome("GET", params, CAPS, CONFIG)
    assert {(a.outcome, a.verdict) for a in expectation.alternatives} == {
        (E(12, name), PASS),
        (E(12), NS),
    }


@pytest.mark.parametrize(
    ("query", "outcome", "clauses"),
    [
        (VGA + "&time=-5", J, {"TIME-SINGLE-1", "TIME-SIZE-1"}),
        ("width=1920&height=1080&time=-5", SingleJpeg(1280, 960), {"TIME-CLAMP-1"}),
        (VGA + "&fps=5&source=internal", Stream(640, 480, 5.0), {"STREAM-CT-1", "CAPS-SOURCE-1"}),
        (VGA, J, {"CAPS-PAIR-1", "JPEG-SIZE-1", "SNAP-SRC-1", "SNAP-METHOD-1"}),
    ],
)
def test_success_alternatives_name_the_clauses_they_concern(
    query: str, outcome: Outcome, clauses: set[str]
) -> None:
    expectation = expected_outcome("GET", parse_qsl(query), CAPS, CONFIG)
    (alternative,) = [alt for alt in expectation.alternatives if alt.outcome == outcome]
    assert clauses <= set(alternative.clauses)


@pytest.mark.parametrize("time", ["0", "-5", "-30"])
def test_no_single_reply_claims_a_frame_age(time: str) -> None:
    # A frame's age needs two time codes (suites/test_time.py); one reply never passes it.
    query = VGA + f"&time={time}"
    for alternative in expected_outcome("GET", parse_qsl(query), CAPS, CONFIG).alternatives:
        assert "TIME-AGE-1" not in alternative.clauses


@pytest.mark.parametrize("pair", CAPS.resolutions)
def test_every_advertised_pair_expects_a_jpeg_of_exactly_that_size(pair: tuple[int, int]) -> None:
    width, height = pair
    assert outcomes(f"width={width}&height={height}") == {(SingleJpeg(width, height), PASS)}


def test_a_source_caps_do_not_list_is_error_12() -> None:
    assert outcomes(VGA + "&source=external", caps=INTERNAL_ONLY) == {
        (E(12, "source"), PASS),
        (E(12), NS),
    }


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_get_and_post_with_the_query_expect_the_same(method: str) -> None:
    expectation = expected_outcome(method, [("width", "640"), ("height", "480")], CAPS, CONFIG)
    assert expectation.alternatives == (
        Alternative(
            J,
            PASS,
            ("CAPS-PAIR-1", "JPEG-SIZE-1", "SNAP-SRC-1", "SNAP-METHOD-1"),
            size_clause="JPEG-SIZE-1",
        ),
    )
    assert expectation.otherwise is Verdict.FAIL


def test_post_with_a_form_body_is_a_should() -> None:
    expectation = expected_outcome(
        "POST", [("width", "640"), ("height", "480")], CAPS, CONFIG, form_body=True
    )
    assert expectation.primary_clause == "SNAP-METHOD-2"
    assert expectation.otherwise is Verdict.NON_STRICT
    assert expectation.judge(J).verdict is PASS
    assert expectation.judge(ObservedError(11, "width")).verdict is NS


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "get", "BREW"])
def test_other_methods_should_answer_error_3(method: str) -> None:
    expectation = expected_outcome(method, [("width", "640"), ("height", "480")], CAPS, CONFIG)
    assert {(a.outcome, a.verdict) for a in expectation.alternatives} == {(E(3), PASS)}
    assert expectation.judge(ObservedError(3)).verdict is PASS
    assert expectation.judge(J).verdict is NS
    assert expectation.judge(J).clauses == ("SNAP-METHOD-3",)


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS"])
def test_head_and_options_are_recorded(method: str) -> None:
    expectation = expected_outcome(method, [], CAPS, CONFIG)
    assert {(a.outcome, a.verdict) for a in expectation.alternatives} == {(AnyOutcome(), INFO)}
    assert expectation.judge(None).verdict is INFO


# ---------------------------------------------------------------- judging observed replies


@pytest.mark.parametrize(
    ("query", "observed", "verdict", "clause"),
    [
        (VGA, J, PASS, "CAPS-PAIR-1"),
        (VGA, SingleJpeg(320, 240), Verdict.FAIL, "CAPS-PAIR-1"),
        (VGA, ObservedError(12, "width"), Verdict.FAIL, "CAPS-PAIR-1"),
        (VGA, None, Verdict.FAIL, "CAPS-PAIR-1"),
        (VGA + "&fps=5", Stream(640, 480, 4.1), PASS, "STREAM-CT-1"),
        (VGA + "&fps=5", J, Verdict.FAIL, "STREAM-CT-1"),

        ("width=640&height=240", ObservedError(12, "height"), PASS, "SNAP-WH-1"),
        ("width=640&height=240", ObservedError(12), NS, "SNAP-WH-1"),
        ("width=640&height=240", ObservedError(12, "fps"), NS, "SNAP-WH-1"),
        ("width=640&height=240", ObservedError(11, "width"), Verdict.FAIL, "SNAP-WH-1"),
        ("width=640&height=240", SingleJpeg(640, 240), Verdict.FAIL, "SNAP-WH-1"),
        ("width=640", ObservedError(11), Verdict.FAIL, "SNAP-WH-3"),
        (VGA + "&fps=16", Stream(640, 480, 8.0), NS, "FPS-MAX-1"),
        (VGA + "&quality=50", ObservedError(12, "quality"), INFO, "SNAP-EXTRA-1"),
        (VGA + "&quality=50", ObservedError(14), NS, "SNAP-EXTRA-1"),
        (VGA + "&quality=50", SingleJpeg(320, 240), Verdict.FAIL, "CAPS-PAIR-1"),
        ("width=1920&height=1080&time=-5", SingleJpeg(1920, 1080), Verdict.FAIL, "TIME-SINGLE-1"),
    ],
)
def test_judge_gives_the_best_matching_verdict_or_fails_the_primary_clause(
    query: str, observed: SingleJpeg | Stream | ObservedError | None, verdict: Verdict, clause: str
) -> None:
    judgement = expected_outcome(
        "GET", parse_qsl(query, keep_blank_values=True), CAPS, CONFIG
    ).judge(observed)
    assert judgement.verdict is verdict
    assert judgement.clauses[0] == clause
    assert (judgement.alternative is None) == (verdict is Verdict.FAIL)


# ---------------------------------------------------------------- inputs


API_FACTS_CAPS = {
    "jpegResolution": [{"width": 160, "height": 120}, {"width": 640, "height": 480}],
    "sources": [{"source": "internal"}, {"source": "external"}],
}


def test_caps_from_json_reads_the_manual_example() -> None:
    assert Caps.from_json(API_FACTS_CAPS) == Caps(
        ((160, 120), (640, 480)), ("internal", "external")
    )


@pytest.mark.parametrize(
    "result",
    [
        {"sources": [{"source": "internal"}]},
        {"jpegResolution": {"width": 1}, "sources": [{"source": "internal"}]},
        {"jpegResolution": [{"width": 640.0, "height": 480}], "sources": [{"source": "internal"}]},
        {"jpegResolution": [{"width": True, "height": 480}], "sources": [{"source": "internal"}]},
        {"jpegResolution": [{"width": "640", "height": 480}], "sources": [{"source": "internal"}]},
        {"jpegResolution": [{"width": 0, "height": 480}], "sources": [{"source": "internal"}]},
        {"jpegResolution": [{"w": 640, "h": 480}], "sources": [{"source": "internal"}]},
        {"jpegResolution": [[640, 480]], "sources": [{"source": "internal"}]},
        {"jpegResolution": [{"width": 640, "height": 480}], "sources": [{"name": "internal"}]},
        {"jpegResolution": [{"width": 640, "height": 480}], "sources": [{"source": ""}]},
        {"jpegResolution": [{"width": 640, "height": 480}], "sources": []},
        {"jpegResolution": [], "sources": [{"source": "internal"}]},
    ],
)
def test_caps_from_json_refuses_malformed_caps(result: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"caps|resolution|source"):
        Caps.from_json(result)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"default_source": ""},
        {"max_fps": 0},
        {"max_fps": True},
        {"history_s": -1.0},
        {"history_s": float("inf")},
        {"history_s": float("nan")},
    ],
)
def test_device_config_refuses_impossible_values(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"default_source|max_fps|history_s"):
        DeviceConfig(**kwargs)  # type: ignore[arg-type]


def test_parameters_must_be_pairs_of_strings() -> None:
    with pytest.raises(TypeError, match="pair of strings"):
        expected_outcome("GET", [("width", 640)], CAPS, CONFIG)  # type: ignore[list-item]


def test_alternatives_and_expectations_refuse_impossible_values() -> None:
    with pytest.raises(ValueError, match="PASS, NON-STRICT or INFORMATIONAL"):
        Alternative(J, Verdict.FAIL, ("CAPS-PAIR-1",))
    with pytest.raises(ValueError, match="at least one clause"):
        Alternative(J, PASS, ())
    with pytest.raises(ValueError, match="at least one alternative"):
        Expectation((), "CAPS-PAIR-1")


def test_error_codes_agree_with_the_error_envelope_schema() -> None:
    schema = load_schema("error-envelope")
    assert frozenset(schema["$defs"]["code"]["enum"]) == ERROR_CODES


# ---------------------------------------------------------------- properties

CATALOGUE = load_catalogue()
KNOWN = ["width", "height", "source", "fps", "time"]
PIECES = ["0", "1", "5", "15", "16", "30", "120", "160", "240", "320", "480", "640", "720",
          "960", "1080", "1280", "1920", "-", "+", ".", " ", "e", "x", "internal", "external",
          "Internal", "\uff11", "NaN", "99999999999999999999"]  # fmt: skip
VALUES = st.lists(st.sampled_from(PIECES), max_size=3).map("".join) | st.text(max_size=6)
NAMES = st.sampled_from([*KNOWN, "quality", "Width"]) | st.text(max_size=4)
PARAMS = st.lists(st.tuples(NAMES, VALUES), max_size=7)
METHODS = st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]) | st.text(
    max_size=5
)
CONFIGS = st.builds(
    DeviceConfig,
    default_source=st.sampled_from([None, "internal", "external"]),
    max_fps=st.none() | st.integers(1, 30),
    history_s=st.none() | st.floats(0, 60),
)


def _as_observed(outcome: Outcome) -> SingleJpeg | Stream | ObservedError | None:
    if isinstance(outcome, JsonError):
        return ObservedError(min(outcome.codes), min(outcome.params) if outcome.params else None)
    return None if isinstance(outcome, AnyOutcome) else outcome


@settings(max_examples=300)
@given(method=METHODS, params=PARAMS, config=CONFIGS, form_body=st.booleans())
def test_any_request_has_alternatives_with_catalogued_clauses(
    method: str, params: list[tuple[str, str]], config: DeviceConfig, form_body: bool
) -> None:
    expectation = expected_outcome(method, params, CAPS, config, form_body=form_body)
    assert expectation.alternatives
    assert expectation.primary_clause in CATALOGUE
    assert all(clause in CATALOGUE for alt in expectation.alternatives for clause in alt.clauses)
    for alt in expectation.alternatives:
        judged = expectation.judge(_as_observed(alt.outcome))
        assert SEVERITY_ORDER.index(judged.verdict) >= SEVERITY_ORDER.index(alt.verdict)


@settings(max_examples=300)
@given(params=PARAMS, config=CONFIGS)
def test_images_are_only_ever_expected_at_advertised_sizes(
    params: list[tuple[str, str]], config: DeviceConfig
) -> None:
    allowed = {*CAPS.resolutions, (1280, 960)}
    sizes = {
        (alt.outcome.width, alt.outcome.height)
        for alt in expected_outcome("GET", params, CAPS, config).alternatives
        if isinstance(alt.outcome, SingleJpeg | Stream)
    }
    assert sizes <= allowed


@settings(max_examples=300)
@given(
    width=st.integers(0, 3000),
    height=st.integers(0, 3000),
    rest=st.lists(
        st.tuples(st.sampled_from(["source", "fps", "time", "quality"]), VALUES), max_size=3
    ),
    config=CONFIGS,
)
def test_a_pair_not_in_caps_never_expects_an_image(
    width: int, height: int, rest: list[tuple[str, str]], config: DeviceConfig
) -> None:
    params = [("width", str(width)), ("height", str(height)), *rest]
    expectation = expected_outcome("GET", params, CAPS, config)
    images = [
        alt for alt in expectation.alternatives if isinstance(alt.outcome, SingleJpeg | Stream)
    ]
    assert ((width, height) in CAPS.resolutions) or not images


@settings(max_examples=200)
@given(params=PARAMS, config=CONFIGS)
def test_only_the_order_within_a_name_matters(
    params: list[tuple[str, str]], config: DeviceConfig
) -> None:
    by_name = sorted(params, key=lambda pair: pair[0])
    assert expected_outcome("GET", by_name, CAPS, config) == expected_outcome(
        "GET", params, CAPS, config
    )


@settings(max_examples=200)
@given(params=st.lists(st.tuples(st.sampled_from(KNOWN), VALUES), max_size=6), config=CONFIGS)
def test_an_unknown_parameter_keeps_every_outcome_and_its_verdict(
    params: list[tuple[str, str]], config: DeviceConfig
) -> None:
    plain = {
        a.outcome: a.verdict for a in expected_outcome("GET", params, CAPS, config).alternatives
    }
    extended = expected_outcome("GET", [*params, ("zoom", "2")], CAPS, config).alternatives
    with_extra = {a.outcome: a.verdict for a in extended}
    assert all(with_extra[outcome] is verdict for outcome, verdict in plain.items())


LIMIT_REFUSAL = JsonError(frozenset({14, 18}))


@pytest.mark.parametrize(("streams_open", "refusal"), [(0, None), (1, INFO), (3, INFO)])
def test_a_stream_may_be_refused_for_a_limit_only_beside_the_clients_other_streams(
    streams_open: int, refusal: Verdict | None
) -> None:
    query = parse_qsl(VGA + "&fps=5")
    expectation = expected_outcome("GET", query, CAPS, CONFIG, streams_open=streams_open)
    verdicts = {alt.outcome: alt.verdict for alt in expectation.alternatives}
    assert verdicts[Stream(640, 480, 5.0)] is PASS
    assert verdicts.get(LIMIT_REFUSAL) is refusal
    judged = expectation.judge(ObservedError(18))
    if refusal is None:
        assert (judged.verdict, judged.clauses) == (Verdict.FAIL, ("STREAM-CT-1",))
    else:
        assert (judged.verdict, judged.clauses) == (INFO, ("STREAM-LIMIT-1",))


NO_STREAM = [VGA, VGA + "&fps=0.5", VGA + "&fps=5&time=-1", "width=641&height=480&fps=5"]


@pytest.mark.parametrize("query", NO_STREAM)
def test_a_request_for_no_stream_is_never_refused_for_a_stream_limit(query: str) -> None:
    alternatives = expected_outcome("GET", parse_qsl(query), CAPS, CONFIG, streams_open=2)
    assert all(alt.outcome != LIMIT_REFUSAL for alt in alternatives.alternatives)


@pytest.mark.parametrize(
    ("query", "size_clause"),
    [
        (VGA, "JPEG-SIZE-1"),
        (VGA + "&fps=5", "STREAM-PART-JPEG-1"),
        (VGA + "&time=-5", "TIME-SIZE-1"),
        ("width=1920&height=1080&time=-5", "TIME-CLAMP-1"),
        ("width=1920&height=1080&time=-5&fps=5", "TIME-CLAMP-1"),
        ("width=641&height=480", None),
    ],
)
def test_each_image_names_the_clause_that_judges_its_size(
    query: str, size_clause: str | None
) -> None:
    expectation = expected_outcome("GET", parse_qsl(query), CAPS, CONFIG)
    assert expectation.alternatives[0].size_clause == size_clause
    errors = [alt for alt in expectation.alternatives if isinstance(alt.outcome, JsonError)]
    assert all(alt.size_clause is None for alt in errors)


def test_a_size_clause_is_one_of_the_alternatives_clauses() -> None:
    with pytest.raises(ValueError, match="size clause"):
        Alternative(J, PASS, ("CAPS-PAIR-1",), size_clause="JPEG-SIZE-1")
