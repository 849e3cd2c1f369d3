"""curl (Debian's curl) fetches snapshots from the reference device when authentication is on.

The Camera service's authentication is Basic or Digest (API-FACTS); curl is the client
people script intercoms with, and the one snapcheck's reproducing lines use. With the
right scheme and password curl gets the JPEG (GET, and POST with a form body); with the
wrong password, or Basic sent to a Digest-only service, it gets HTTP 401 and the JSON
error envelope (error 9, or 8 for a refused scheme). curl answers the first Digest
challenge it can compute, and the device offers SHA-256 before MD5.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from device_target import DeviceTarget
from PIL import Image
from programs import require_program, run_program, stderr_tail

from reference_device import running_reference_device

USER, PASSWORD = "admin", "secret"
CURL_MAX_TIME_S = "20"
STREAM_SECONDS = "2"


@dataclass(frozen=True, slots=True)
class CurlCase:
    """One curl invocation against a device with one authentication, and what it gets."""

    service: str  # the device's authentication: basic or digest
    options: tuple[str, ...]
    password: str
    status: int
    error_code: int | None  # None: a JPEG


FORM = ("-d", "width=320", "-d", "height=240")
CASES = [
    pytest.param(CurlCase("digest", ("--digest",), PASSWORD, 200, None), id="digest-served"),
    pytest.param(CurlCase("digest", ("--anyauth",), PASSWORD, 200, None), id="anyauth-digest"),
    pytest.param(CurlCase("digest", ("--digest", *FORM), PASSWORD, 200, None), id="digest-form"),
    pytest.param(CurlCase("basic", ("--basic",), PASSWORD, 200, None), id="basic-served"),
    pytest.param(CurlCase("basic", ("--anyauth",), PASSWORD, 200, None), id="anyauth-basic"),
    pytest.param(CurlCase("digest", ("--digest",), "wrong", 401, 9), id="digest-wrong-password"),
    pytest.param(CurlCase("basic", ("--basic",), "wrong", 401, 9), id="basic-wrong-password"),
    pytest.param(CurlCase("digest", ("--basic",), PASSWORD, 401, 8), id="basic-to-digest-only"),
]


@pytest.fixture(scope="module")
def guarded_devices() -> Iterator[dict[str, str]]:
    """A reference device per authentication scheme, each with one account."""
    with ExitStack() as stack:
        yield {
            service: stack.enter_context(
                running_reference_device(auth=service, users=(f"{USER}:{PASSWORD}",))
            )
            for service in ("basic", "digest")
        }


def _curl(options: tuple[str, ...], password: str, url: str, out: Path) -> tuple[int, str, str]:
    """Run curl verbosely; its exit status, ``http_code content_type`` and what it logged."""
    curl = require_program("curl")
    done = run_program(
        [curl, "-sS", "-v", "--max-time", CURL_MAX_TIME_S, *options,
         "-u", f"{USER}:{password}", "-o", str(out), "-w", "%{http_code} %{content_type}", url]
    )  # fmt: skip
    return done.returncode, done.stdout.decode(), stderr_tail(done, 20_000)


@pytest.mark.parametrize("case", CASES)
def test_curl_gets_what_the_access_rules_allow(
    case: CurlCase, guarded_devices: dict[str, str], tmp_path: Path
) -> None:
    target = DeviceTarget(guarded_devices[case.service])
    # A form body carries the size itself; curl then POSTs to the bare path.
    url = target.snapshot_url.split("?")[0] if FORM[0] in case.options else target.snapshot_url
    body_file = tmp_path / "body"
    status, written, log = _curl(case.options, case.password, url, body_file)
    assert status == 0, log
    http_code, content_type = written.split(" ", 1)
    assert int(http_code) == case.status, log
    body = body_file.read_bytes()
    if case.error_code is None:
        assert content_type == "image/jpeg"
        with Image.open(io.BytesIO(body)) as image:
            assert (image.format, image.size) == ("JPEG", (target.width, target.height))
    else:
        assert content_type.startswith("application/json")
        assert json.loads(body)["error"]["code"] == case.error_code


def test_curl_digest_answers_the_sha256_challenge_first(
    guarded_devices: dict[str, str], tmp_path: Path
) -> None:
    target = DeviceTarget(guarded_devices["digest"])
    status, written, log = _curl(("--digest",), PASSWORD, target.snapshot_url, tmp_path / "b")
    assert (status, written.split(" ")[0]) == (0, "200"), log
    sent = [line for line in log.splitlines() if line.startswith("> Authorization: Digest")]
    assert len(sent) == 1, log
    assert "algorithm=SHA-256" in sent[0]


def test_curl_digest_reads_the_stream_until_it_hangs_up(
    guarded_devices: dict[str, str], tmp_path: Path
) -> None:
    target = DeviceTarget(guarded_devices["digest"])
    curl, ffprobe = require_program("curl"), require_program("ffprobe")
    saved = tmp_path / "stream.mjpeg"
    done = run_program(
        [curl, "-sS", "--max-time", STREAM_SECONDS, "--digest", "-u", f"{USER}:{PASSWORD}",
         "-o", str(saved), target.stream_url]
    )  # fmt: skip
    # 28: curl's own time limit ended the transfer; the stream itself never ends.
    assert done.returncode == 28, stderr_tail(done)
    probe = run_program(
        [ffprobe, "-v", "error", "-f", "mpjpeg", "-show_entries", "frame=width,height",
         "-of", "csv=p=0", str(saved)]
    )  # fmt: skip
    frames = probe.stdout.decode().split()
    assert len(frames) >= 2, stderr_tail(probe)
    assert set(frames) == {f"{target.width},{target.height}"}
