"""The benchmarks' shared measurement tools on tiny inputs: judging, /proc, the device
process, profile shares.

Nothing here times anything or asserts a speed; the benchmarks themselves are run by
``benchmarks/run.py``.
"""

from __future__ import annotations

import asyncio
import cProfile
import marshal
import os
import threading
from pathlib import Path

import pytest

from benchmarks.device_process import DeviceProcess, listening_url
from benchmarks.procstat import (
    ProcessProbe,
    cpu_seconds_from_stat,
    own_cpu_s,
    rss_bytes_from_status,
)
from benchmarks.profile_share import ProfileStats, Share, load_stats, module_of, share_of
from benchmarks.results import (
    Bound,
    Figure,
    Judgement,
    Section,
    format_section,
    format_summary,
    median,
    ratio,
)
from benchmarks.wire import (
    Connection,
    Reply,
)

# --- results ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "bound", "limit", "passed"),
    [
        (1.9, Bound.AT_MOST, 2.0, True),
        (2.0, Bound.AT_MOST, 2.0, True),
        (2.1, Bound.AT_MOST, 2.0, False),
        (0.96, Bound.AT_LEAST, 0.95, True),
        (0.95, Bound.AT_LEAST, 0.95, True),
        (0.94, Bound.AT_LEAST, 0.95, False),
    ],
)
def test_a_judgement_passes_on_its_side_of_the_limit(
    value: float, bound: Bound, limit: float, passed: bool
) -> None:
    assert Judgement("x", value, bound, limit).passed is passed


def test_a_section_passes_only_when_every_judgement_does() -> None:
    good = Judgement("good", 1.0, Bound.AT_MOST, 2.0)
    bad = Judgement("bad", 3.0, Bound.AT_MOST, 2.0)
    assert Section("t", (), (good,)).passed
    assert not Section("t", (), (good, bad)).passed


def test_median_and_ratio_refuse_what_they_cannot_compute() -> None:
    assert median([3.0, 1.0, 2.0], "xs") == 2.0
    with pytest.raises(ValueError, match="no samples of uncached GETs"):
        median([], "uncached GETs")
    assert ratio(3.0, 2.0, "a/b") == 1.5
    with pytest.raises(ValueError, match="a/b"):
        ratio(1.0, 0.0, "a/b")


def test_a_printed_section_shows_figures_ratios_limits_and_verdicts() -> None:
    section = Section(
        "latency: something",
        (Figure("bare", 12.345, "ms", "n=3"),),
        (Judgement("uncached / bare", 2.5, Bound.AT_MOST, 2.0),),
        ("a note",),
    )
    text = format_section(section)
    assert "latency: something" in text
    assert "12.3 ms  (n=3)" in text
    assert "2.500  <= 2.000  MISS" in text
    assert "note: a note" in text
    assert "MISS (indicative)" in format_section(section, indicative=True)
    summary = format_summary([section])
    assert "latency" in summary and "MISS" in summary
    assert format_summary([]) == "summary\n  no target was judged"


# --- procstat --------------------------------------------------------------------------


def _stat_line(name: str, utime: int, stime: int) -> str:
    # Fields 3.. of /proc/<pid>/stat: state, then numbers; utime and stime are 14 and 15.
    fields = ["S", *map(str, range(4, 14)), str(utime), str(stime), "0", "0"]
    return f"1234 ({name}) " + " ".join(fields)


@pytest.mark.parametrize("name", ["python", "a b", "x) (y", "((("])
def test_cpu_seconds_are_read_after_the_last_parenthesis(name: str) -> None:
    assert cpu_seconds_from_stat(_stat_line(name, 250, 50), 100) == 3.0


@pytest.mark.parametrize("text", ["no parenthesis", "1 (x) S 1 2 3"])
def test_a_broken_stat_line_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="stat line"):
        cpu_seconds_from_stat(text, 100)


def test_rss_is_read_from_the_vmrss_line_in_kibibytes() -> None:
    status = "Name:\tpython\nVmPeak:\t  9 kB\nVmRSS:\t   2048 kB\nThreads:\t3\n"
    assert rss_bytes_from_status(status) == 2048 * 1024
    with pytest.raises(ValueError, match="no VmRSS"):
        rss_bytes_from_status("Name:\tkthreadd\n")


def test_the_probe_reads_a_live_process() -> None:
    probe = ProcessProbe(os.getpid())
    assert probe.rss_bytes() > 1_000_000
    assert probe.cpu_s() > 0
    assert own_cpu_s() > 0


