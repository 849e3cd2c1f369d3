"""The expected-outcome model: what a conforming device may answer to a snapshot request.

Strategy: ``expected_outcome`` is a pure function from the request exactly as sent
(method, parameters in order with repeats), the device's caps and its declared
configuration to an ``Expectation``: the set of acceptable outcomes, each with the verdict
it earns and the clauses it concerns. A reply matching none of them earns the
expectation's ``otherwise`` (FAIL) for its primary clause. Every rule is a row of
API-FACTS.md's decision table or a decision written in the clause catalogue
(``clauses.toml``); this module only encodes them. Nothing here touches HTTP, JPEG bytes
or the clock.

How it works: ``param_readings`` reads each parameter's text into *readings*, the ways a
conforming device may understand it, each with a verdict. Here every fault reading is an
acceptable error by itself (a device reports one fault of several), a width x height not
advertised is one more fault, and every combination of value readings with an
advertised pair is an acceptable success, judged by its worst reading.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TypeVar

from snapcheck.param_readings import (
    MAX_DIMENSION,
    SNAPSHOT_PARAMS,
    DeviceRate,
    Fault,
    Fps,
    Reading,
    Readings,
    RequestReadings,
    Time,
    Timestamp,
)
from snapcheck.verdicts import SEVERITY_ORDER, Verdict, worst

T = TypeVar("T")

# The manual's error codes (there is no code 6); schemas/error-envelope.schema.json agrees.
ERROR_CODES = frozenset({1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17, 18, 19})
# The seed: with time, "snapshots of the maximum resolution of 1280x960 px".
HISTORY_MAX_SIZE = (1280, 960)
# How a device refuses a stream beyond its limit on concurrent streams (STREAM-LIMIT-1).
STREAM_LIMIT_CODES = frozenset({14, 18})

_ALTERNATIVE_VERDICTS = frozenset({Verdict.PASS, Verdict.NON_STRICT, Verdict.INFORMATIONAL})
# Higher is better: PASS ranks highest (SEVERITY_ORDER lists the worst first).
_RANK = {verdict: SEVERITY_ORDER.index(verdict) for verdict in SEVERITY_ORDER}


# ---------------------------------------------------------------- outcomes


@dataclass(frozen=True, slots=True)
class SingleJpeg:
    """One image/jpeg of exactly this size."""

    width: int
    height: int

    def accepts(self, observed: Observed) -> bool:
        """Whether an observed reply is this outcome."""
        return isinstance(observed, SingleJpeg) and observed == self


@dataclass(frozen=True, slots=True)
class Stream:
    """A multipart/x-mixed-replace stream of JPEGs of this size.

    ``fps`` is the rate the stream clauses judge against; None when the rate is the
    device's choice (a lower-rate stream for fps above the maximum). Matching compares
    sizes only: an observation's ``fps`` is whatever was measured.
    """

    width: int
    height: int
    fps: float | None

    def accepts(self, observed: Observed) -> bool:
        """Whether an observed reply is a stream of this size."""
        return isinstance(observed, Stream) and (observed.width, observed.height) == (
            self.width,
            self.height,
        )


@dataclass(frozen=True, slots=True)
class JsonError:
    """The error envelope with one of ``codes``; ``param`` one of ``params`` (None: any or none)."""

    codes: frozenset[int]
    params: frozenset[str] | None = None

    def accepts(self, observed: Observed) -> bool:
        """Whether an observed error has an acceptable code and param."""
        if not isinstance(observed, ObservedError) or observed.code not in self.codes:
            return False
        return self.params is None or observed.param in self.params


@dataclass(frozen=True, slots=True)
class AnyOutcome:
    """Whatever the device answers (rows whose outcome is only recorded)."""

    def accepts(self, observed: Observed) -> bool:
        """Every reply is this outcome."""
        return True


Outcome = SingleJpeg | Stream | JsonError | AnyOutcome


@dataclass(frozen=True, slots=True)
class ObservedError:
    """An error envelope as a device sent it: its code and its param (None when absent)."""

    code: int
    param: str | None = None


# What a check saw: an image, a stream, an error, or None for a reply of no such kind.
Observed = SingleJpeg | Stream | ObservedError | None


@dataclass(frozen=True, slots=True)
class Alternative:
    """One acceptable outcome, the verdict it earns, and the clauses it concerns.

    ``size_clause`` (images and streams) is the clause among ``clauses`` that judges the
    size: JPEG-SIZE-1, TIME-SIZE-1, TIME-CLAMP-1 or STREAM-PART-JPEG-1. The wire checks
    judge a reply of the kind against it, matched or not (a frame not clamped fails
    TIME-CLAMP-1 beside the primary clause).
    """

    outcome: Outcome
    verdict: Verdict
    clauses: tuple[str, ...]
    size_clause: str | None = None

    def __post_init__(self) -> None:
        if self.verdict not in _ALTERNATIVE_VERDICTS:
            raise ValueError(
                f"an alternative earns PASS, NON-STRICT or INFORMATIONAL, not {self.verdict}"
            )
        if not self.clauses:
            raise ValueError("an alternative concerns at least one clause")
        if self.size_clause is not None and self.size_clause not in self.clauses:
            raise ValueError(f"the size clause {self.size_clause} is one of {self.clauses}")


@dataclass(frozen=True, slots=True)
class Judgement:
    """The verdict for one observed reply, the clauses it concerns, and the alternative matched."""

    verdict: Verdict
    clauses: tuple[str, ...]
    alternative: Alternative | None


@dataclass(frozen=True, slots=True)
class Expectation:
    """The acceptable outcomes; any other reply earns ``otherwise`` for the primary clause."""

    alternatives: tuple[Alternative, ...]
    primary_clause: str
    otherwise: Verdict = Verdict.FAIL

    def __post_init__(self) -> None:
        if not self.alternatives:
            raise ValueError("an expectation needs at least one alternative")

    def judge(self, observed: Observed) -> Judgement:
        """The best verdict any alternative gives the observed reply, else ``otherwise``."""
        matches = [alt for alt in self.alternatives if alt.outcome.accepts(observed)]
        if not matches:
            return Judgement(self.otherwise, (self.primary_clause,), None)
        best = max(matches, key=lambda alt: _RANK[alt.verdict])
        return Judgement(best.verdict, best.clauses, best)


# ---------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True)
class Caps:
    """What /api/camera/caps advertises: the (width, height) pairs and the source names."""

    resolutions: tuple[tuple[int, int], ...]
    sources: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.resolutions or not self.sources:
            raise ValueError("caps advertise at least one resolution and one source")
        for pair in self.resolutions:
            if len(pair) != 2 or not all(_is_dimension(value) for value in pair):
                raise ValueError(f"a resolution is two integers 1..{MAX_DIMENSION}, not {pair!r}")
        if not all(isinstance(name, str) and name for name in self.sources):
            raise ValueError(f"a source is a non-empty string: {self.sources!r}")

    @classmethod
    def from_json(cls, result: Mapping[str, object]) -> Caps:
        """Caps from the ``result`` member of a caps reply; ValueError when it is malformed."""
        return cls(
            resolutions=tuple(
                (_json_member(item, "width", int), _json_member(item, "height", int))
                for item in _json_list(result, "jpegResolution")
            ),
            sources=tuple(
                _json_member(item, "source", str) for item in _json_list(result, "sources")
            ),
        )


def _is_dimension(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_DIMENSION


def _json_list(result: Mapping[str, object], key: str) -> list[object]:
    if not isinstance(result, Mapping):
        raise ValueError(f"caps result must be an object, not {type(result).__name__}")
    value = result.get(key)
    if not isinstance(value, list):
        raise ValueError(f"caps result member {key!r} must be a list, not {value!r}")
    return value


def _json_member(item: object, key: str, kind: type[T]) -> T:
    value = item.get(key) if isinstance(item, Mapping) else None
    # bool is an int in Python but not a number in JSON; 640.0 is refused as CAPS-SCHEMA-1 does.
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"caps entry {item!r} needs {key!r} of type {kind.__name__}")
    return value


@dataclass(frozen=True, slots=True)
class DeviceConfig:
    """What the device declares or the user tells; None means unknown (learned by probing)."""

    default_source: str | None = None
    max_fps: int | None = None
    history_s: float | None = None

    def __post_init__(self) -> None:
        if self.default_source is not None and not self.default_source:
            raise ValueError("default_source is a source name or None")
        if self.max_fps is not None and (isinstance(self.max_fps, bool) or self.max_fps < 1):
            raise ValueError(f"max_fps is an integer of at least 1 or None, not {self.max_fps!r}")
        if self.history_s is not None and not 0 <= self.history_s < float("inf"):
            raise ValueError(
                f"history_s is a finite number of seconds >= 0, not {self.history_s!r}"
            )


# ---------------------------------------------------------------- the model


class _MethodRow(enum.Enum):
    SERVE = "GET and POST serve the snapshot (SNAP-METHOD-1)"
    RECORD = "HEAD and OPTIONS are recorded (SNAP-METHOD-4)"
    REFUSE = "any other method SHOULD answer error 3 (SNAP-METHOD-3)"


# Method names are case-sensitive (RFC 9110): anything not listed is refused like PUT.
_METHODS: Mapping[str, _MethodRow] = {
    "GET": _MethodRow.SERVE,
    "POST": _MethodRow.SERVE,
    "HEAD": _MethodRow.RECORD,
    "OPTIONS": _MethodRow.RECORD,
}

_METHOD_EXPECTATIONS: Mapping[_MethodRow, Expectation] = {
    _MethodRow.RECORD: Expectation(
        (Alternative(AnyOutcome(), Verdict.INFORMATIONAL, ("SNAP-METHOD-4",)),),
        "SNAP-METHOD-4",
        Verdict.INFORMATIONAL,
    ),
    _MethodRow.REFUSE: Expectation(
        (Alternative(JsonError(frozenset({3})), Verdict.PASS, ("SNAP-METHOD-3",)),),
        "SNAP-METHOD-3",
        Verdict.NON_STRICT,
    ),
}


def expected_outcome(
    method: str,
    params: Sequence[tuple[str, str]],
    caps: Caps,
    config: DeviceConfig,
    *,
    form_body: bool = False,
    streams_open: int = 0,
) -> Expectation:
    """The acceptable outcomes of a snapshot request, exactly as sent, on this device.

    ``form_body`` says a POST carried its parameters in a form body (SNAP-METHOD-2, a
    SHOULD): a reply matching no alternative is then NON-STRICT instead of FAIL.
    ``streams_open`` counts the other streams the client itself held open to the device
    when it sent the request: with one or more, a stream may be refused for the device's
    limit on concurrent streams (STREAM-LIMIT-1, INFORMATIONAL).
    """
    row = _METHODS.get(method, _MethodRow.REFUSE)
    if row is not _MethodRow.SERVE:
        return _METHOD_EXPECTATIONS[row]
    in_body = form_body and method == "POST"
    values, extras = _split(params)
    readings = RequestReadings.read(values, caps.sources, config.max_fps)
    found = [
        *_successes(
            readings, caps, config, "SNAP-METHOD-2" if in_body else "SNAP-METHOD-1", streams_open
        ),
        *_faults(readings),
        *_pair_faults(readings, caps),
    ]
    alternatives = _ranked(_with_extras(found, extras))
    if in_body:
        return Expectation(alternatives, "SNAP-METHOD-2", Verdict.NON_STRICT)
    return Expectation(alternatives, alternatives[0].clauses[0])


def _split(params: Sequence[tuple[str, str]]) -> tuple[dict[str, list[str]], tuple[str, ...]]:
    """The values of each known parameter in order sent, and the unknown names."""
    values: dict[str, list[str]] = {name: [] for name in SNAPSHOT_PARAMS}
    extras: dict[str, None] = {}
    for pair in params:
        if len(pair) != 2 or not all(isinstance(part, str) for part in pair):
            raise TypeError(f"a parameter is a (name, value) pair of strings, not {pair!r}")
        name, value = pair
        if name in values:
            values[name].append(value)
        else:
            extras[name] = None
    return values, tuple(extras)


def _values(readings: Readings[T]) -> list[tuple[T, Reading[T]]]:
    return [(r.value, r) for r in readings if not isinstance(r.value, Fault)]


# fps as read when time is given: the seed says "the fps parameter is ignored".
_FPS_IGNORED: Reading[None] = Reading(None)


def _successes(
    readings: RequestReadings,
    caps: Caps,
    config: DeviceConfig,
    method_clause: str,
    streams_open: int = 0,
) -> Iterator[Alternative]:
    pairs = set(caps.resolutions)
    for (width, w), (height, h), (source, s), (time, t) in itertools.product(
        _values(readings.width),
        _values(readings.height),
        _values(readings.source),
        _values(readings.time),
    ):
        if (width, height) not in pairs:
            continue
        fps_values = [(None, _FPS_IGNORED)] if time is not None else _values(readings.fps)
        for fps, f in fps_values:
            used = (w, h, s, t, f)
            # The source and method clauses concern the images, not an error 15.
            main = (*_source_clauses(source), method_clause)
            for outcome, clauses in _served(width, height, fps, time, config):
                if isinstance(outcome, SingleJpeg | Stream):
                    # _served names an image's size clause last.
                    yield _alternative(outcome, used, (*clauses, *main), size=clauses[-1])
                else:
                    yield _alternative(outcome, used, clauses)
                if isinstance(outcome, Stream) and streams_open > 0:
                    refused = JsonError(STREAM_LIMIT_CODES)
                    limit = ("STREAM-LIMIT-1",)
                    yield _alternative(refused, used, limit, floor=Verdict.INFORMATIONAL)
            if (source or config.default_source) == "external":
                unreachable = JsonError(frozenset({15}))
                yield _alternative(
                    unreachable, used, ("SNAP-SRC-3", "CAPS-SOURCE-1"), floor=Verdict.NON_STRICT
                )


def _source_clauses(source: str | None) -> tuple[str, ...]:
    return ("SNAP-SRC-1",) if source is None else ("CAPS-SOURCE-1",)


def _served(
    width: int,
    height: int,
    fps: Fps,
    time: Time,
    config: DeviceConfig,
) -> list[tuple[Outcome, tuple[str, ...]]]:
    """What a valid request is served: time first (it makes fps ignored), then fps.

    An image's or a stream's clauses name its size clause last.
    """
    if time is not None:
        return _history(width, height, time, config)
    if fps is DeviceRate.LOWER:
        return [(Stream(width, height, None), ("STREAM-CT-1", "STREAM-PART-JPEG-1"))]
    if fps is not None and fps >= 1:
        return [(Stream(width, height, float(fps)), ("STREAM-CT-1", "STREAM-PART-JPEG-1"))]
    return [(SingleJpeg(width, height), ("CAPS-PAIR-1", "JPEG-SIZE-1"))]


def _history(
    width: int, height: int, time: Decimal | Timestamp, config: DeviceConfig
) -> list[tuple[Outcome, tuple[str, ...]]]:
    max_width, max_height = HISTORY_MAX_SIZE
    clamped = width > max_width or height > max_height
    image = SingleJpeg(*(HISTORY_MAX_SIZE if clamped else (width, height)))
    size_clause = "TIME-CLAMP-1" if clamped else "TIME-SIZE-1"
    no_data = JsonError(frozenset({15}))
    if time is Timestamp.READING:
        # A Unix timestamp: that frame, or no data for a moment not in memory.
        return [(image, (size_clause,)), (no_data, ("TIME-HISTORY-1",))]
    # TIME-AGE-1 is not claimed here: one reply cannot show a frame's age; the time
    # suite judges it from two time codes.
    served: list[tuple[Outcome, tuple[str, ...]]] = [(image, ("TIME-SINGLE-1", size_clause))]
    if time < 0 and (config.history_s is None or -time > config.history_s):
        served.append((no_data, ("TIME-HISTORY-1",)))
    return served


def _alternative(
    outcome: Outcome,
    used: Iterable[Reading[object]],
    clauses: tuple[str, ...],
    *,
    floor: Verdict = Verdict.PASS,
    size: str | None = None,
) -> Alternative:
    """An outcome built on readings: their worst verdict, their clauses around ``clauses``."""
    used = tuple(used)
    lead = tuple(clause for r in used for clause in r.clauses)
    tail = ("SNAP-REPEAT-1",) if any(r.repeated for r in used) else ()
    verdict = worst((floor, *(r.verdict for r in used)))
    return Alternative(
        outcome, verdict, tuple(dict.fromkeys((*lead, *clauses, *tail))), size_clause=size
    )


def _faults(readings: RequestReadings) -> Iterator[Alternative]:
    for reading in readings.every():
        if isinstance(reading.value, Fault):
            yield from _errors(reading.value, (reading,))


def _errors(fault: Fault, used: tuple[Reading[object], ...]) -> Iterator[Alternative]:
    """A fault's error; with the param it names, and, where naming it is a SHOULD, without."""
    yield _alternative(JsonError(fault.codes, fault.params), used, fault.clauses)
    if fault.params is not None and fault.param_clause is not None:
        clauses = (*fault.clauses, fault.param_clause)
        yield _alternative(JsonError(fault.codes), used, clauses, floor=Verdict.NON_STRICT)


