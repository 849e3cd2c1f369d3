"""Tests of the single-JPEG check: a conforming image passes every clause, and each kind
of broken reply fails exactly the clauses it breaks, with evidence and a curl line."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from synthetic import jpeg_bytes, reply

from snapcheck.checks.jpeg_reply import check_jpeg_reply
from snapcheck.exchange import Reply
from snapcheck.verdicts import Finding, Verdict

GOOD = jpeg_bytes((640, 480))
FORMAT = {"JPEG-FORMAT-1": Verdict.INFORMATIONAL}


def not_passing(findings: Sequence[Finding]) -> dict[str, Verdict]:
    return {f.clause: f.verdict for f in findings if f.verdict is not Verdict.PASS}


def gigapixel(data: bytes) -> bytes:
    sof = data.index(b"\xff\xc0")
    return data[: sof + 5] + (65000).to_bytes(2, "big") * 2 + data[sof + 9 :]


def lying_length(data: bytes) -> Reply:
    good = reply(data)
    return Reply(
        good.request, 200, "OK", (("Content-Type", "image/jpeg"), ("Content-Length", "9")), data
    )


CASES: list[tuple[str, Reply, tuple[int, int], tuple[str, ...], dict[str, Verdict]]] = [
    ("conforming", reply(GOOD), (640, 480), (), FORMAT),
    ("conforming, size cited for caps too", reply(GOOD), (640, 480), ("CAPS-PAIR-1",), FORMAT),
    ("no content-length", reply(GOOD, content_length=False), (640, 480), (), FORMAT),
    ("HTTP 500", reply(GOOD, status=500), (640, 480), (), {"ENV-STATUS-1": Verdict.FAIL, **FORMAT}),
    ("text/plain", reply(GOOD, content_type="text/plain"), (640, 480), (),
     {"JPEG-CT-1": Verdict.FAIL, **FORMAT}),
    ("no content-type", reply(GOOD, content_type=None), (640, 480), (),
     {"JPEG-CT-1": Verdict.FAIL, **FORMAT}),
    ("content-length lies", lying_length(GOOD), (640, 480), (),
     {"JPEG-CL-1": Verdict.FAIL, **FORMAT}),
    ("trailing bytes", reply(GOOD + b"\r\n"), (640, 480), (),
     {"JPEG-TRAIL-1": Verdict.NON_STRICT, **FORMAT}),
    ("truncated", reply(GOOD[:-100]), (640, 480), (),
     {"JPEG-EOI-1": Verdict.FAIL, "JPEG-DECODE-1": Verdict.FAIL, **FORMAT}),
    ("no SOI", reply(b"\x00" + GOOD), (640, 480), (),
     {"JPEG-SOI-1": Verdict.FAIL, "JPEG-EOI-1": Verdict.FAIL, "JPEG-DECODE-1": Verdict.FAIL,
      "JPEG-SIZE-1": Verdict.FAIL, **FORMAT}),
    ("wrong size, cited for caps", reply(GOOD), (320, 240), ("CAPS-PAIR-1",),
     {"JPEG-SIZE-1": Verdict.FAIL, "CAPS-PAIR-1": Verdict.FAIL, **FORMAT}),
    ("larger than the time clamp", reply(GOOD), (320, 240), ("TIME-CLAMP-1",),
     {"JPEG-SIZE-1": Verdict.FAIL, "TIME-CLAMP-1": Verdict.FAIL, **FORMAT}),
    ("gigapixel frame header", reply(gigapixel(GOOD)), (640, 480), (),
     {"JPEG-DECODE-1": Verdict.FAIL, "JPEG-SIZE-1": Verdict.FAIL, **FORMAT}),
    ("a JSON error instead", reply(b'{"success": false}', content_type="application/json"),
     (640, 480), (),
     {"JPEG-CT-1": Verdict.FAIL, "JPEG-SOI-1": Verdict.FAIL, "JPEG-EOI-1": Verdict.FAIL,
      "JPEG-DECODE-1": Verdict.FAIL, "JPEG-SIZE-1": Verdict.FAIL, **FORMAT}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("sent", "size", "extra", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_each_clause_is_judged(
    sent: Reply, size: tuple[int, int], extra: tuple[str, ...], expected: dict[str, Verdict]
) -> None:
    findings = check_jpeg_reply(sent, expected_size=size, size_clauses=extra)
    assert not_passing(findings) == expected
    assert {"ENV-STATUS-1", "JPEG-CT-1", "JPEG-CL-1", "JPEG-SOI-1", "JPEG-EOI-1"} <= {
        f.clause for f in findings
    }
    for finding in findings:
        assert finding.message and finding.curl and finding.curl.startswith("curl ")
        if finding.verdict is Verdict.FAIL:
            assert finding.evidence


def test_the_messages_say_what_was_expected_and_what_came() -> None:
    findings = check_jpeg_reply(reply(GOOD), expected_size=(320, 240))
    size = next(f for f in findings if f.clause == "JPEG-SIZE-1")
    assert size.message == "the image is 640x480, expected 320x240"
    soi = next(f for f in check_jpeg_reply(reply(b"GIF89a")) if f.clause == "JPEG-SOI-1")
    assert "47 49 46 38 39 61" in soi.evidence


def test_the_format_is_recorded() -> None:
    findings = check_jpeg_reply(reply(jpeg_bytes((64, 48), progressive=True, subsampling=0)))
    recorded = next(f for f in findings if f.clause == "JPEG-FORMAT-1")
    assert recorded.message == "progressive, 3 components, 4:4:4, 8-bit"


def test_without_an_expected_size_no_size_is_judged() -> None:
    assert "JPEG-SIZE-1" not in {f.clause for f in check_jpeg_reply(reply(GOOD))}
