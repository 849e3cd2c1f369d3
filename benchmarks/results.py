"""What a benchmark reports: figures, the ratios it is judged by, and the printed report.

Strategy: a benchmark returns one ``Section`` of plain values: ``Figure``s (what was
measured, with a unit and how many samples) and ``Judgement``s (a ratio or a figure held
against a one-sided bound). Every target of issue 8 is a one-sided bound, including the
"flat within +-5%" one, which is judged as ``|deviation| <= 0.05``. Medians are taken
here, once, with a clear error when there is nothing to take a median of.

What never belongs here: measuring, sockets, processes.
"""

from __future__ import annotations

import enum
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class Bound(enum.Enum):
    """Which side of its limit a judged value must lie on."""

    AT_MOST = "<="
    AT_LEAST = ">="


# Whether a value meets its limit, per kind of bound.
_MEETS = {
    Bound.AT_MOST: lambda value, limit: value <= limit,
    Bound.AT_LEAST: lambda value, limit: value >= limit,
}


@dataclass(frozen=True, slots=True)
class Figure:
    """One measured value: what it is, its value, its unit, and how it was obtained."""

    label: str
    value: float
    unit: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class Judgement:
    """A value held against a target's limit."""

    label: str
    value: float
    bound: Bound
    limit: float
    unit: str = "x"

    @property
    def passed(self) -> bool:
        """Whether the value meets the limit."""
        return bool(_MEETS[self.bound](self.value, self.limit))


@dataclass(frozen=True, slots=True)
class Section:
    """Everything one benchmark reports: its figures and its judgements."""

    title: str
    figures: tuple[Figure, ...]
    judgements: tuple[Judgement, ...]
    notes: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        """Whether every judgement of the section passed."""
        return all(judgement.passed for judgement in self.judgements)


def median(values: Iterable[float], what: str) -> float:
    """The median of ``values``; ValueError naming ``what`` when there are none."""
    samples = list(values)
    if not samples:
        raise ValueError(f"no samples of {what} to take a median of")
    return statistics.median(samples)


def ratio(numerator: float, denominator: float, what: str) -> float:
    """``numerator / denominator``; ValueError naming ``what`` when the denominator is 0."""
    if denominator <= 0:
        raise ValueError(f"cannot form the ratio {what}: the denominator is {denominator!r}")
    return numerator / denominator


def format_value(value: float, unit: str) -> str:
    """A value with its unit, to a precision that suits its size."""
    if unit == "x":
        return f"{value:.3f}"
    if unit == "%":
        return f"{value:.1f} %"
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    return f"{value:.{digits}f} {unit}"


def format_section(section: Section, *, indicative: bool = False) -> str:
    """The section as the lines of the printed report."""
    lines = [section.title]
    width = max([len(f.label) for f in section.figures + section.judgements] + [40]) + 2
    for figure in section.figures:
        note = f"  ({figure.note})" if figure.note else ""
        lines.append(f"  {figure.label:<{width}}{format_value(figure.value, figure.unit)}{note}")
    for judgement in section.judgements:
        lines.append("  " + format_judgement(judgement, width, indicative=indicative))
    lines.extend(f"  note: {note}" for note in section.notes)
    return "\n".join(lines)


def format_judgement(judgement: Judgement, width: int = 40, *, indicative: bool = False) -> str:
    """One judgement as ``label  value <= limit  PASS`` (``MISS`` when missed)."""
    verdict = "PASS" if judgement.passed else "MISS"
    if indicative:
        verdict += " (indicative)"
    value = format_value(judgement.value, judgement.unit)
    limit = format_value(judgement.limit, judgement.unit)
    return f"{judgement.label:<{width}}{value}  {judgement.bound.value} {limit}  {verdict}"


def format_summary(sections: Sequence[Section], *, indicative: bool = False) -> str:
    """One line per judgement of every section: the table at the end of a run."""
    judgements = [(s.title, j) for s in sections for j in s.judgements]
    if not judgements:
        return "summary\n  no target was judged"
    width = max(len(j.label) for _, j in judgements) + 2
    lines = ["summary"]
    for title, judgement in judgements:
        name = title.split(":", 1)[0]
        line = format_judgement(judgement, width, indicative=indicative)
        lines.append(f"  {name:<14}{line}")
    return "\n".join(lines)
