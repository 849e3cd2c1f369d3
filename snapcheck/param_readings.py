"""How a conforming device may read the text of one snapshot parameter.

Strategy: a parameter's text (exactly as sent, after percent-decoding) is first sorted by
its *form* (a table of grammars: empty, ASCII digits, decimal number, lenient number,
anything else), then, for numbers, by a *case* (a table of predicates on the value), and
each case maps to its *readings*: the values or faults a conforming device may make of
it, each with the verdict it earns. Where the spec allows several readings (an empty
``width`` is error 11 or 12), there are several readings. The rules are those of
API-FACTS.md's decision table and of the decisions in ``clauses.toml`` (SNAP-WH-4,
FPS-NEG-1, FPS-SINGLE-1, FPS-MAX-1, TIME-RANGE-1, SNAP-REPEAT-1); ``expected.py``
combines the readings of all parameters. Nothing here knows about caps pairs, HTTP or
replies.
"""

from __future__ import annotations

import enum
import itertools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Generic, Never, TypeVar

from snapcheck.verdicts import Verdict

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

SNAPSHOT_PARAMS = ("width", "height", "source", "fps", "time")
# The seed: "The time values must be within the intercom memory range: <-30, 0> seconds."
TIME_RANGE = (Decimal(-30), Decimal(0))
# The largest dimension a JPEG can declare: no caps pair can be larger.
MAX_DIMENSION = 65535
# No camera streams faster; with the maximum unknown, a larger fps is above any maximum.
FPS_CEILING = Decimal(1000)


class Form(enum.Enum):
    """The shape of a parameter's text, before its value is judged."""

    EMPTY = "empty"
    DIGITS = "ASCII digits"
    NUMBER = "decimal number"
    LENIENT = "lenient number"
    OTHER = "not a number"


# First full match wins. Explicit [0-9]: Python's \d would accept full-width digits, and
# fullmatch (not $) refuses a trailing newline.
FORMS: tuple[tuple[Form, re.Pattern[str]], ...] = (
    (Form.EMPTY, re.compile(r"")),
    (Form.DIGITS, re.compile(r"[0-9]+")),
    (Form.NUMBER, re.compile(r"-?[0-9]+(?:\.[0-9]+)?")),
    # '+2', '.5', '2.': a strtod-style reader takes them, a strict one refuses them.
    (Form.LENIENT, re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)")),
)


def form_of(text: str) -> Form:
    """The form of a parameter's text (the first grammar of FORMS it fully matches)."""
    return next((form for form, pattern in FORMS if pattern.fullmatch(text)), Form.OTHER)


@dataclass(frozen=True, slots=True)
class Fault:
    """An error a device may answer: codes, the param it names (None: not judged), clauses."""

    codes: frozenset[int]
    params: frozenset[str] | None
    clauses: tuple[str, ...]
    # The SHOULD clause a missing or wrong param breaks; None when naming it is a MUST.
    param_clause: str | None = "ENV-PARAM-1"


class Timestamp(enum.Enum):
    """time > 0 read as a Unix timestamp, as an older manual does."""

    READING = "timestamp"


class DeviceRate(enum.Enum):
    """fps above the maximum answered by a stream at a rate of the device's choosing."""

    LOWER = "lower rate"


@dataclass(frozen=True, slots=True)
class Reading(Generic[T_co]):
    """One way a device may read one parameter: a value or a fault, and its verdict.

    ``clauses`` are the clauses this reading brings to an outcome built on it (e.g.
    FPS-FRAC-1); ``repeated`` marks a reading of one of several values sent for a name.
    """

    value: T_co | Fault
    verdict: Verdict = Verdict.PASS
    clauses: tuple[str, ...] = ()
    repeated: bool = False


Readings = tuple[Reading[T_co], ...]
Fps = Decimal | DeviceRate | None
Time = Decimal | Timestamp | None


def refused(code: int, name: str, *clauses: str, verdict: Verdict = Verdict.PASS) -> Reading[Never]:
    """A fault reading: error ``code`` naming ``name`` (naming it is a SHOULD); fits any T."""
    return Reading(Fault(frozenset({code}), frozenset({name}), clauses), verdict)


