"""Device profiles: which intercom model the reference device emulates.

Strategy: a profile is a TOML file (``reference_device/profiles/<name>.toml`` or any path)
read with ``tomllib`` and checked field by field against the schema tables below before
anything else sees it. Every problem is a ``ProfileError`` whose message names the file
and the field, so a typo never turns into a device that behaves oddly. The result is a
frozen ``Profile``; nothing downstream re-validates it.

Layout of a profile file (see the shipped ones)::

    max_fps = 15                  # fps above this is refused (error 12)
    max_streams = 4               # optional; streams served at once (default: no limit)
    default_source = "internal"   # must be one of [[sources]]
    server_header = "HIP2.35.0.45.0"   # optional; default "HIP" + system_info.swVersion
    resolutions = [{ width = 640, height = 480 }, ...]   # caps order, as advertised
    [[sources]]                   # advertised sources with their native mode
    name = "internal"
    width = 1920
    height = 1080
    fps = 15
    [[sustainable_fps]]           # optional; absent resolutions sustain max_fps
    width = 1280
    height = 960
    fps = 2
    [system_info]                 # every /api/system/info field, all strings

This module knows nothing of frames, clocks or HTTP.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

SYSTEM_INFO_FIELDS: tuple[str, ...] = (
    "devType",
    "variant",
    "variantId",
    "customerId",
    "serialNumber",
    "macAddr",
    "hwVersion",
    "swVersion",
    "buildType",
    "firmwarePackage",
    "deviceName",
)

# A source name becomes upper case in the time code, whose SOURCE field is [A-Z0-9]+.
_SOURCE_NAME = re.compile(r"[a-z0-9]+")


class ProfileError(ValueError):
    """A profile file is missing, is not TOML, or breaks the schema."""


@dataclass(frozen=True, slots=True)
class SourceMode:
    """An advertised video source and the native mode its sensor captures in."""

    name: str
    width: int
    height: int
    fps: float


@dataclass(frozen=True, slots=True)
class Profile:
    """One emulated intercom model: caps, sources, limits and identity."""

    name: str
    variant: str
    resolutions: tuple[tuple[int, int], ...]
    sources: tuple[SourceMode, ...]
    default_source: str
    max_fps: int
    sustainable_fps: Mapping[tuple[int, int], float]
    system_info: Mapping[str, str]
    server_header: str
    max_streams: int | None = None

    def sustainable_rate(self, width: int, height: int) -> float:
        """The stream rate this model sustains at a size (``max_fps`` unless listed)."""
        return self.sustainable_fps.get((width, height), float(self.max_fps))

    def source(self, name: str) -> SourceMode:
        """The advertised source called ``name``; ValueError when not advertised."""
        for mode in self.sources:
            if mode.name == name:
                return mode
        known = ", ".join(mode.name for mode in self.sources)
        raise ValueError(f"profile {self.name!r} has no source {name!r} (it has: {known})")


# --- schema tables ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Kind:
    description: str
    accepts: Callable[[object], bool]


def _is_int(value: object) -> bool:
    # bool is an int subclass in Python, but `width = true` is a mistake, not a 1.
    return isinstance(value, int) and not isinstance(value, bool)


_INT = _Kind("an integer", _is_int)
_NUMBER = _Kind("a number", lambda v: _is_int(v) or isinstance(v, float))
_STRING = _Kind("a string", lambda v: isinstance(v, str))
_LIST = _Kind("an array", lambda v: isinstance(v, list))
_TABLE = _Kind("a table", lambda v: isinstance(v, dict))


@dataclass(frozen=True, slots=True)
class _Field:
    kind: _Kind
    required: bool = True


_TOP_LEVEL: Mapping[str, _Field] = {
    "max_fps": _Field(_INT),
    "max_streams": _Field(_INT, required=False),
    "default_source": _Field(_STRING),
    "server_header": _Field(_STRING, required=False),
    "resolutions": _Field(_LIST),
    "sources": _Field(_LIST),
    "sustainable_fps": _Field(_LIST, required=False),
    "system_info": _Field(_TABLE),
}
_RESOLUTION: Mapping[str, _Field] = {"width": _Field(_INT), "height": _Field(_INT)}
_SOURCE: Mapping[str, _Field] = {
    "name": _Field(_STRING),
    "width": _Field(_INT),
    "height": _Field(_INT),
    "fps": _Field(_NUMBER),
}
_SUSTAINABLE: Mapping[str, _Field] = {
    "width": _Field(_INT),
    "height": _Field(_INT),
    "fps": _Field(_NUMBER),
}
_SYSTEM_INFO: Mapping[str, _Field] = {key: _Field(_STRING) for key in SYSTEM_INFO_FIELDS}


# --- loading ---------------------------------------------------------------------------


# Beside this module rather than via importlib.resources, which fails when the package is
# imported as a namespace package (an editable install made before __init__.py existed).
SHIPPED_PROFILES = Path(__file__).with_name("profiles")


def profile_names() -> tuple[str, ...]:
    """The names of the shipped profiles, sorted."""
    return tuple(sorted(path.stem for path in SHIPPED_PROFILES.glob("*.toml")))


def load_profile(name_or_path: str) -> Profile:
    """A shipped profile by name (``default``, ``verso``, ``minimal``) or a ``.toml`` path."""
    if name_or_path in profile_names():
        shipped = SHIPPED_PROFILES / f"{name_or_path}.toml"
        return parse_profile(shipped.read_text(encoding="utf-8"), origin=str(shipped))
    if not name_or_path.endswith(".toml"):
        known = ", ".join(profile_names())
        raise ProfileError(
            f"{name_or_path}: no such profile; known profiles: {known} (or a path to a .toml file)"
        )
    path = Path(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: cannot read the profile: {exc}") from exc
    return parse_profile(text, origin=str(path))


def parse_profile(text: str, *, origin: str) -> Profile:
    """Parse and validate a profile's TOML text; ``origin`` names it in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{origin}: not valid TOML: {exc}") from exc
    try:
        return _build(data, name=Path(origin).stem)
    except _SchemaError as exc:
        raise ProfileError(f"{origin}: {exc}") from None


