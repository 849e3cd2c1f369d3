"""``python -m reference_device``: where it listens, how it stops, how it refuses."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from reference_device.__main__ import keep_pictures_out_of_the_heap, main

TIMEOUT_S = 30.0


def start_device(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "reference_device", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def first_line(process: subprocess.Popen[str]) -> str:
    """The next line the device prints on stdout, read with a deadline."""
    return next_lines(process, 1)[0]


def next_lines(process: subprocess.Popen[str], count: int) -> list[str]:
    """The next ``count`` lines on stdout, read with a deadline.

    Waiting on the pipe before each line would miss lines the text reader already
    buffered with the first one, so the lines are read in a thread that is waited for.
    """
    assert process.stdout is not None
    stdout = process.stdout
    lines: list[str] = []
    reader = threading.Thread(
        target=lambda: lines.extend(stdout.readline() for _ in range(count)), daemon=True
    )
    reader.start()
    reader.join(TIMEOUT_S)
    if reader.is_alive() or len(lines) < count:
        raise AssertionError(f"fewer than {count} lines on stdout within {TIMEOUT_S} s: {lines}")
    return lines


@pytest.fixture
def device() -> Iterator[subprocess.Popen[str]]:
    process = start_device("--port", "0", "--profile", "minimal")
    yield process
    if process.poll() is None:
        process.kill()
    process.communicate(timeout=TIMEOUT_S)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_prints_where_it_listens_first_and_stops_cleanly_on_a_signal(
    device: subprocess.Popen[str], signum: signal.Signals
) -> None:
    line = first_line(device)
    match = re.fullmatch(r"listening on (http://127\.0\.0\.1:(\d+))\n", line)
    assert match, line
    assert int(match.group(2)) > 0
    with urllib.request.urlopen(match.group(1) + "/api/camera/caps", timeout=TIMEOUT_S) as reply:
        assert json.load(reply)["success"] is True
    device.send_signal(signum)
    _, stderr = device.communicate(timeout=TIMEOUT_S)
    assert device.returncode == 0, stderr
    assert "Traceback" not in stderr


def run_failing(*args: str) -> tuple[int, list[str]]:
    process = start_device(*args)
    _, stderr = process.communicate(timeout=TIMEOUT_S)
    return process.returncode, stderr.splitlines()


def test_a_bad_profile_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    profile = tmp_path / "broken.toml"
    profile.write_text("max_fps = 'fast'\n", encoding="utf-8")
    status, lines = run_failing("--profile", str(profile))
    assert status == 2
    assert len(lines) == 1, lines
    assert str(profile) in lines[0]


def test_a_port_in_use_is_one_line_and_exit_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        status, lines = run_failing("--profile", "minimal", "--port", str(port))
    assert status == 2
    assert len(lines) == 1, lines
    assert f"cannot listen on 127.0.0.1:{port}" in lines[0]


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["--port", "http"], "invalid port 'http'"),
        (["--port", "70000"], "invalid port '70000'"),
        (["--port", "-1"], "invalid port '-1'"),
        (["--profile", "no-such-model"], "no such profile"),
        (["--profile", "/nonexistent/model.toml"], "/nonexistent/model.toml"),
        (["--external-url", "ftp://camera/"], "invalid URL 'ftp://camera/'"),
        (["--external-url", "camera.local"], "invalid URL 'camera.local'"),
        (["--bogus"], "unrecognized arguments: --bogus"),
        (
            ["--profile", "minimal", "--external-url", "http://127.0.0.1:9/"],
            "has no external source",
        ),
    ],
)
def test_usage_errors_are_one_line_naming_the_problem_and_exit_2(
    argv: list[str], names: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status: int | str | None
    try:
        status = main(argv)
    except SystemExit as exit_:
        status = exit_.code  # argparse's own refusals exit from inside parse_args
    captured = capsys.readouterr()
    assert status == 2
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("reference_device: error: ")
    assert names in lines[0]


def test_the_device_process_keeps_picture_buffers_out_of_glibcs_heaps() -> None:
    # This project runs on glibc, which must accept the fixed mmap threshold.
    assert keep_pictures_out_of_the_heap() is True


def test_with_https_it_prints_the_plain_url_and_the_certificate_after_the_first_line() -> None:
    process = start_device(
        "--profile", "minimal", "--https-only", "--auth", "digest", "--user", "admin:s3cret"
    )
    try:
        lines = next_lines(process, 3)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=TIMEOUT_S)
    assert process.returncode == 0, stderr
    assert re.fullmatch(r"listening on https://127\.0\.0\.1:\d+\n", lines[0]), lines
    assert re.fullmatch(
        r"plain http on http://127\.0\.0\.1:\d+ \(error 7: HTTPS only\)\n", lines[1]
    ), lines
    assert re.fullmatch(r"certificate sha256 [0-9a-f]{64}\n", lines[2]), lines


def test_more_than_five_accounts_is_one_line_and_exit_2() -> None:
    users = [f"--user=user{i}:pw" for i in range(6)]
    status, lines = run_failing("--auth", "digest", *users)
    assert status == 2
    assert lines == ["reference_device: error: at most 5 user accounts, got 6"]
