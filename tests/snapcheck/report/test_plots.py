"""Plots: drawn from the report's artifacts with matplotlib's Agg canvas, embedded as PNG."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from PIL import Image
from report_documents import sample_document

from snapcheck.report import plots
from snapcheck.report.plots import (
    Plot,
    StreamStats,
    draw_plots,
    fps_plot,
    interval_plot,
    latency_plot,
    time_offset_plot,
)

PNG_PREFIX = "data:image/png;base64,"
Plotter = Callable[[Sequence[dict[str, Any]]], Plot | None]


def _stream(fps: float | None, arrivals: list[float], resolution: str = "640x480") -> dict[
        str, Any]:
    return {"resolution": resolution, "source": "internal", "requested_fps": fps,
            "achieved_fps": 4.8, "parts": len(arrivals), "window_s": 3.0,
            "arrivals_s": arrivals}


def _png_size(plot: Plot) -> tuple[int, int]:
    assert plot.uri.startswith(PNG_PREFIX)
    with Image.open(io.BytesIO(base64.b64decode(plot.uri.removeprefix(PNG_PREFIX)))) as image:
        assert image.format == "PNG"
        return image.size


def test_stream_figures_come_from_the_arrival_times() -> None:
    stats = StreamStats.of(_stream(5, [0.0, 0.1, 0.3, 0.6]))
    assert stats.intervals_ms == pytest.approx((100, 200, 300))
    assert stats.mean_interval_ms == pytest.approx(200)
    assert stats.jitter_ms == pytest.approx(81.65, abs=0.01)
    assert stats.max_gap_ms == pytest.approx(300)
    assert stats.label == "640x480 internal, 5 fps"


def test_a_stream_with_one_part_has_no_interval_figures() -> None:
    stats = StreamStats.of(_stream(None, [0.4]))
    assert (stats.mean_interval_ms, stats.jitter_ms, stats.max_gap_ms) == (None, None, None)
    assert stats.label == "640x480 internal, device rate"


SNAPSHOTS = [{"resolution": r, "source": "internal", "time_offset_s": t, "latency_s": 0.02,
              "first_byte_s": 0.01, "bytes": 1000}
             for r, t in (("640x480", None), ("320x240", None), ("640x480", -5.0))]
SHIFTS = [{"resolution": "640x480", "source": "internal", "requested_offset_s": -k,
           "decoded_age_s": k + 0.1, "timecode_source": "internal"} for k in (0, 5, 30)]
PLOTS = [
    pytest.param(fps_plot, [_stream(5, [0.0, 0.2, 0.4]), _stream(1, [0.0, 1.0])], id="fps"),
    pytest.param(interval_plot, [_stream(5, [0.0, 0.2, 0.4, 0.6])], id="intervals"),
    pytest.param(latency_plot, SNAPSHOTS, id="latency"),
    pytest.param(time_offset_plot, SHIFTS, id="time-offset"),
]


@pytest.mark.parametrize(("plot", "artifacts"), PLOTS)
def test_each_plot_is_a_png_when_there_is_data(
    plot: Plotter, artifacts: list[dict[str, Any]]
) -> None:
    drawn = plot(artifacts)
    assert drawn is not None
    width, height = _png_size(drawn)
    assert width > 400 and height > 200
    assert drawn.title and drawn.caption


NOTHING_TO_DRAW = [
    pytest.param(fps_plot, [], id="fps-no-stream"),
    pytest.param(fps_plot, [_stream(None, [0.0, 0.1])], id="fps-no-requested-rate"),
    pytest.param(interval_plot, [_stream(5, [0.0, 0.2])], id="intervals-one-interval"),
    pytest.param(latency_plot, [], id="latency-no-snapshot"),
    pytest.param(time_offset_plot, [{**SHIFTS[0], "decoded_age_s": None}], id="no-time-code"),
]


@pytest.mark.parametrize(("plot", "artifacts"), NOTHING_TO_DRAW)
def test_no_plot_without_data(plot: Plotter, artifacts: list[dict[str, Any]]) -> None:
    assert plot(artifacts) is None


def test_histograms_are_drawn_once_per_kind_of_stream_up_to_the_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(plots, "MAX_HISTOGRAMS", 4)
    streams = [_stream(fps, [0.0, 0.1, 0.2, 0.3]) for fps in range(1, 8)]
    streams.append(_stream(1, [0.0, 0.5, 1.0]))  # the same kind again: no second panel
    one_row, two_rows = interval_plot(streams[:3]), interval_plot(streams[:4])
    capped = interval_plot(streams)
    assert one_row is not None and two_rows is not None and capped is not None
    assert _png_size(two_rows)[1] > _png_size(one_row)[1]
    assert _png_size(capped) == _png_size(two_rows)


def test_draw_plots_gives_every_plot_the_document_has_data_for_in_order() -> None:
    plots = draw_plots(sample_document()["artifacts"])
    assert [p.name for p in plots] == ["plot-fps", "plot-intervals", "plot-latency", "plot-time"]
    assert draw_plots({}) == []
