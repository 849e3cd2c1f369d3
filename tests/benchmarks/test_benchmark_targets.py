"""What each benchmark makes of its measurements, on tiny made-up ones; and the runner.

Nothing here measures the device or asserts a speed: each target's judging is fed
samples made up by hand.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from benchmarks import fanout, latency, memory, run, suite, timeshift
from benchmarks.results import Bound, Judgement, Section

# --- suite -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "summary"),
    [
        ("....   [100%]\n18 passed, 17 deselected in 6.52s\n", "18 passed, 17 deselected in 6.52s"),
        ("==== 1 failed, 2 passed in 3.50s ====\n", "1 failed, 2 passed in 3.50s"),
        ("no tests ran in 0.01s\n", ""),
    ],
)
def test_the_pytest_summary_line_is_found(output: str, summary: str) -> None:
    assert suite.pytest_summary(output) == summary


def test_a_suite_run_is_timed_and_a_broken_one_refused() -> None:
    env = dict(os.environ)
    done = suite.run_suite(("-c", "print('3 passed in 0.10s')"), env, 60.0)
    assert (done.status, done.summary) == (0, "3 passed in 0.10s")
    assert done.wall_s > 0
    with pytest.raises(RuntimeError, match="exit status 4"):
        suite.run_suite(("-c", "import sys; sys.exit(4)"), env, 60.0)


# --- latency ---------------------------------------------------------------------------


def test_latency_is_judged_by_the_median_of_the_blocks_ratios() -> None:
    blocks = [
        latency.Samples(bare=[0.010, 0.012], uncached=[0.015], cached=[0.001]),
        latency.Samples(bare=[0.010], uncached=[0.030, 0.030], cached=[]),
        latency.Samples(bare=[0.020], uncached=[0.020], cached=[]),
    ]
    plan = latency.LatencyPlan(((640, 480),), blocks=3, rounds=2)
    section = latency.latency_section({(640, 480): blocks}, plan)
    # Block ratios 15/11, 30/10, 20/20: their median is 15/11.
    (judgement,) = section.judgements
    assert judgement.value == pytest.approx(15 / 11)
    assert judgement.passed
    labels = [figure.label for figure in section.figures]
    assert "640x480 GET, same frame (cached)" in labels
    assert section.notes == ()


def test_latency_without_a_cached_get_says_so_instead_of_a_figure() -> None:
    blocks = [latency.Samples(bare=[0.010], uncached=[0.025], cached=[])]
    plan = latency.LatencyPlan(((1280, 960),), blocks=1, rounds=1)
    section = latency.latency_section({(1280, 960): blocks}, plan)
    assert not any(
        "cached)" in figure.label for figure in section.figures if "uncached" not in figure.label
    )
    assert section.notes == ("1280x960: no GET found the same frame again, so no cached figure",)
    assert not section.passed


# --- fanout, memory, timeshift ---------------------------------------------------------


def test_a_window_judges_its_worst_client_and_the_cpu_per_frame() -> None:
    window = fanout.Window(
        clients=2, seconds=2.0, parts=(30, 27), device_cpu_s=0.57, client_cpu_s=0.1, fps=15
    )
    assert window.worst_delivery == pytest.approx(0.9)
    assert window.cpu_per_frame_s == pytest.approx(0.01)


def _samples(*rss_mb: float) -> list[memory.Sample]:
    return [memory.Sample(10.0 * i, int(mb * 1e6)) for i, mb in enumerate(rss_mb)]


_PLAN = memory.MemoryPlan(
    settle_s=20.0, soak_s=40.0, sample_every_s=10.0, baseline_s=20.0, window_s=20.0, workers=1
)


@pytest.mark.parametrize(
    ("rss_mb", "deviation", "flat"),
    # Samples at 0, 10, 20 s settle; windows (20, 40] and (40, 60] s make the soak.
    [
        ((50, 98, 102, 103, 105, 104, 104), 4.0, True),
        ((50, 98, 102, 120, 100, 100, 100), 10.0, False),
        ((50, 98, 102, 90, 94, 100, 100), 8.0, False),
    ],
)
def test_memory_is_judged_by_window_medians_against_the_settled_median(
    rss_mb: tuple[float, ...], deviation: float, flat: bool
) -> None:
    section = memory.memory_section(_samples(*rss_mb), 5, _PLAN)
    baseline, spread = section.judgements
    # The baseline is the median of the samples at 10 and 20 s: (98 + 102) / 2.
    assert (baseline.value, baseline.passed) == (100.0, True)
    assert spread.value == pytest.approx(deviation)
    assert spread.passed is flat


@pytest.mark.parametrize(("plan", "warned"), [(memory.QUICK, True), (memory.FULL, False)])
def test_a_baseline_before_the_history_is_full_says_so(
    plan: memory.MemoryPlan, warned: bool
) -> None:
    steps = int((plan.settle_s + plan.soak_s) / plan.sample_every_s) + 1
    samples = [memory.Sample(i * plan.sample_every_s, 100 * 10**6) for i in range(steps)]
    notes = memory.memory_section(samples, 5, plan).notes
    assert any("before the history is full" in note for note in notes) is warned


def test_window_medians_group_samples_after_the_start() -> None:
    samples = _samples(1, 2, 3, 4, 5, 6)
    assert memory.window_medians(samples, 10.0, 20.0) == [3.5e6, 5.5e6]
    with pytest.raises(ValueError, match="positive"):
        memory.window_medians(samples, 0.0, 0.0)


def test_memory_without_samples_before_or_after_the_baseline_is_an_error() -> None:
    with pytest.raises(ValueError, match="window ending"):
        memory.memory_section([memory.Sample(0.0, 1)], 5, _PLAN)
    with pytest.raises(ValueError, match="after the baseline"):
        memory.memory_section(_samples(50, 60, 70), 5, _PLAN)


def test_per_call_seconds_calls_the_action_that_many_times() -> None:
    calls: list[int] = []
    assert timeshift.per_call_s(lambda: calls.append(1), 7) >= 0
    assert len(calls) == 7
    with pytest.raises(ValueError, match="positive"):
        timeshift.per_call_s(lambda: None, 0)


def test_a_case_counts_relative_to_the_reference_batch_of_its_round() -> None:
    # The machine slowed down in round 2: both batches doubled, the ratio did not.
    batches = {"case": [1.1, 2.2, 1.0], timeshift.REFERENCE: [1.0, 2.0, 1.0]}
    assert timeshift.relative_to_reference(batches, "case") == pytest.approx(1.1)
    with pytest.raises(ValueError, match="zip"):
        timeshift.relative_to_reference({"case": [1.0], timeshift.REFERENCE: []}, "case")


# --- run -------------------------------------------------------------------------------


def test_only_selects_known_benchmarks_in_the_order_given() -> None:
    args = run.build_parser().parse_args(["--only", "timeshift, latency", "--quick"])
    assert args.only == ("timeshift", "latency")
    assert args.quick


@pytest.mark.parametrize("only", ["nosuch", "latency,nosuch", ","])
def test_an_unknown_benchmark_is_a_usage_error(
    only: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        run.build_parser().parse_args(["--only", only])
    assert exited.value.code == 2
    assert "unknown benchmark" in capsys.readouterr().err


def _fake(passed: bool) -> Callable[[bool], Section]:
    def bench(quick: bool) -> Section:
        value = 1.0 if passed else 3.0
        return Section("fake: x", (), (Judgement("ratio", value, Bound.AT_MOST, 2.0),))

    return bench


def _broken(quick: bool) -> Section:
    raise RuntimeError("the device did not start")


@pytest.fixture
def fake_benchmarks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Benchmarks that measure nothing: one passes, one misses, one breaks."""
    monkeypatch.setattr(
        run, "BENCHMARKS", {"latency": _fake(True), "fanout": _fake(False), "memory": _broken}
    )
    yield


@pytest.mark.parametrize(
    ("argv", "status"),
    [
        (["--only", "latency"], 0),
        (["--only", "latency,fanout"], 1),
        (["--only", "latency,fanout", "--quick"], 0),
        (["--only", "memory", "--quick"], 1),
    ],
)
@pytest.mark.usefixtures("fake_benchmarks")
def test_the_exit_status_says_whether_every_target_was_met(
    argv: list[str], status: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run.main(argv) == status
    out = capsys.readouterr().out
    assert "load average at start" in out and "total run time" in out
    assert "summary" in out


def test_the_runner_runs_as_a_script_from_anywhere(tmp_path: Path) -> None:
    done = subprocess.run(
        (sys.executable, run.__file__, "--only", "nosuch"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # The script found its package (else ModuleNotFoundError) and refused the name.
    assert done.returncode == 2
    assert "unknown benchmark 'nosuch'" in done.stderr