def _pair_faults(readings: RequestReadings, caps: Caps) -> Iterator[Alternative]:
    """Error 12 for a pair not in caps, and for a lone dimension no pair uses."""
    pairs = set(caps.resolutions)
    either = frozenset({"width", "height"})
    for (width, w), (height, h) in itertools.product(
        _values(readings.width), _values(readings.height)
    ):
        if (width, height) not in pairs:
            yield from _errors(Fault(frozenset({12}), either, ("SNAP-WH-1",), "SNAP-WH-2"), (w, h))
    sides = (
        ("width", readings.width, readings.height, 0),
        ("height", readings.height, readings.width, 1),
    )
    for name, mine, other, index in sides:
        if all(not isinstance(r.value, Fault) for r in other):
            continue
        used_values = {pair[index] for pair in pairs}
        for value, reading in _values(mine):
            if value not in used_values:
                lone = Fault(frozenset({12}), frozenset({name}), ("SNAP-WH-1",), "SNAP-WH-2")
                yield from _errors(lone, (reading,))


def _with_extras(alternatives: list[Alternative], extras: tuple[str, ...]) -> list[Alternative]:
    """With unknown parameters: the same outcomes, or a refusal of them (SNAP-EXTRA-1)."""
    if not extras:
        return alternatives
    tagged = [replace(alt, clauses=(*alt.clauses, "SNAP-EXTRA-1")) for alt in alternatives]
    return [
        *tagged,
        Alternative(
            JsonError(ERROR_CODES, frozenset(extras)), Verdict.INFORMATIONAL, ("SNAP-EXTRA-1",)
        ),
        Alternative(JsonError(ERROR_CODES), Verdict.NON_STRICT, ("SNAP-EXTRA-1",)),
    ]


def _ranked(alternatives: Iterable[Alternative]) -> tuple[Alternative, ...]:
    """One alternative per outcome (its best verdict), best first, else in order found."""
    best: dict[Outcome, Alternative] = {}
    for alt in alternatives:
        kept = best.get(alt.outcome)
        if kept is None or _RANK[alt.verdict] > _RANK[kept.verdict]:
            best[alt.outcome] = alt
    return tuple(sorted(best.values(), key=lambda alt: -_RANK[alt.verdict]))
