"""The fault zoo: the table itself, how faults are named and listed, the documentation that
must not drift, and a real device on port 0 showing each kind of hook on the wire."""

from __future__ import annotations

import http.client
import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from reference_device import DeviceOptions, running_reference_device
from reference_device.__main__ import main
from reference_device.command_line import device_options
from reference_device.faults import (
    ACCESS_SETUP,
    FAULTS,
    FAULTS_BY_NAME,
    Area,
    Fault,
    fault_names,
    render_listing,
)
from reference_device.server import OptionsError
from snapcheck.clauses import Area as CatalogueArea
from snapcheck.clauses import load_catalogue
from snapcheck.verdicts import Level

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "faults.md"
TIMEOUT_S = 10.0
SHORT_WAIT_S = 0.5
SNAPSHOT = "/api/camera/snapshot?width=160&height=120"


def test_the_zoo_has_at_least_thirty_faults_over_every_area() -> None:
    assert len(FAULTS) >= 30
    assert {fault.area for fault in FAULTS} == set(Area)
    assert len(FAULTS_BY_NAME) == len(FAULTS)


def test_the_faults_break_clauses_of_every_area_of_the_catalogue() -> None:
    catalogue = load_catalogue()
    broken = {catalogue.get(clause).area for fault in FAULTS for clause in fault.clauses}
    assert broken == set(CatalogueArea)


@pytest.mark.parametrize("fault", FAULTS, ids=lambda fault: fault.name)
def test_each_fault_names_clauses_of_the_catalogue(fault: Fault) -> None:
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", fault.name)
    catalogue = load_catalogue()
    levels = {catalogue.get(clause).level for clause in fault.clauses}
    # A fault that fails a run without --strict must break a MUST.
    assert fault.strict or Level.MUST in levels
    assert fault.description and fault.seen
    assert fault.clauses[0] in fault.seen or any(c in fault.seen for c in fault.clauses)


@pytest.mark.parametrize(
    ("spec", "names"),
    [
        ("half-rate", {"half-rate"}),
        ("half-rate,frozen-stream", {"half-rate", "frozen-stream"}),
        (" half-rate , frozen-stream ,", {"half-rate", "frozen-stream"}),
        (["half-rate", "frozen-stream,png-bytes"], {"half-rate", "frozen-stream", "png-bytes"}),
        ("", set()),
        ((), set()),
    ],
)
def test_fault_names_are_read_from_commas_and_lists(spec: str | list[str], names: set[str]) -> None:
    assert fault_names(spec) == names


def test_an_unknown_fault_is_refused_with_where_to_look() -> None:
    with pytest.raises(ValueError, match=r"unknown faults \['no-such'\].*--list-faults"):
        fault_names("half-rate,no-such")
    with pytest.raises(OptionsError, match="unknown faults"):
        DeviceOptions(faults=frozenset({"no-such"}))


def test_the_command_line_and_the_alias_fill_one_set() -> None:
    argv = ["--fault", "half-rate,png-bytes", "--fault", "frozen-stream",
            "--access-fault", "basic-on-digest"]
    assert device_options(argv).faults == {
        "half-rate", "png-bytes", "frozen-stream", "basic-on-digest"
    }


@pytest.mark.parametrize("style", ["text", "json", "markdown"])
def test_every_listing_names_every_fault_with_its_clauses(style: str) -> None:
    listing = render_listing(style)
    for fault in FAULTS:
        assert fault.name in listing
        assert all(clause in listing for clause in fault.clauses)


def test_the_json_listing_is_what_the_kill_matrix_reads(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--list-faults", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [item["name"] for item in listed] == [fault.name for fault in FAULTS]
    by_name = {item["name"]: item for item in listed}
    assert by_name["no-leading-boundary"]["strict"] is True
    assert by_name["privilege-ignored"]["setup"] == list(ACCESS_SETUP)


def test_an_unknown_listing_is_refused() -> None:
    with pytest.raises(ValueError, match="text, json, markdown"):
        render_listing("yaml")


def test_docs_faults_md_carries_exactly_the_table() -> None:
    documented = DOCS.read_text("utf-8")
    assert render_listing("markdown") in documented
    rows = re.findall(r"^\| `([a-z0-9-]+)` \|", documented, flags=re.MULTILINE)
    assert rows == [fault.name for fault in FAULTS]


# ---------------------------------------------------------------- on the wire


@pytest.fixture(scope="module")
def faulty() -> Iterator[str]:
    """One device with a reply fault, a method fault and a framing fault at once."""
    faults = "jpeg-as-text-plain,post-refused,part-without-content-type"
    with running_reference_device(fault=faults) as url:
        yield url


def exchange(url: str, target: str, method: str = "GET") -> http.client.HTTPResponse:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=TIMEOUT_S)
    conn.request(method, target)
    return conn.getresponse()


