"""The benchmarks' measurement tools on tiny inputs: parsers, counters, judging, the runner.

Nothing here times anything or asserts a speed; the benchmarks themselves are run by
``benchmarks/run.py``. Servers are real, on 127.0.0.1 and a port the OS picks.
"""

from __future__ import annotations

import asyncio
import cProfile
import itertools
import marshal
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchmarks import fanout, latency, memory, run, suite, timeshift
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
    PartCounter,
    Reply,
    boundary_of,
    loopback_address,
    parse_head,
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


# --- wire ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("http://127.0.0.1:8080", ("127.0.0.1", 8080)),
        ("http://127.0.0.1:8080/x", ("127.0.0.1", 8080)),
        ("http://example.com:80", None),
        ("https://127.0.0.1:443", None),
        ("http://127.0.0.1", None),
    ],
)
def test_only_loopback_urls_with_a_port_are_accepted(
    url: str, address: tuple[str, int] | None
) -> None:
    if address is None:
        with pytest.raises(ValueError, match=r"127\.0\.0\.1"):
            loopback_address(url)
    else:
        assert loopback_address(url) == address


def test_a_head_gives_status_and_lower_case_headers() -> None:
    head = parse_head(b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nX-A:  1 \r\nx-a: 2")
    assert head.status == 200
    assert head.content_type == "image/jpeg"
    assert head.headers["x-a"] == "2"


@pytest.mark.parametrize(
    "data", [b"ICY 200 OK", b"HTTP/1.1 abc", b"HTTP/1.1 200 OK\r\nno colon here"]
)
def test_a_broken_head_is_refused(data: bytes) -> None:
    with pytest.raises(ValueError, match=r"status line|colon"):
        parse_head(data)


@pytest.mark.parametrize(
    ("content_type", "boundary"),
    [
        ("multipart/x-mixed-replace; boundary=frame", "frame"),
        ('multipart/x-mixed-replace;BOUNDARY="--my frame"', "--my frame"),
        ("multipart/x-mixed-replace; charset=x; boundary=b", "b"),
        ("multipart/x-mixed-replace", None),
        ("multipart/x-mixed-replace; boundary=", None),
    ],
)
def test_the_boundary_is_read_from_the_content_type(
    content_type: str, boundary: str | None
) -> None:
    if boundary is None:
        with pytest.raises(ValueError, match="no boundary"):
            boundary_of(content_type)
    else:
        assert boundary_of(content_type) == boundary


def _stream(parts: list[bytes], boundary: bytes) -> bytes:
    # The reference device's framing: a leading delimiter, then part + delimiter.
    body = b"--" + boundary + b"\r\n"
    for part in parts:
        body += b"Content-Type: image/jpeg\r\n\r\n" + part + b"\r\n--" + boundary + b"\r\n"
    return body


@given(
    parts=st.lists(st.binary(max_size=40).filter(lambda b: b"--" not in b), max_size=6),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=8),
    boundary=st.sampled_from([b"frame", b"-", b"snapcheckframe"]),
)
def test_parts_are_counted_however_the_stream_is_cut(
    parts: list[bytes], cuts: list[int], boundary: bytes
) -> None:
    body = _stream(parts, boundary)
    counter = PartCounter(boundary.decode())
    edges = sorted({0, len(body), *(c for c in cuts if c < len(body))})
    for start, end in itertools.pairwise(edges):
        counter.feed(body[start:end])
    assert counter.parts == len(parts)


def test_a_part_counts_only_once_its_closing_delimiter_arrives() -> None:
    counter = PartCounter("b")
    counter.feed(b"--b\r\nContent-Type: image/jpeg\r\n\r\nJPEG\r\n-")
    assert counter.parts == 0
    counter.feed(b"-b\r\n")
    assert counter.parts == 1
    with pytest.raises(ValueError, match="empty"):
        PartCounter("")


@asynccontextmanager
async def _server(replies: list[bytes]) -> AsyncIterator[str]:
    """A loopback server that answers each request head with the next of ``replies``."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for reply in replies:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(reply)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}"


def test_keep_alive_gets_read_each_body_by_its_length() -> None:
    replies = [
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ]

    async def scenario() -> None:
        async with _server(replies) as url:
            connection = await Connection.open(url, 5.0)
            try:
                assert (await connection.get("/a", 5.0)).body == b"abc"
                assert (await connection.get("/b", 5.0)).body == b""
                with pytest.raises(ValueError, match="Content-Length"):
                    await connection.get("/c", 5.0)
            finally:
                await connection.close()

    asyncio.run(scenario())


def test_a_stream_is_read_in_chunks_until_the_server_closes() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=b\r\n\r\n"

    async def scenario() -> int:
        async with _server([head + _stream([b"one", b"two"], b"b")]) as url:
            connection = await Connection.open(url, 5.0)
            try:
                got = await connection.request_head("/stream")
                counter = PartCounter(boundary_of(got.content_type))
                while chunk := await connection.read_chunk(5.0):
                    counter.feed(chunk)
                return counter.parts
            finally:
                await connection.close()

    assert asyncio.run(scenario()) == 2


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
