"""End-to-end tests of the snapcheck command: the reference device, broken devices, captures."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from hostile_server import Connection, response, running_server
from PIL import Image

from reference_device import running_reference_device
from snapcheck.cli import main

CAPTURE = Path(__file__).parent.parent / "data" / "camera.har"
PASSWORD = "s3cret-pw"
INFO = {
    "success": True,
    "result": {
        "devType": "IP intercom",
        "variant": "2N IP Verso",
        "variantId": 1,
        "customerId": 0,
        "serialNumber": "00-0000-0005",
        "macAddr": "7C-1E-B3-00-00-12",
        "hwVersion": "535v1",
        "swVersion": "2.35.0.45.0",
        "buildType": "release",
        "firmwarePackage": "2N IP Verso",
        "deviceName": "Gate",
    },
}
CAPS = {
    "success": True,
    "result": {
        "jpegResolution": [{"width": 160, "height": 120}, {"width": 640, "height": 480}],
        "sources": [{"source": "internal"}],
    },
}


def snapcheck(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m snapcheck`` as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "snapcheck", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )


@pytest.fixture(scope="module")
def reference_url() -> Iterator[str]:
    """The base URL of the bundled reference device, started once for the module."""
    with running_reference_device() as url:
        yield url


def test_a_conforming_snapshot_exits_0(reference_url: str) -> None:
    done = snapcheck("validate", f"{reference_url}/api/camera/snapshot?width=640&height=480")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert "[PASS] JPEG-SIZE-1: answered a 640x480 JPEG, an acceptable outcome" in lines
    assert lines[-1].startswith("summary: ") and lines[-1].endswith("-> conforming")
    assert f"== GET {reference_url}/api/camera/caps" in lines


def test_a_refused_pair_and_a_stream_conform_too(reference_url: str) -> None:
    refused = snapcheck("validate", f"{reference_url}/api/camera/snapshot?width=641&height=480")
    stream = snapcheck(
        "validate",
        f"{reference_url}/api/camera/snapshot?width=160&height=120&fps=2",
        "--duration",
        "1.5",
    )
    assert (refused.returncode, stream.returncode) == (0, 0), refused.stdout + stream.stdout
    assert "[PASS] SNAP-WH-1: answered error 12 naming width" in refused.stdout
    assert "[PASS] STREAM-CT-1:" in stream.stdout


def test_json_output_carries_findings_and_the_exit_status(reference_url: str) -> None:
    done = snapcheck("validate", f"{reference_url}/api/camera/caps", "--json")
    document = json.loads(done.stdout)
    assert (done.returncode, document["exit_status"]) == (0, 0)
    clauses = {f["clause"] for x in document["exchanges"] for f in x["findings"]}
    assert {"CAPS-SCHEMA-1", "INFO-SCHEMA-1", "TRANSPORT-1"} <= clauses


def _jpeg(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (90, 90, 90)).save(out, "JPEG")
    return out.getvalue()


Route = Callable[[dict[str, str]], bytes]


def _json_route(document: object) -> Route:
    body = json.dumps(document).encode()
    return lambda params: response(headers=(("Content-Type", "application/json"),), body=body)


def _device(snapshot: Route, *, basic: str | None = None) -> Callable[[Connection], None]:
    """A small device: correct info and caps, the snapshot as scripted, optional Basic auth."""
    routes = {"/api/system/info": _json_route(INFO), "/api/camera/caps": _json_route(CAPS)}
    routes["/api/camera/snapshot"] = snapshot

    def handle(conn: Connection) -> None:
        conn.read_request()
        target = urlsplit(conn.request_line.split(" ")[1])
        if basic is not None and target.path != "/api/system/info":
            expected = "Basic " + base64.b64encode(basic.encode()).decode()
            if conn.header("Authorization") != expected:
                challenge = (("WWW-Authenticate", 'Basic realm="intercom"'),)
                conn.send(response("401 Unauthorized", challenge, b'{"success": false}'))
                return
        conn.send(routes[target.path](dict(parse_qsl(target.query))))

    return handle


def _wrong_size(params: dict[str, str]) -> bytes:
    return response(headers=(("Content-Type", "image/jpeg"),), body=_jpeg((320, 240)))


def _error_without_param(params: dict[str, str]) -> bytes:
    body = json.dumps({"success": False, "error": {"code": 12, "description": "bad"}}).encode()
    return response(headers=(("Content-Type", "application/json"),), body=body)


def _good(params: dict[str, str]) -> bytes:
    size = (int(params["width"]), int(params["height"]))
    return response(headers=(("Content-Type", "image/jpeg"),), body=_jpeg(size))


def test_a_broken_device_exits_1_with_fail_lines_and_curl() -> None:
    with running_server(_device(_wrong_size)) as server:
        done = snapcheck("validate", f"{server.url}/api/camera/snapshot?width=640&height=480")
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert "[FAIL] JPEG-SIZE-1: the image is 320x240, expected 640x480" in lines
    fail_at = lines.index("[FAIL] JPEG-SIZE-1: the image is 320x240, expected 640x480")
    reproduce = next(line for line in lines[fail_at:] if "reproduce:" in line)
    assert "curl" in reproduce and "width=640&height=480" in reproduce
    assert lines[-1].endswith("-> NOT conforming")


def test_non_strict_fails_only_under_strict() -> None:
    url_path = "/api/camera/snapshot?width=641&height=480"
    with running_server(_device(_error_without_param)) as server:
        lenient = snapcheck("validate", server.url + url_path)
        strict = snapcheck("validate", server.url + url_path, "--strict")
    assert (lenient.returncode, strict.returncode) == (0, 1), lenient.stdout
    assert "[NON-STRICT] SNAP-WH-1:" in strict.stdout


def test_credentials_are_used_and_never_printed() -> None:
    with running_server(_device(_good, basic=f"admin:{PASSWORD}")) as server:
        url = f"{server.url}/api/camera/snapshot?width=640&height=480"
        ok = snapcheck(
            "validate",
            url,
            "--user",
            "admin",
            "--auth-method",
            "basic",
            "--json",
            env={"SNAPCHECK_PASSWORD": PASSWORD},
        )
        wrong = snapcheck("validate", url, "--user", "admin", "--password", "nope" + PASSWORD)
        in_url = snapcheck(
            "validate",
            url.replace("http://", f"http://admin:{PASSWORD}@"),
            "--auth-method",
            "basic",
        )
    assert (ok.returncode, wrong.returncode, in_url.returncode) == (0, 2, 0), ok.stdout + ok.stderr
    exchanges = json.loads(ok.stdout)["exchanges"]
    curls = {f["curl"] for exchange in exchanges for f in exchange["findings"]}
    assert any("--basic -u 'admin:****'" in curl for curl in curls)
    opened = next(x for x in exchanges if x["exchange"].endswith("/api/system/info"))
    assert "AUTH-OPEN-1" in {f["clause"] for f in opened["findings"]}
    assert "the credentials given were refused" in wrong.stderr
    for done in (ok, wrong, in_url):
        assert PASSWORD not in done.stdout + done.stderr


def test_an_unreachable_device_exits_2() -> None:
    with running_server(_device(_good)) as server:
        url = server.url
    done = snapcheck("validate", f"{url}/api/camera/caps", "--timeout", "2")
    assert done.returncode == 2
    assert done.stderr.startswith("snapcheck: error: cannot reach ")
    assert "connection refused" in done.stderr


def test_a_capture_is_validated_offline() -> None:
    lenient = snapcheck("validate", "--har", str(CAPTURE))
    strict = snapcheck("validate", "--har", str(CAPTURE), "--strict")
    assert (lenient.returncode, strict.returncode) == (0, 1), lenient.stdout + lenient.stderr
    assert "== entry 3: GET http://192.0.2.10/api/camera/snapshot?width=640&height=480" in (
        lenient.stdout
    )
    assert "the capture did not record the body; skipped" in lenient.stdout
    assert "hunter2" not in lenient.stdout


def _har_without_caps(tmp_path: Path) -> Path:
    document = json.loads(CAPTURE.read_text())
    entries = document["log"]["entries"]
    document["log"]["entries"] = [e for e in entries if "/caps" not in e["request"]["url"]]
    path = tmp_path / "nocaps.har"
    path.write_text(json.dumps(document))
    return path


def test_a_capture_without_caps_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--har", str(_har_without_caps(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert "only checks that need no caps were run" in out
    assert "CAPS-PAIR-1" not in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["validate"], "either a URL or --har FILE"),
        (["validate", "http://127.0.0.1:9/api/camera/caps", "--har", "x.har"], "either a URL"),
        (["validate", "http://127.0.0.1:9/index.html"], "snapcheck validates /api/camera/snapshot"),
        (["validate", "ftp://127.0.0.1/api/camera/caps"], "must be http:// or https://"),
        (["validate", "--har", "/nonexistent/x.har"], "cannot read the HAR file"),
        (["validate", "--har", str(CAPTURE), "--max-fps", "0"], "max_fps"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("snapcheck: error: ") and message in err


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["frobnicate"],
        ["validate", "--duration", "-1", "http://x/api/camera/caps"],
        ["validate", "--auth-method", "ntlm"],
        ["clauses", "--area", "nowhere"],
    ],
)
def test_argparse_errors_exit_2(args: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 2


def test_the_catalogue_is_listed_with_coverage() -> None:
    done = snapcheck("clauses")
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert "ENV-JSON-1 [MUST] envelope" in lines
    assert lines[-1].endswith("MISSING test")


def test_the_catalogue_as_json_for_one_area(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["clauses", "--area", "caps", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {row["area"] for row in rows} == {"caps"}
    schema = next(row for row in rows if row["id"] == "CAPS-SCHEMA-1")
    assert "snapcheck/checks/caps_reply.py" in schema["checks"]


def test_missing_coverage_fails_when_required(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["clauses", "--root", str(tmp_path)]) == 0
    assert main(["clauses", "--root", str(tmp_path), "--require-coverage"]) == 1
    out = capsys.readouterr().out
    assert "    checks: MISSING check" in out and "    tests: MISSING test" in out
