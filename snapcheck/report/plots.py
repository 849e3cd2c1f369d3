"""The report's plots, drawn with matplotlib's Agg canvas and embedded as PNG data URIs.

Strategy: each plot is a function from the report document's artifacts (plain JSON
data, so a re-rendered report draws the same plots) to a ``Plot`` or None when the run
gathered nothing to draw. Figures are built with the object API (``Figure`` on a
``FigureCanvasAgg``), never pyplot, so no global state or GUI backend is touched and
plots can be drawn from any thread. Numbers shown beside the plots (``StreamStats``)
come from the same arrival times. Nothing here judges: the plots show what the checks
judged, with the contract's tolerances drawn in.
"""

from __future__ import annotations

import base64
import io
import math
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, Literal

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from PIL import Image

DPI = 110
WIDTH_IN = 7.4
# Plots are flat colours and anti-aliased lines: a 128-colour palette keeps them sharp at
# about a third of the bytes of a true-colour PNG.
PNG_COLOURS = 128
# API-FACTS: the achieved rate must be within ±20 % of fps; a time-shifted frame within 1 s.
RATE_TOLERANCE = 0.20
AGE_TOLERANCE_S = 1.0
MAX_HISTOGRAMS = 12
HISTOGRAM_BINS = 20
HISTOGRAM_COLUMNS = 3
PALETTE = ("#1f5fa8", "#d9822b", "#2e8b57", "#b03a2e", "#7d4fa0", "#5f6b73",
           "#c0a000", "#17a2b8", "#8c564b", "#e377c2")
INK, GRID, BAND = "#1d2329", "#d8dde3", "#e4ecf5"

Artifact = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Plot:
    """One embedded figure: an anchor name, a title, a caption and the PNG data URI."""

    name: str
    title: str
    caption: str
    uri: str


@dataclass(frozen=True, slots=True)
class StreamStats:
    """One stream's timing in figures: rate, interval mean, jitter and longest gap."""

    label: str
    resolution: str
    source: str
    requested_fps: float | None
    achieved_fps: float
    parts: int
    window_s: float
    intervals_ms: tuple[float, ...]

    @classmethod
    def of(cls, stream: Artifact) -> StreamStats:
        """The figures of one ``stream`` artifact."""
        arrivals = [float(t) for t in stream["arrivals_s"]]
        fps = stream.get("requested_fps")
        resolution, source = str(stream.get("resolution")), str(stream.get("source"))
        asked = f"{fps:g} fps" if fps is not None else "device rate"
        return cls(
            label=f"{resolution} {source}, {asked}",
            resolution=resolution,
            source=source,
            requested_fps=None if fps is None else float(fps),
            achieved_fps=float(stream["achieved_fps"]),
            parts=int(stream["parts"]),
            window_s=float(stream["window_s"]),
            intervals_ms=tuple((b - a) * 1000 for a, b in pairwise(arrivals)),
        )

    @property
    def mean_interval_ms(self) -> float | None:
        """The mean time between parts."""
        return statistics.fmean(self.intervals_ms) if self.intervals_ms else None

    @property
    def jitter_ms(self) -> float | None:
        """The standard deviation of the time between parts."""
        return statistics.pstdev(self.intervals_ms) if len(self.intervals_ms) > 1 else None

    @property
    def max_gap_ms(self) -> float | None:
        """The longest time between two parts."""
        return max(self.intervals_ms) if self.intervals_ms else None


def _figure(height_in: float, layout: Literal["constrained"] | None = "constrained") -> Figure:
    figure = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI, layout=layout)
    FigureCanvasAgg(figure)
    return figure


def _style(axes: Any, xlabel: str, ylabel: str) -> None:
    axes.set_xlabel(xlabel, color=INK, fontsize=9)
    axes.set_ylabel(ylabel, color=INK, fontsize=9)
    axes.tick_params(labelsize=8, colors=INK)
    axes.grid(True, color=GRID, linewidth=0.6)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)