class _SchemaError(Exception):
    """A schema problem, before the file name is prefixed."""


def _build(data: dict[str, Any], *, name: str) -> Profile:
    _check_table(data, _TOP_LEVEL, where="the top level")
    max_fps = data["max_fps"]
    if max_fps < 1:
        raise _SchemaError(f"max_fps must be at least 1, got {max_fps}")
    resolutions = _resolutions(data["resolutions"])
    sources = _sources(data["sources"])
    names = [mode.name for mode in sources]
    if data["default_source"] not in names:
        raise _SchemaError(
            f"default_source {data['default_source']!r} is not one of the sources "
            f"({', '.join(names)})"
        )
    sustainable = _sustainable(data.get("sustainable_fps", []), resolutions, max_fps)
    info = data["system_info"]
    _check_table(info, _SYSTEM_INFO, where="[system_info]")
    header = data.get("server_header", f"HIP{info['swVersion']}")
    if not header.strip():
        raise _SchemaError("server_header must not be empty")
    max_streams = data.get("max_streams")
    if max_streams is not None and max_streams < 1:
        raise _SchemaError(f"max_streams must be at least 1, got {max_streams}")
    return Profile(
        name=name,
        variant=info["variant"],
        resolutions=resolutions,
        sources=sources,
        default_source=data["default_source"],
        max_fps=max_fps,
        sustainable_fps=MappingProxyType(sustainable),
        system_info=MappingProxyType(dict(info)),
        server_header=header,
        max_streams=max_streams,
    )


def _resolutions(entries: list[Any]) -> tuple[tuple[int, int], ...]:
    if not entries:
        raise _SchemaError("resolutions must list at least one size")
    sizes: list[tuple[int, int]] = []
    for index, entry in enumerate(entries):
        where = f"resolutions[{index}]"
        _check_entry(entry, _RESOLUTION, where)
        size = _size(entry, where)
        if size in sizes:
            raise _SchemaError(f"{where}: {size[0]}x{size[1]} is listed twice")
        sizes.append(size)
    return tuple(sizes)


def _sources(entries: list[Any]) -> tuple[SourceMode, ...]:
    if not entries:
        raise _SchemaError("sources must list at least one source")
    modes: list[SourceMode] = []
    for index, entry in enumerate(entries):
        where = f"sources[{index}]"
        _check_entry(entry, _SOURCE, where)
        name = entry["name"]
        if not _SOURCE_NAME.fullmatch(name):
            raise _SchemaError(f"{where}.name must match [a-z0-9]+, got {name!r}")
        if any(mode.name == name for mode in modes):
            raise _SchemaError(f"{where}: source {name!r} is listed twice")
        width, height = _size(entry, where)
        modes.append(SourceMode(name, width, height, _positive_fps(entry["fps"], where)))
    return tuple(modes)


def _sustainable(
    entries: list[Any], resolutions: tuple[tuple[int, int], ...], max_fps: int
) -> dict[tuple[int, int], float]:
    rates: dict[tuple[int, int], float] = {}
    for index, entry in enumerate(entries):
        where = f"sustainable_fps[{index}]"
        _check_entry(entry, _SUSTAINABLE, where)
        size = _size(entry, where)
        if size not in resolutions:
            raise _SchemaError(f"{where}: {size[0]}x{size[1]} is not one of the resolutions")
        if size in rates:
            raise _SchemaError(f"{where}: {size[0]}x{size[1]} is listed twice")
        fps = _positive_fps(entry["fps"], where)
        if fps > max_fps:
            raise _SchemaError(f"{where}.fps {fps:g} exceeds max_fps {max_fps}")
        rates[size] = fps
    return rates


def _check_entry(entry: object, schema: Mapping[str, _Field], where: str) -> None:
    if not isinstance(entry, dict):
        raise _SchemaError(f"{where} must be a table, got {_toml_type(entry)}")
    _check_table(entry, schema, where=where)


def _check_table(table: dict[str, Any], schema: Mapping[str, _Field], *, where: str) -> None:
    unknown = sorted(set(table) - set(schema))
    if unknown:
        raise _SchemaError(
            f"unknown key {unknown[0]!r} in {where} (known keys: {', '.join(schema)})"
        )
    for key, spec in schema.items():
        if key not in table:
            if spec.required:
                raise _SchemaError(f"missing key {key!r} in {where}")
            continue
        if not spec.kind.accepts(table[key]):
            raise _SchemaError(
                f"{key!r} in {where} must be {spec.kind.description}, "
                f"got {_toml_type(table[key])} {table[key]!r}"
            )


def _size(entry: dict[str, Any], where: str) -> tuple[int, int]:
    width, height = entry["width"], entry["height"]
    if width < 1 or height < 1:
        raise _SchemaError(f"{where}: width and height must be positive, got {width}x{height}")
    return width, height


def _positive_fps(value: float, where: str) -> float:
    if not 0 < value < float("inf"):
        raise _SchemaError(f"{where}.fps must be a positive number, got {value!r}")
    return float(value)


_TOML_TYPES: Mapping[type, str] = {
    bool: "a boolean",
    int: "an integer",
    float: "a float",
    str: "a string",
    list: "an array",
    dict: "a table",
}


def _toml_type(value: object) -> str:
    return _TOML_TYPES.get(type(value), f"a {type(value).__name__}")
