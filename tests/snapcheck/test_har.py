"""Tests of reading HAR captures into Request/Reply pairs."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path

import pytest

from snapcheck.exchange import PartImage
from snapcheck.har import HAR_STREAM_ENDING, parse_har, read_har
from snapcheck.verdicts import UsageError

CAPTURE = Path(__file__).parent.parent / "data" / "camera.har"


@pytest.fixture(scope="module")
def document() -> dict[str, object]:
    loaded: dict[str, object] = json.loads(CAPTURE.read_text())
    return loaded


def test_only_camera_exchanges_are_kept() -> None:
    reading = read_har(CAPTURE)
    paths = [(x.entry, x.request.method, x.request.path) for x in reading.exchanges]
    assert paths == [
        (1, "GET", "/api/system/info"),
        (2, "GET", "/api/camera/caps"),
        (3, "GET", "/api/camera/snapshot"),
        (4, "POST", "/api/camera/snapshot"),
        (5, "GET", "/api/camera/snapshot"),
    ]
    assert reading.ignored_entries == 1


def test_an_entry_without_its_body_is_skipped_with_a_note() -> None:
    (note,) = read_har(CAPTURE).notes
    assert note.startswith("log.entries[6] (GET http://192.0.2.10/api/camera/snapshot?")
    assert note.endswith("the capture did not record the body; skipped")


def test_a_snapshot_keeps_its_query_body_and_timings() -> None:
    snapshot = read_har(CAPTURE).exchanges[2]
    request, reply = snapshot.request, snapshot.reply
    assert request.base_url == "http://192.0.2.10"
    assert request.params == (("width", "640"), ("height", "480"))
    assert request.url == "http://192.0.2.10/api/camera/snapshot?width=640&height=480"
    assert (reply.status, reply.content_type) == (200, "image/jpeg")
    assert reply.body.startswith(b"\xff\xd8") and reply.body.endswith(b"\xff\xd9")
    assert reply.header("Content-Length") == str(len(reply.body))
    assert reply.elapsed_s == pytest.approx(0.0425)
    assert reply.first_byte_s == pytest.approx(0.032)
    assert reply.started_at == pytest.approx(1795600800.0)
    assert reply.extra["timings_known"] is False


def test_credentials_are_reduced_to_user_and_scheme() -> None:
    exchanges = read_har(CAPTURE).exchanges
    caps, snapshot = exchanges[1].request, exchanges[2].request
    assert (caps.user, caps.auth_method) == ("admin", "digest")
    assert (snapshot.user, snapshot.auth_method) == ("admin", "basic")
    assert snapshot.headers == ()
    assert "hunter2" not in repr(snapshot)


def test_a_form_post_keeps_its_form() -> None:
    post = read_har(CAPTURE).exchanges[3]
    assert post.request.form == (("width", "641"), ("height", "480"))
    assert post.request.params == ()
    assert json.loads(post.reply.body)["error"]["code"] == 12


def test_a_form_post_without_params_is_read_from_its_text(document: dict[str, object]) -> None:
    edited = copy.deepcopy(document)
    post = edited["log"]["entries"][4]["request"]["postData"]  # type: ignore[index]
    del post["params"]
    (exchange,) = [x for x in parse_har(edited).exchanges if x.entry == 4]
    assert exchange.request.form == (("width", "641"), ("height", "480"))


def test_a_recorded_stream_becomes_parts_without_arrival_times() -> None:
    analysed: list[int] = []

    def analyse(body: bytes) -> PartImage:
        analysed.append(len(body))
        return PartImage(width=len(body))

    stream = read_har(CAPTURE, analyse=analyse).exchanges[4].reply
    assert stream.body == b""
    assert len(stream.parts) == 2
    assert {part.first_byte_at for part in stream.parts} == {0.0}
    assert stream.stream_ended_by == HAR_STREAM_ENDING
    assert stream.extra["timings_known"] is False
    assert analysed == [part.size for part in stream.parts]
    assert [part.image for part in stream.parts] == [PartImage(width=n) for n in analysed]


def _broken(document: dict[str, object], path: tuple[object, ...], value: object) -> object:
    edited = copy.deepcopy(document)
    target: object = edited
    for key in path[:-1]:
        target = target[key]  # type: ignore[index]
    if value is KeyError:
        del target[path[-1]]  # type: ignore[attr-defined]
    else:
        target[path[-1]] = value  # type: ignore[index]
    return edited


ENTRY = ("log", "entries", 3)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("log",), KeyError, "the file has no 'log'"),
        (("log", "entries"), {}, "log.entries should be a list"),
        (("log", "entries", 0), "x", r"log.entries\[0\] is not an object"),
        ((*ENTRY, "request", "url"), KeyError, r"entries\[3\].request has no 'url'"),
        ((*ENTRY, "request", "url"), "ftp://x/y", "is not an http"),
        ((*ENTRY, "response", "status"), "200", "status should be an integer"),
        ((*ENTRY, "response", "headers"), None, "headers should be a list"),
        ((*ENTRY, "response", "headers", 0), {"value": "x"}, r"headers\[0\] has no 'name'"),
        ((*ENTRY, "response", "content", "text"), "!!!", "not valid base64"),
        ((*ENTRY, "startedDateTime"), "yesterday", "not ISO 8601"),
    ],
)
def test_a_malformed_capture_is_a_usage_error(
    document: dict[str, object], path: tuple[object, ...], value: object, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        parse_har(_broken(document, path, value))


@pytest.mark.parametrize(
    ("text", "message"), [("{", "is not JSON"), ("[]", "top level should be an object")]
)
def test_a_file_that_is_not_har_says_so(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "capture.har"
    path.write_text(text)
    with pytest.raises(UsageError, match=message):
        read_har(path)


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read the HAR file"):
        read_har(tmp_path / "absent.har")


def test_a_failed_request_is_kept_with_a_transport_error(document: dict[str, object]) -> None:
    edited = _broken(document, (*ENTRY, "response", "status"), 0)
    (exchange,) = [x for x in parse_har(edited).exchanges if x.entry == 3]
    assert exchange.reply.transport_error == "the capture recorded no response"


def test_a_plain_text_body_is_utf8(document: dict[str, object]) -> None:
    info = read_har(CAPTURE).exchanges[0].reply
    assert json.loads(info.body)["result"]["variant"] == "2N IP Verso"
    assert base64.b64encode(info.body)
