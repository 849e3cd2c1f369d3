"""Tests of the caps check: the result comes back only when it validates; duplicates are
NON-STRICT; order and aspect ratios are recorded."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from synthetic import json_reply, request

from snapcheck.checks.caps_reply import check_caps_reply
from snapcheck.exchange import Reply
from snapcheck.verdicts import Finding, Verdict

ORDER = {"CAPS-ORDER-1": Verdict.INFORMATIONAL}


def caps(sizes: Sequence[tuple[int, int]], sources: Sequence[str] = ("internal",)) -> Reply:
    document = {
        "success": True,
        "result": {
            "jpegResolution": [{"width": w, "height": h} for w, h in sizes],
            "sources": [{"source": s} for s in sources],
        },
    }
    return Reply(request("/api/camera/caps"), 200, "OK", json_reply(document).headers,
                 json_reply(document).body)  # fmt: skip


def not_passing(findings: Sequence[Finding]) -> dict[str, Verdict]:
    return {f.clause: f.verdict for f in findings if f.verdict is not Verdict.PASS}


@pytest.mark.parametrize(
    ("sent", "valid", "expected"),
    [
        (caps([(160, 120), (640, 480)], ["internal", "external"]), True, ORDER),
        (caps([(640, 480), (640, 480)]), True, {"CAPS-DUP-1": Verdict.NON_STRICT, **ORDER}),
        (caps([(640, 480)], ["internal", "internal"]), True,
         {"CAPS-DUP-1": Verdict.NON_STRICT, **ORDER}),
        (json_reply({"success": True, "result": {"resolutions": [], "sources": []}}), False,
         {"CAPS-SCHEMA-1": Verdict.FAIL}),
        (json_reply({"success": True,
                     "result": {"jpegResolution": [{"width": 640.0, "height": 480}],
                                "sources": [{"source": "internal"}]}}), False,
         {"CAPS-SCHEMA-1": Verdict.FAIL}),
        (json_reply({"success": False, "error": {"code": 10, "description": "x"}}), False,
         {"ENV-SCHEMA-1": Verdict.FAIL, "CAPS-SCHEMA-1": Verdict.FAIL}),
    ],
    ids=["conforming", "duplicate size", "duplicate source", "wrong keys", "float width",
         "refused"],
)  # fmt: skip
def test_caps_are_judged_and_returned_only_when_valid(
    sent: Reply, valid: bool, expected: dict[str, Verdict]
) -> None:
    result, findings = check_caps_reply(sent)
    assert (result is not None) == valid
    assert not_passing(findings) == expected


def test_the_result_is_the_devices_list_as_sent() -> None:
    result, _ = check_caps_reply(caps([(640, 480), (160, 120)]))
    assert result == {
        "jpegResolution": [{"width": 640, "height": 480}, {"width": 160, "height": 120}],
        "sources": [{"source": "internal"}],
    }


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        ([(160, 120), (640, 480)], "2 sizes, ascending by size, aspect ratios 4:3"),
        ([(1280, 720), (640, 480)], "2 sizes, descending by size, aspect ratios 16:9, 4:3"),
        ([(176, 144), (320, 240), (352, 288), (640, 480), (800, 600), (1280, 960), (160, 120),
          (352, 272), (480, 272), (1024, 600), (1280, 720), (640, 360)],
         "12 sizes, unsorted, aspect ratios 11:9 (CIF), 128:75, 16:9, 22:17, 30:17, 4:3"),
    ],
    ids=["ascending", "descending", "the Verso on firmware 2.50"],
)  # fmt: skip
def test_order_and_aspect_ratios_are_recorded(sizes: list[tuple[int, int]], message: str) -> None:
    _, findings = check_caps_reply(caps(sizes))
    order = next(f for f in findings if f.clause == "CAPS-ORDER-1")
    assert order.message == message