def test_the_probe_counts_threads_and_open_files(tmp_path: Path) -> None:
    probe = ProcessProbe(os.getpid())
    files, threads = probe.open_files(), probe.threads()
    release = threading.Event()
    worker = threading.Thread(target=release.wait)
    with (tmp_path / "held").open("w"):
        worker.start()
        try:
            assert probe.open_files() == files + 1
            assert probe.threads() == threads + 1
        finally:
            release.set()
            worker.join()
    assert (probe.open_files(), probe.threads()) == (files, threads)


# --- device_process --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "url"),
    [
        ("listening on http://127.0.0.1:41234\n", "http://127.0.0.1:41234"),
        ("INFO: something else\n", None),
        ("listening on http://10.0.0.5:80\n", None),
    ],
)
def test_the_announced_url_must_be_loopback(line: str, url: str | None) -> None:
    if url is None:
        with pytest.raises(ValueError, match="listen"):
            listening_url(line)
    else:
        assert listening_url(line) == url


def test_the_device_process_serves_and_is_probed() -> None:
    with DeviceProcess() as device:
        reply = asyncio.run(_get_once(device.url, "/api/camera/caps"))
        assert reply.head.status == 200
        assert b"jpegResolution" in reply.body
        assert device.probe.rss_bytes() > 1_000_000
        assert device.probe.cpu_s() > 0
        pid = device.probe.pid
    # Stopped and reaped: the process is gone, not a zombie.
    assert not Path(f"/proc/{pid}").exists()


def test_a_device_that_cannot_start_says_why() -> None:
    with pytest.raises(RuntimeError, match="bad profile"), DeviceProcess("--profile", "nosuch"):
        pass


async def _get_once(url: str, target: str) -> Reply:
    connection = await Connection.open(url, 10.0)
    try:
        return await connection.get(target, 10.0)
    finally:
        await connection.close()


# --- profile_share ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "module"),
    [
        ("/repo/snapcheck/checks/jpeg_reply.py", "snapcheck/checks/"),
        ("/repo/snapcheck/jpeg.py", "snapcheck/jpeg.py"),
        ("/repo/snapcheck/jpegx.py", None),
        ("/repo/notsnapcheck/jpeg.py", None),
        ("~", None),
    ],
)
def test_a_function_belongs_to_the_module_whose_path_holds_it(
    filename: str, module: str | None
) -> None:
    assert module_of(filename, ("snapcheck/checks/", "snapcheck/jpeg.py")) == module


def _profile() -> ProfileStats:
    """main (outside) -> check (inside) -> jpeg (inside) -> pillow (outside)."""
    main = ("/r/suites/test_a.py", 1, "test")
    check = ("/r/snapcheck/checks/c.py", 1, "check")
    walk = ("/r/snapcheck/jpeg.py", 1, "walk")
    pillow = ("/r/PIL/Image.py", 1, "open")
    return {
        main: (1, 1, 6.0, 10.0, {}),
        check: (1, 1, 0.5, 3.0, {main: (1, 1, 0.5, 3.0)}),
        walk: (2, 2, 1.5, 2.5, {check: (2, 2, 1.5, 2.5)}),
        pillow: (2, 2, 1.0, 1.0, {walk: (2, 2, 1.0, 1.0)}),
    }


def test_time_inside_modules_is_counted_where_calls_enter_them() -> None:
    share = share_of(_profile(), ("snapcheck/checks/", "snapcheck/jpeg.py"))
    # check's 3.0 s include walk and Pillow; walk, entered from inside, is not added again.
    assert share.inside_s == 3.0
    assert share.by_module == {"snapcheck/checks/": 3.0, "snapcheck/jpeg.py": 0.0}
    assert share.total_s == 9.0
    assert share.fraction == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="no time"):
        _ = Share(0.0, 0.0, {}).fraction
    with pytest.raises(ValueError, match="at least one module"):
        share_of(_profile(), ())


def test_a_real_cprofile_file_is_read(tmp_path: Path) -> None:
    profiler = cProfile.Profile()
    profiler.runcall(sorted, [3, 1, 2])
    path = tmp_path / "run.prof"
    profiler.dump_stats(path)
    stats = load_stats(path)
    assert any(name == "<built-in method builtins.sorted>" for _, _, name in stats)
    not_stats = tmp_path / "list.prof"
    not_stats.write_bytes(marshal.dumps([1, 2]))
    with pytest.raises(ValueError, match="not a cProfile"):
        load_stats(not_stats)