def test_a_reply_fault_is_on_the_wire(faulty: str) -> None:
    response = exchange(faulty, SNAPSHOT)
    assert response.status == 200
    assert response.getheader("Content-Type") == "text/plain"
    assert response.read().startswith(b"\xff\xd8")


def test_a_method_fault_refuses_post(faulty: str) -> None:
    response = exchange(faulty, SNAPSHOT, method="POST")
    assert json.loads(response.read())["error"]["code"] == 3


def test_a_stream_fault_frames_every_part(faulty: str) -> None:
    response = exchange(faulty, SNAPSHOT + "&fps=5")
    assert response.getheader("Content-Type", "").startswith("multipart/x-mixed-replace")
    head = response.read(len(b"--snapcheckframe\r\nContent-Length: "))
    assert head.startswith(b"--snapcheckframe\r\nContent-Length: ")
    response.close()


def test_without_faults_the_same_requests_conform() -> None:
    with running_reference_device() as url:
        assert exchange(url, SNAPSHOT).getheader("Content-Type") == "image/jpeg"
        assert exchange(url, SNAPSHOT, method="POST").getheader("Content-Type") == "image/jpeg"


def test_a_guard_fault_serves_the_snapshot_without_credentials() -> None:
    options = device_options([*ACCESS_SETUP, "--fault", "snapshot-unguarded"])
    with running_reference_device(
        fault=options.faults, auth=options.auth, users=options.users
    ) as url:
        assert exchange(url, "/api/camera/caps").status == 401
        assert exchange(url, SNAPSHOT).getheader("Content-Type") == "image/jpeg"


def declared(head: bytes) -> int:
    """The Content-Length a reply's head declares."""
    match = re.search(rb"Content-Length: (\d+)", head)
    assert match is not None, head
    return int(match[1])


def raw_get(url: str, target: str) -> socket.socket:
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname or "", parts.port or 80), TIMEOUT_S)
    sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    return sock


def read_until_quiet(sock: socket.socket) -> bytes:
    """Everything the device sends until it stays silent for SHORT_WAIT_S (or closes)."""
    sock.settimeout(SHORT_WAIT_S)
    received = b""
    while True:
        try:
            data = sock.recv(65536)
        except TimeoutError:
            return received
        if not data:
            raise AssertionError(f"the device closed the connection after {received[:200]!r}")
        received += data


@pytest.mark.parametrize(
    ("fault", "target", "sent"),
    [
        # Nothing at all within the wait: the reply is held back.
        ("slow-snapshot", SNAPSHOT, lambda head, body: head == b""),
        ("hung-after-caps", "/api/system/info", lambda head, body: head == b""),
        # Headers that promise one byte more than ever comes.
        ("length-lie-hang", SNAPSHOT, lambda head, body: declared(head) == len(body) + 1),
        # Headers, then not one part.
        ("silent-stream", SNAPSHOT + "&fps=5", lambda head, body: body == b""),
        # Three parts, then silence.
        ("stall-after-parts", SNAPSHOT + "&fps=5", lambda head, body: body.count(b"\xff\xd9") == 3),
    ],
)
def test_a_hanging_fault_holds_the_connection_open(fault: str, target: str, sent: object) -> None:
    with running_reference_device(fault=fault) as url:
        sock = raw_get(url, target)
        try:
            received = read_until_quiet(sock)
        finally:
            sock.close()
    head, _, body = received.partition(b"\r\n\r\n")
    if b"chunked" in head:
        body = re.sub(rb"(?m)^[0-9a-f]+\r\n", b"", body)
    assert callable(sent) and sent(head, body), received[:300]
