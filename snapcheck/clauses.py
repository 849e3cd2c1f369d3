"""The clause catalogue: every requirement snapcheck judges, loaded from ``clauses.toml``.

Strategy: the requirements are data. ``clauses.toml`` beside this module holds every
clause once (ID, quoted requirement, level, source, area, the clients a violation breaks,
and the decision where the spec is silent); this module only loads it into typed values
and refuses a catalogue that is malformed, so that a typo fails at load time rather than
in a report. Code names a clause by its ID string; a test checks every such string
against the catalogue. Nothing here knows about HTTP, devices or verdicts of a run.
"""

from __future__ import annotations

import difflib
import enum
import functools
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType

from snapcheck.verdicts import Level

# IDs are quoted in reports and bug trackers, so their shape is fixed.
CLAUSE_ID_PATTERN = re.compile(r"^[A-Z]+(-[A-Z0-9]+)*-[0-9]+$")

CATALOGUE_RESOURCE = "clauses.toml"

_REQUIRED_KEYS = frozenset({"id", "requirement", "level", "source", "area"})
_OPTIONAL_KEYS = frozenset({"breaks", "decision"})


class Area(enum.StrEnum):
    """The part of the contract a clause belongs to (reports group by it)."""

    ENVELOPE = "envelope"
    CAPS = "caps"
    PARAMETERS = "parameters"
    JPEG = "jpeg"
    STREAM = "stream"
    FPS = "fps"
    TIME = "time"
    ACCESS = "access"
    TRANSPORT = "transport"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Clause:
    """One requirement: what it says, how strongly it binds, where it comes from."""

    id: str
    requirement: str
    level: Level
    source: str
    area: Area
    breaks: tuple[str, ...] = ()
    decision: str | None = None


@dataclass(frozen=True, slots=True)
class Catalogue:
    """Every clause, in file order, with lookup by ID and by area."""

    clauses: tuple[Clause, ...]
    clients: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    _index: Mapping[str, Clause] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        index: dict[str, Clause] = {}
        for clause in self.clauses:
            if clause.id in index:
                raise ValueError(f"clause ID {clause.id} is defined twice")
            index[clause.id] = clause
        object.__setattr__(self, "_index", MappingProxyType(index))

    def get(self, clause_id: str) -> Clause:
        """The clause with this ID; KeyError naming the nearest IDs when there is none."""
        try:
            return self._index[clause_id]
        except KeyError:
            near = difflib.get_close_matches(clause_id, list(self._index), n=3)
            hint = f" (did you mean {', '.join(near)}?)" if near else ""
            raise KeyError(
                f"unknown clause ID {clause_id!r}: not in the catalogue {CATALOGUE_RESOURCE}{hint}"
            ) from None

    def __iter__(self) -> Iterator[Clause]:
        return iter(self.clauses)

    def __len__(self) -> int:
        return len(self.clauses)

    def __contains__(self, clause_id: object) -> bool:
        return clause_id in self._index

    @property
    def ids(self) -> tuple[str, ...]:
        """Every clause ID, in file order."""
        return tuple(clause.id for clause in self.clauses)

    def by_area(self, area: Area | str) -> tuple[Clause, ...]:
        """The clauses of one area, in file order (ValueError for an unknown area)."""
        wanted = Area(area)
        return tuple(clause for clause in self.clauses if clause.area is wanted)


def parse_catalogue(text: str) -> Catalogue:
    """Parse and validate catalogue TOML text; ValueError says which clause is wrong."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"the clause catalogue is not valid TOML: {exc}") from exc
    clients = _clients(data.get("clients", {}))
    entries = data.get("clause")
    if not isinstance(entries, list) or not entries:
        raise ValueError("the clause catalogue needs at least one [[clause]] table")
    clauses = tuple(_clause(entry, position, clients) for position, entry in enumerate(entries))
    return Catalogue(clauses, MappingProxyType(clients))


@functools.cache
def load_catalogue(path: Path | None = None) -> Catalogue:
    """The catalogue shipped with snapcheck (or the one at ``path``), validated and cached."""
    if path is None:
        text = resources.files("snapcheck").joinpath(CATALOGUE_RESOURCE).read_text("utf-8")
    else:
        text = path.read_text("utf-8")
    return parse_catalogue(text)


def _clients(raw: object) -> dict[str, str]:
    if not isinstance(raw, dict) or not all(
        isinstance(name, str) and isinstance(text, str) and text for name, text in raw.items()
    ):
        raise ValueError("[clients] must map each client name to a non-empty description")
    return dict(raw)


def _clause(entry: object, position: int, clients: Mapping[str, str]) -> Clause:
    if not isinstance(entry, dict):
        raise ValueError(f"clause #{position + 1} is not a table")
    where = f"clause #{position + 1} ({entry.get('id', 'no id')})"
    missing = _REQUIRED_KEYS - entry.keys()
    unknown = entry.keys() - _REQUIRED_KEYS - _OPTIONAL_KEYS
    if missing or unknown:
        raise ValueError(f"{where}: missing keys {sorted(missing)}, unknown keys {sorted(unknown)}")
    clause_id = _text(entry, "id", where)
    if not CLAUSE_ID_PATTERN.fullmatch(clause_id):
        raise ValueError(f"{where}: ID does not match {CLAUSE_ID_PATTERN.pattern}")
    try:
        level = Level(entry["level"])
        area = Area(entry["area"])
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from exc
    breaks = entry.get("breaks", [])
    if not isinstance(breaks, list) or not all(isinstance(name, str) for name in breaks):
        raise ValueError(f"{where}: breaks must be a list of client names")
    strangers = [name for name in breaks if name not in clients]
    if strangers:
        raise ValueError(f"{where}: breaks names clients not in [clients]: {strangers}")
    decision = _text(entry, "decision", where) if "decision" in entry else None
    return Clause(
        id=clause_id,
        requirement=_text(entry, "requirement", where),
        level=level,
        source=_text(entry, "source", where),
        area=area,
        breaks=tuple(breaks),
        decision=decision,
    )


def _text(entry: Mapping[str, object], key: str, where: str) -> str:
    value = entry[key]
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: {key} must be a non-empty string")
    return value
