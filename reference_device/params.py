"""Reading and validating the parameters of ``/api/camera/snapshot``.

Strategy: parameters arrive as ``application/x-www-form-urlencoded`` text (the query, and
for POST also a form body). They are split here by our own reader, so that odd
percent-encoding or invalid UTF-8 becomes a parameter's fault (error 12), never a crash.
Each parameter is one row of ``SNAPSHOT_PARAMS``: its name, whether it is mandatory and
the parser that turns its text into a value or raises ``ValueError`` with the reason.
Nothing here knows about HTTP or the camera; the result is a ``SnapshotRequest`` or the
``ApiError`` the device must send.

Decisions where the manual is silent (each one is a clause of the catalogue):

- Parameter names are case-sensitive; unknown parameters (``quality``) are ignored.
- A repeated parameter: the first value wins; the query comes before the form body.
- An empty value (``width=``) is read as the parameter being absent: error 11 for width
  and height, the default for source, fps and time.
- Parameters are checked one by one in table order (width, height, source, fps, time),
  the first fault is reported; then the width/height pair is checked against caps and a
  pair not in caps is error 12 with ``param`` = ``width``.
- width/height: ASCII decimal digits only (no sign, no spaces, no ``640.0``).
- fps and time are decimal numbers (``2.5`` and ``-2.5`` are accepted as floats; no
  exponent, no ``inf``/``nan``). fps below 1 means a single JPEG; fps >= 1 streams at
  that (fractional) rate; fps above the profile's maximum is error 12. time must lie in
  [-30, 0]; with time, fps is ignored and a size larger than 1280x960 in either
  dimension is served as exactly 1280x960.
- A value whose percent-decoding is not valid UTF-8 is error 12 for that parameter.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar
from urllib.parse import unquote_to_bytes

from reference_device.envelope import ApiError, ErrorCode
from reference_device.profile import Profile

T = TypeVar("T")

# The manual: "the function returns snapshots of the maximum resolution of 1280x960".
HISTORY_MAX_SIZE = (1280, 960)
# The manual: "The time values must be within the intercom memory range: <-30, 0>".
TIME_RANGE = (-30.0, 0.0)

_DIGITS = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
# Longer numbers cannot be valid and would only cost time to convert.
_MAX_NUMBER_CHARS = 32


@dataclass(frozen=True, slots=True)
class Undecodable:
    """A value whose percent-decoded bytes are not UTF-8 (kept raw for the message)."""

    raw: bytes


RawValue = str | Undecodable


@dataclass(frozen=True, slots=True)
class RawParams:
    """Parameters as sent, in order, repeats kept; ``first`` is the value the device uses."""

    items: tuple[tuple[str, RawValue], ...] = ()

    def first(self, name: str) -> RawValue | None:
        """The first value given for ``name`` (first wins), or None when absent."""
        return next((value for key, value in self.items if key == name), None)

    def __add__(self, other: RawParams) -> RawParams:
        return RawParams(self.items + other.items)


def parse_urlencoded(text: str | bytes) -> RawParams:
    """Split form-urlencoded text into parameters without ever raising on odd input."""
    data = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
    return RawParams(tuple(_pairs(data)))


def _pairs(data: bytes) -> Iterator[tuple[str, RawValue]]:
    for piece in data.split(b"&"):
        if not piece:
            continue
        raw_name, _, raw_value = piece.partition(b"=")
        name = _decode(raw_name)
        # A name that is not UTF-8 cannot be a parameter we know: it is ignored.
        if isinstance(name, str):
            yield name, _decode(raw_value)


def _decode(raw: bytes) -> RawValue:
    # Malformed escapes such as %ZZ are kept literally (as browsers and Python do).
    unquoted = unquote_to_bytes(raw.replace(b"+", b" "))
    try:
        return unquoted.decode("utf-8")
    except UnicodeDecodeError:
        return Undecodable(unquoted)


class Mode(enum.Enum):
    """What a valid snapshot request asks for."""

    SINGLE = "single"
    STREAM = "stream"
    HISTORY = "history"


@dataclass(frozen=True, slots=True)
class SnapshotRequest:
    """A valid snapshot request: every value checked against the device's profile."""

    width: int
    height: int
    source: str
    fps: float | None = None
    time: float | None = None
    # The size to serve instead of the contract's: only a deliberate fault sets it.
    size: tuple[int, int] | None = None

    @property
    def mode(self) -> Mode:
        """time wins over fps (the manual: with time "the fps parameter is ignored")."""
        if self.time is not None:
            return Mode.HISTORY
        if self.fps is not None and self.fps >= 1:
            return Mode.STREAM
        return Mode.SINGLE

    @property
    def served_size(self) -> tuple[int, int]:
        """The size of the JPEG sent: clamped to 1280x960 only for time requests."""
        if self.size is not None:
            return self.size
        max_width, max_height = HISTORY_MAX_SIZE
        if self.mode is Mode.HISTORY and (self.width > max_width or self.height > max_height):
            return HISTORY_MAX_SIZE
        return self.width, self.height