def dimension_readings(name: str, raw: str | None) -> Readings[int]:
    """width or height: ASCII digits, else error 12; missing error 11; empty 11 or 12."""
    if raw is None:
        missing = Fault(frozenset({11}), frozenset({name}), ("SNAP-WH-3",), param_clause=None)
        return (Reading(missing),)
    form = form_of(raw)
    if form is Form.DIGITS:
        digits = raw.lstrip("0") or "0"
        # Only compared with caps (at most 65535): saturate instead of converting huge text.
        return (Reading(int(digits) if len(digits) <= 6 else MAX_DIMENSION + 1),)
    if form is Form.EMPTY:
        as_missing = Fault(frozenset({11}), frozenset({name}), ("SNAP-WH-4",), param_clause=None)
        return (Reading(as_missing), refused(12, name, "SNAP-WH-4"))
    return (refused(12, name, "SNAP-WH-4"),)


def source_readings(raw: str | None, sources: Sequence[str]) -> Readings[str | None]:
    """source: absent or empty is the default (None); a listed name; else error 12."""
    if raw is None:
        return (Reading(None),)
    if raw == "":
        return (Reading(None), refused(12, "source", "SNAP-SRC-2"))
    if raw in sources:
        return (Reading(raw),)
    return (refused(12, "source", "SNAP-SRC-2"),)


@dataclass(frozen=True, slots=True)
class Number:
    """A parameter's text read as a decimal number (exact: Decimal has no size limit)."""

    value: Decimal
    fraction_written: bool


class FpsCase(enum.Enum):
    """The rows of the decision table for an fps that is a number."""

    NEGATIVE_ZERO = "-0"
    NEGATIVE = "fps < 0"
    BELOW_ONE = "0 <= fps < 1"
    ABOVE_MAX = "above the device maximum"
    FRACTION = "not an integer"
    WITHIN_MAX = "1 <= fps <= maximum"
    MAX_UNKNOWN = "1 < fps, maximum unknown"


# First row whose predicate holds wins.
FPS_CASES: tuple[tuple[FpsCase, Callable[[Number, int | None], bool]], ...] = (
    (FpsCase.NEGATIVE_ZERO, lambda n, _: n.value.is_zero() and n.value.is_signed()),
    (FpsCase.NEGATIVE, lambda n, _: n.value < 0),
    (FpsCase.BELOW_ONE, lambda n, _: n.value < 1),
    (FpsCase.ABOVE_MAX, lambda n, top: n.value > (FPS_CEILING if top is None else top)),
    (FpsCase.FRACTION, lambda n, _: n.fraction_written),
    (FpsCase.WITHIN_MAX, lambda n, top: top is not None or n.value == 1),
    (FpsCase.MAX_UNKNOWN, lambda n, _: True),
)

FPS_READINGS: Mapping[FpsCase, Callable[[Decimal], Readings[Fps]]] = {
    FpsCase.NEGATIVE_ZERO: lambda v: (
        Reading(Decimal(0), clauses=("FPS-SINGLE-1",)),
        refused(12, "fps", "FPS-SINGLE-1"),
    ),
    FpsCase.NEGATIVE: lambda v: (refused(12, "fps", "FPS-NEG-1"),),
    FpsCase.BELOW_ONE: lambda v: (Reading(v, clauses=("FPS-SINGLE-1",)),),
    FpsCase.ABOVE_MAX: lambda v: (
        refused(12, "fps", "FPS-MAX-1", "FPS-MAX-2"),
        Reading(DeviceRate.LOWER, Verdict.NON_STRICT, ("FPS-MAX-1",)),
    ),
    FpsCase.FRACTION: lambda v: (
        Reading(v, Verdict.INFORMATIONAL, ("FPS-FRAC-1",)),
        Reading(None, Verdict.INFORMATIONAL, ("FPS-FRAC-1",)),
        refused(12, "fps", "FPS-FRAC-1", verdict=Verdict.INFORMATIONAL),
    ),
    FpsCase.WITHIN_MAX: lambda v: (Reading(v),),
    FpsCase.MAX_UNKNOWN: lambda v: (Reading(v), refused(12, "fps", "FPS-MAX-1", "FPS-MAX-2")),
}


class TimeCase(enum.Enum):
    """The rows of the decision table for a time that is a number."""

    POSITIVE = "time > 0"
    BELOW_RANGE = "time < -30"
    FRACTION = "not an integer"
    IN_RANGE = "-30 <= time <= 0"


