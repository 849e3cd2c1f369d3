"""How much of a profiled run was spent inside chosen modules, from a cProfile file.

Strategy: cProfile records, per function, its own time and, per caller, the cumulative
time of the calls that caller made. The time spent inside a set of modules is the
cumulative time of every call that *enters* the set from outside it (caller outside,
callee inside), so a check calling the JPEG walk calling Pillow is counted once, and what
the set calls (Pillow, zxing) is counted as its own. The total is the sum of every
function's own time: the whole profiled thread, from start to end. Where code inside the
set calls out and something outside calls back in, that inner call is counted again, so
the share is an upper bound; the report says so.

A cProfile file is a ``marshal`` dump of ``{(file, line, name): (cc, nc, tt, ct,
callers)}`` with ``callers = {(file, line, name): (cc, nc, tt, ct)}``; it is read as such.

What never belongs here: running the profiled program, judging the share.
"""

from __future__ import annotations

import marshal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

FunctionKey = tuple[str, int, str]
# (primitive calls, calls, own time, cumulative time) of one caller -> callee edge.
EdgeStats = tuple[int, int, float, float]
FunctionStats = tuple[int, int, float, float, Mapping[FunctionKey, EdgeStats]]
ProfileStats = Mapping[FunctionKey, FunctionStats]


@dataclass(frozen=True, slots=True)
class Share:
    """Seconds spent inside the chosen modules, per module and in all, out of a total."""

    inside_s: float
    total_s: float
    by_module: Mapping[str, float]

    @property
    def fraction(self) -> float:
        """The inside time over the total time."""
        if self.total_s <= 0:
            raise ValueError("the profile holds no time at all")
        return self.inside_s / self.total_s


def module_of(filename: str, modules: Sequence[str]) -> str | None:
    """Which of ``modules`` (path suffixes: ``pkg/mod.py`` or a folder ``pkg/sub/``) holds it."""
    path = "/" + filename.replace("\\", "/")
    for module in modules:
        if (module.endswith("/") and "/" + module in path) or path.endswith("/" + module):
            return module
    return None


def share_of(stats: ProfileStats, modules: Sequence[str]) -> Share:
    """The time spent inside ``modules``, counted at the calls that enter them."""
    if not modules:
        raise ValueError("name at least one module to measure")
    inside = {key: module_of(key[0], modules) for key in stats}
    by_module = dict.fromkeys(modules, 0.0)
    for key, (_, _, _, _, callers) in stats.items():
        module = inside[key]
        if module is None:
            continue
        for caller, (_, _, _, cumulative) in callers.items():
            if inside.get(caller) is None:
                by_module[module] += cumulative
    total = sum(own for _, _, own, _, _ in stats.values())
    return Share(sum(by_module.values()), total, MappingProxyType(by_module))


def load_stats(path: Path) -> ProfileStats:
    """The statistics in a file written by ``python -m cProfile -o PATH``."""
    with path.open("rb") as file:
        loaded: Any = marshal.load(file)
    if not isinstance(loaded, dict):
        raise ValueError(f"{path} is not a cProfile statistics file")
    return loaded
