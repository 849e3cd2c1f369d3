"""Tests of how parameter text is read: the grammar table, the value cases, repeats."""

from __future__ import annotations

from decimal import Decimal

import pytest

from snapcheck.param_readings import (
    FPS_CASES,
    MAX_DIMENSION,
    SNAPSHOT_PARAMS,
    TIME_CASES,
    DeviceRate,
    Fault,
    Form,
    FpsCase,
    Number,
    Reading,
    RequestReadings,
    TimeCase,
    Timestamp,
    dimension_readings,
    form_of,
    fps_readings,
    repeatable,
    source_readings,
    time_readings,
)
from snapcheck.verdicts import Verdict


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("", Form.EMPTY),
        ("0", Form.DIGITS),
        ("0640", Form.DIGITS),
        ("99999999999999999999", Form.DIGITS),
        ("-0", Form.NUMBER),
        ("-5", Form.NUMBER),
        ("2.5", Form.NUMBER),
        ("-2.50", Form.NUMBER),
        ("+2", Form.LENIENT),
        (".5", Form.LENIENT),
        ("2.", Form.LENIENT),
        ("-.5", Form.LENIENT),
        ("1e3", Form.OTHER),
        (" 1", Form.OTHER),
        ("1 ", Form.OTHER),
        ("1\n", Form.OTHER),
        ("\uff11", Form.OTHER),
        ("\u0663", Form.OTHER),
        ("0x10", Form.OTHER),
        ("NaN", Form.OTHER),
        ("inf", Form.OTHER),
        (".", Form.OTHER),
        ("+", Form.OTHER),
        ("--1", Form.OTHER),
    ],
)
def test_form_of_text(text: str, form: Form) -> None:
    assert form_of(text) is form


def test_a_missing_dimension_must_be_named() -> None:
    (reading,) = dimension_readings("height", None)
    assert reading.value == Fault(frozenset({11}), frozenset({"height"}), ("SNAP-WH-3",), None)


def test_huge_dimensions_saturate_past_any_jpeg() -> None:
    assert dimension_readings("width", "0" * 50 + "9" * 5000) == (Reading(MAX_DIMENSION + 1),)
    assert dimension_readings("width", "000640") == (Reading(640),)


def test_an_empty_source_is_the_default_or_refused() -> None:
    default, refused = source_readings("", ("internal",))
    assert default == Reading(None)
    assert isinstance(refused.value, Fault)
    assert refused.value.codes == frozenset({12})


@pytest.mark.parametrize(
    ("value", "max_fps", "case"),
    [
        ("-0", 15, FpsCase.NEGATIVE_ZERO),
        ("-0.0", None, FpsCase.NEGATIVE_ZERO),
        ("-0.5", 15, FpsCase.NEGATIVE),
        ("0", 15, FpsCase.BELOW_ONE),
        ("0.99", 15, FpsCase.BELOW_ONE),
        ("1", None, FpsCase.WITHIN_MAX),
        ("15", 15, FpsCase.WITHIN_MAX),
        ("16", 15, FpsCase.ABOVE_MAX),
        ("15.5", 15, FpsCase.ABOVE_MAX),
        ("2.5", 15, FpsCase.FRACTION),
        ("1.0", 15, FpsCase.FRACTION),
        ("2", None, FpsCase.MAX_UNKNOWN),
        ("1000", None, FpsCase.MAX_UNKNOWN),
        ("1001", None, FpsCase.ABOVE_MAX),
    ],
)
def test_fps_cases_in_table_order(value: str, max_fps: int | None, case: FpsCase) -> None:
    number = Number(Decimal(value), "." in value)
    assert next(row for row, applies in FPS_CASES if applies(number, max_fps)) is case


@pytest.mark.parametrize(
    ("value", "case"),
    [
        ("0.5", TimeCase.POSITIVE),
        ("1764036000", TimeCase.POSITIVE),
        ("-31", TimeCase.BELOW_RANGE),
        ("-30.01", TimeCase.BELOW_RANGE),
        ("-30", TimeCase.IN_RANGE),
        ("-0", TimeCase.IN_RANGE),
        ("-2.5", TimeCase.FRACTION),
        ("-5.0", TimeCase.FRACTION),
    ],
)
def test_time_cases_in_table_order(value: str, case: TimeCase) -> None:
    number = Number(Decimal(value), "." in value)
    assert next(row for row, applies in TIME_CASES if applies(number)) is case


def test_fps_above_the_maximum_reads_as_12_or_a_lower_rate_stream() -> None:
    refused, stream = fps_readings("16", 15)
    assert isinstance(refused.value, Fault)
    assert refused.value.clauses == ("FPS-MAX-1", "FPS-MAX-2")
    assert stream == Reading(DeviceRate.LOWER, Verdict.NON_STRICT, ("FPS-MAX-1",))


def test_a_lenient_number_may_also_be_refused() -> None:
    value, refused = fps_readings("+2", 15)
    assert value == Reading(Decimal(2))
    assert refused.verdict is Verdict.PASS
    assert isinstance(refused.value, Fault)


def test_a_positive_time_reads_as_12_or_a_timestamp() -> None:
    refused, stamp = time_readings("1764036000")
    assert isinstance(refused.value, Fault)
    assert stamp == Reading(Timestamp.READING, Verdict.NON_STRICT, ("TIME-RANGE-1",))


def test_a_single_value_is_read_as_sent() -> None:
    assert repeatable(["640"], lambda raw: dimension_readings("width", raw)) == (Reading(640),)


def test_repeats_read_first_or_last_or_a_collision_all_recorded() -> None:
    readings = repeatable(["640", "999", "320"], lambda raw: dimension_readings("width", raw))
    assert readings == (
        Reading(640, Verdict.INFORMATIONAL, repeated=True),
        Reading(320, Verdict.INFORMATIONAL, repeated=True),
        Reading(Fault(frozenset({12, 17}), None, ("SNAP-REPEAT-1",)), Verdict.INFORMATIONAL),
    )


def test_request_readings_cover_every_parameter() -> None:
    values: dict[str, list[str]] = {name: [] for name in SNAPSHOT_PARAMS}
    values |= {"width": ["640"], "height": ["480"]}
    readings = RequestReadings.read(values, ("internal",), 15)
    assert list(readings.every()) == [Reading(640), Reading(480), *(Reading(None),) * 3]