TIME_CASES: tuple[tuple[TimeCase, Callable[[Number], bool]], ...] = (
    (TimeCase.POSITIVE, lambda n: n.value > TIME_RANGE[1]),
    (TimeCase.BELOW_RANGE, lambda n: n.value < TIME_RANGE[0]),
    (TimeCase.FRACTION, lambda n: n.fraction_written),
    (TimeCase.IN_RANGE, lambda n: True),
)

TIME_READINGS: Mapping[TimeCase, Callable[[Decimal], Readings[Time]]] = {
    TimeCase.POSITIVE: lambda v: (
        refused(12, "time", "TIME-RANGE-1"),
        Reading(Timestamp.READING, Verdict.NON_STRICT, ("TIME-RANGE-1",)),
    ),
    TimeCase.BELOW_RANGE: lambda v: (refused(12, "time", "TIME-RANGE-1"),),
    TimeCase.FRACTION: lambda v: (
        Reading(v, Verdict.INFORMATIONAL, ("TIME-FRAC-1",)),
        refused(12, "time", "TIME-FRAC-1", verdict=Verdict.INFORMATIONAL),
    ),
    TimeCase.IN_RANGE: lambda v: (Reading(v),),
}


def fps_readings(raw: str | None, max_fps: int | None) -> Readings[Fps]:
    """fps: absent, empty, not a number, lenient, or a row of FPS_CASES."""

    def by_value(number: Number) -> Readings[Fps]:
        case = next(case for case, applies in FPS_CASES if applies(number, max_fps))
        return FPS_READINGS[case](number.value)

    return _number_readings("fps", raw, by_value, "FPS-NEG-1")


def time_readings(raw: str | None) -> Readings[Time]:
    """time: absent, empty, not a number, lenient, or a row of TIME_CASES."""

    def by_value(number: Number) -> Readings[Time]:
        case = next(case for case, applies in TIME_CASES if applies(number))
        return TIME_READINGS[case](number.value)

    return _number_readings("time", raw, by_value, "TIME-RANGE-1")


def _number_readings(
    name: str, raw: str | None, by_value: Callable[[Number], Readings[T]], bad_clause: str
) -> Readings[T | None]:
    if raw is None:
        return (Reading(None),)
    form = form_of(raw)
    if form is Form.EMPTY:
        return (Reading(None), refused(12, name, bad_clause))
    if form is Form.OTHER:
        return (refused(12, name, bad_clause),)
    readings = by_value(Number(Decimal(raw), "." in raw))
    if form is Form.LENIENT:
        return (*readings, refused(12, name, bad_clause))
    return readings


def repeatable(raws: Sequence[str], read: Callable[[str | None], Readings[T]]) -> Readings[T]:
    """Readings of a name sent zero, one or several times (SNAP-REPEAT-1)."""
    if len(raws) <= 1:
        return read(raws[0] if raws else None)
    # A repeated name: the first value or the last may win, or the repeat may be refused.
    either = (*read(raws[0]), *read(raws[-1]))
    recorded = [replace(r, verdict=Verdict.INFORMATIONAL, repeated=True) for r in either]
    collision: Reading[T] = Reading(
        Fault(frozenset({12, 17}), None, ("SNAP-REPEAT-1",)), Verdict.INFORMATIONAL
    )
    return tuple(dict.fromkeys([*recorded, collision]))


@dataclass(frozen=True, slots=True)
class RequestReadings:
    """The readings of every known parameter of one request."""

    width: Readings[int]
    height: Readings[int]
    source: Readings[str | None]
    fps: Readings[Fps]
    time: Readings[Time]

    @classmethod
    def read(
        cls, values: Mapping[str, Sequence[str]], sources: Sequence[str], max_fps: int | None
    ) -> RequestReadings:
        """Read each parameter's values (none, one or several, in order sent)."""
        return cls(
            width=repeatable(values["width"], lambda raw: dimension_readings("width", raw)),
            height=repeatable(values["height"], lambda raw: dimension_readings("height", raw)),
            source=repeatable(values["source"], lambda raw: source_readings(raw, sources)),
            fps=repeatable(values["fps"], lambda raw: fps_readings(raw, max_fps)),
            time=repeatable(values["time"], time_readings),
        )

    def every(self) -> Iterator[Reading[object]]:
        """Every reading of every parameter."""
        return itertools.chain(self.width, self.height, self.source, self.fps, self.time)