class ParamFault(Exception):
    """A parameter is missing or invalid; carries the error reply the device sends."""

    def __init__(self, error: ApiError) -> None:
        super().__init__(error.text)
        self.error = error


@dataclass(frozen=True, slots=True)
class Param(Generic[T]):
    """One row of the parameter table: a name, whether it is mandatory, and its parser."""

    name: str
    mandatory: bool
    parse: Callable[[str, Profile], T]

    def read(self, params: RawParams, profile: Profile) -> T | None:
        """The parsed value, None when absent or empty; raises ParamFault on a fault."""
        raw = params.first(self.name)
        if raw is None or raw == "":
            if self.mandatory:
                raise ParamFault(ApiError(ErrorCode.MISSING_PARAMETER, self.name))
            return None
        if isinstance(raw, Undecodable):
            raise ParamFault(_invalid(self.name, "value is not valid UTF-8"))
        try:
            return self.parse(raw, profile)
        except ValueError as exc:
            raise ParamFault(_invalid(self.name, str(exc))) from None


def _invalid(name: str, reason: str) -> ApiError:
    return ApiError(ErrorCode.INVALID_PARAMETER, name, f"invalid parameter value: {name} {reason}")


def _dimension(raw: str, profile: Profile) -> int:
    if len(raw) > _MAX_NUMBER_CHARS or not _DIGITS.fullmatch(raw):
        raise ValueError("is not a decimal integer")
    return int(raw)


def parse_decimal(raw: str) -> float:
    """A decimal number as fps and time accept it (ValueError with the reason otherwise)."""
    if len(raw) > _MAX_NUMBER_CHARS or not _DECIMAL.fullmatch(raw):
        raise ValueError("is not a decimal number")
    return float(raw)


def _source(raw: str, profile: Profile) -> str:
    names = tuple(mode.name for mode in profile.sources)
    if raw not in names:
        raise ValueError(f"is not a source listed in caps ({', '.join(names)})")
    return raw


def _fps(raw: str, profile: Profile) -> float:
    value = parse_decimal(raw)
    if value < 0:
        raise ValueError("is negative")
    if value > profile.max_fps:
        raise ValueError(f"is above the maximum of {profile.max_fps}")
    return value


def _time(raw: str, profile: Profile) -> float:
    value = parse_decimal(raw)
    low, high = TIME_RANGE
    if not low <= value <= high:
        raise ValueError("is outside [-30, 0]")
    return value


# The table: order is the order of checking, and so which fault is reported first.
SNAPSHOT_PARAMS: tuple[Param[Any], ...] = (
    Param("width", mandatory=True, parse=_dimension),
    Param("height", mandatory=True, parse=_dimension),
    Param("source", mandatory=False, parse=_source),
    Param("fps", mandatory=False, parse=_fps),
    Param("time", mandatory=False, parse=_time),
)


# Which pair a valid width and height are served at: None refuses them (error 12).
PairRule = Callable[[int, int, Profile], tuple[int, int] | None]


def listed_pair(width: int, height: int, profile: Profile) -> tuple[int, int] | None:
    """The pair itself when caps list it, else None."""
    return (width, height) if (width, height) in profile.resolutions else None


@dataclass(frozen=True, slots=True)
class SnapshotRules:
    """How a device validates: the parameter table and the caps-pair rule (faults vary them)."""

    params: tuple[Param[Any], ...] = SNAPSHOT_PARAMS
    pair: PairRule = listed_pair


STRICT_RULES = SnapshotRules()


def parse_snapshot(
    params: RawParams, profile: Profile, rules: SnapshotRules = STRICT_RULES
) -> SnapshotRequest | ApiError:
    """Validate snapshot parameters against the profile: the request, or the error to send."""
    try:
        values: dict[str, Any] = {p.name: p.read(params, profile) for p in rules.params}
    except ParamFault as fault:
        return fault.error
    if values["source"] is None:
        values["source"] = profile.default_source
    request = SnapshotRequest(**values)
    pair = rules.pair(request.width, request.height, profile)
    if pair is None:
        # Decision: a pair missing from caps is blamed on width, the first of the two.
        return ApiError(
            ErrorCode.INVALID_PARAMETER,
            "width",
            f"invalid parameter value: {request.width}x{request.height} is not listed in caps",
        )
    if pair != (request.width, request.height):
        return replace(request, width=pair[0], height=pair[1])
    return request