def _png(figure: Figure) -> str:
    drawn = io.BytesIO()
    figure.savefig(drawn, format="png", dpi=DPI, facecolor="white")
    with Image.open(drawn) as image:
        palette = image.convert("RGB").quantize(colors=PNG_COLOURS)
    small = io.BytesIO()
    palette.save(small, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(small.getvalue()).decode("ascii")


def _colours(labels: Iterable[str]) -> dict[str, str]:
    return {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(dict.fromkeys(labels))}


def fps_plot(streams: Sequence[Artifact]) -> Plot | None:
    """Achieved against requested frame rate, one point per stream, the ±20 % band drawn."""
    stats = [StreamStats.of(s) for s in streams if s.get("requested_fps") is not None]
    if not stats:
        return None
    figure = _figure(3.3)
    axes = figure.add_subplot()
    top = max(*(s.requested_fps or 0.0 for s in stats), *(s.achieved_fps for s in stats)) * 1.1
    line = [0.0, top]
    axes.fill_between(line, [x * (1 - RATE_TOLERANCE) for x in line],
                      [x * (1 + RATE_TOLERANCE) for x in line], color=BAND, label="±20 %")
    axes.plot(line, line, color="#8a96a3", linewidth=1, linestyle="--",
              label="achieved = requested")
    colours = _colours(s.resolution for s in stats)
    for resolution, colour in colours.items():
        chosen = [s for s in stats if s.resolution == resolution]
        axes.scatter([s.requested_fps or 0.0 for s in chosen], [s.achieved_fps for s in chosen],
                     s=28, color=colour, alpha=0.85, edgecolors="white", linewidths=0.6,
                     label=resolution, zorder=3)
    axes.set_xlim(0, top)
    axes.set_ylim(0, top)
    _style(axes, "requested fps", "achieved fps (parts per second)")
    axes.legend(fontsize=7, frameon=False, loc="upper left", ncols=2)
    return Plot("plot-fps", "Achieved against requested frame rate",
                f"{len(stats)} streams; each point is one stream read for its window. The band "
                "is the ±20 % the contract allows (STREAM-RATE-1).", _png(figure))


def _distinct(stats: Iterable[StreamStats]) -> list[StreamStats]:
    """The first stream of each (resolution, source, fps) with at least two intervals."""
    chosen: dict[str, StreamStats] = {}
    for item in stats:
        if len(item.intervals_ms) >= 2 and item.label not in chosen:
            chosen[item.label] = item
    return list(chosen.values())[:MAX_HISTOGRAMS]


def _span(values: Sequence[float]) -> tuple[float, float]:
    """The histogram's range: at least 1 ms wide, or equal intervals make zero-width bins."""
    low, high = min(values), max(values)
    if high - low < 1.0:
        middle = (low + high) / 2
        return middle - 0.5, middle + 0.5
    return low, high


def interval_plot(streams: Sequence[Artifact]) -> Plot | None:
    """Histograms of the time between parts, one panel per kind of stream, with the jitter."""
    chosen = _distinct(StreamStats.of(s) for s in streams)
    if not chosen:
        return None
    rows = math.ceil(len(chosen) / HISTOGRAM_COLUMNS)
    height = 2.1 * rows + 0.3
    # Margins set by hand: the constrained layout costs a second on a grid of panels.
    figure = _figure(height, layout=None)
    figure.subplots_adjust(left=0.08, right=0.98, top=1 - 0.5 / height, bottom=0.5 / height,
                           hspace=0.95, wspace=0.28)
    for index, item in enumerate(chosen):
        axes = figure.add_subplot(rows, HISTOGRAM_COLUMNS, index + 1)
        axes.hist(item.intervals_ms, bins=HISTOGRAM_BINS, range=_span(item.intervals_ms),
                  color=PALETTE[0], alpha=0.85)
        if item.requested_fps:
            axes.axvline(1000 / item.requested_fps, color=PALETTE[3], linestyle="--",
                         linewidth=1)
        axes.set_title(f"{item.label}\njitter {item.jitter_ms or 0.0:.1f} ms", fontsize=8,
                       color=INK)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        _style(axes, "interval (ms)", "parts" if index % HISTOGRAM_COLUMNS == 0 else "")
    return Plot("plot-intervals", "Inter-frame intervals per stream",
                "Time between successive parts as they arrived; the dashed line is 1/fps "
                "requested. Jitter is the standard deviation of the intervals.", _png(figure))


def latency_plot(snapshots: Sequence[Artifact]) -> Plot | None:
    """The distribution of single-snapshot latencies, one box per resolution asked for."""
    groups: dict[str, list[float]] = {}
    for item in snapshots:
        label = str(item.get("resolution"))
        if item.get("time_offset_s") is not None:
            label += " (time=)"
        groups.setdefault(label, []).append(float(item["latency_s"]) * 1000)
    if not groups:
        return None
    labels = sorted(groups, key=lambda k: (k.endswith(")"), -_area(k), k))
    figure = _figure(0.32 * len(labels) + 1.0)
    axes = figure.add_subplot()
    axes.boxplot([groups[k] for k in labels], orientation="horizontal", tick_labels=labels,
                 widths=0.6, flierprops={"markersize": 3}, medianprops={"color": PALETTE[1]})
    _style(axes, "latency: request sent to last byte (ms)", "")
    axes.invert_yaxis()
    count = sum(len(v) for v in groups.values())
    return Plot("plot-latency", "Snapshot latency",
                f"{count} single-JPEG replies, by the size asked for: request sent until the "
                "last byte arrived (includes pacing on the tester's side).", _png(figure))


def _area(label: str) -> int:
    width, _, rest = label.partition("x")
    height = rest.split(" ", 1)[0]
    return int(width) * int(height) if width.isdigit() and height.isdigit() else 0


def time_offset_plot(shifts: Sequence[Artifact]) -> Plot | None:
    """Requested time offset against the age the frame's time code shows (where readable)."""
    points = [(float(s["requested_offset_s"]), float(s["decoded_age_s"]))
              for s in shifts if s.get("decoded_age_s") is not None]
    if not points:
        return None
    figure = _figure(3.3)
    axes = figure.add_subplot()
    low = min(*(x for x, _ in points), -1.0) - 1
    line = [low, 1.0]
    axes.fill_between(line, [-x - AGE_TOLERANCE_S for x in line],
                      [-x + AGE_TOLERANCE_S for x in line], color=BAND, label="±1 s")
    axes.plot(line, [-x for x in line], color="#8a96a3", linestyle="--", linewidth=1,
              label="age = -time")
    axes.scatter([x for x, _ in points], [y for _, y in points], s=26, color=PALETTE[0],
                 edgecolors="white", linewidths=0.6, zorder=3, label="frames")
    axes.set_xlim(low, 1.0)
    _style(axes, "requested time= (s)", "decoded age of the frame (s)")
    axes.legend(fontsize=7, frameon=False, loc="upper right")
    return Plot("plot-time", "Time-offset accuracy",
                f"{len(points)} time-shifted frames: the age read from each frame's time code "
                "on the device's own clock against the offset asked for (TIME-AGE-1 allows "
                "±1 s).", _png(figure))


PLOTTERS: tuple[tuple[str, Callable[[Sequence[Artifact]], Plot | None]], ...] = (
    ("stream", fps_plot),
    ("stream", interval_plot),
    ("snapshot", latency_plot),
    ("time_shift", time_offset_plot),
)


def draw_plots(artifacts: Mapping[str, Sequence[Artifact]]) -> list[Plot]:
    """Every plot the artifacts allow, in report order."""
    drawn = (plot(artifacts.get(kind, ())) for kind, plot in PLOTTERS)
    return [plot for plot in drawn if plot is not None]
