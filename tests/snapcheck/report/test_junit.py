"""junit.xml: one test case per conformance test, named by its clauses, failures with curl."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
from report_documents import CURL, sample_document

from snapcheck.report.junit import render_junit


def _cases(document: dict[str, Any]) -> dict[str, ET.Element]:
    root = ET.fromstring(render_junit(document))
    return {case.get("name", ""): case for case in root.iter("testcase")}


def test_cases_carry_their_clause_ids_and_module() -> None:
    cases = _cases(sample_document())
    assert list(cases) == [
        "[JPEG-SIZE-1 JPEG-CT-1] test_pair[640x480]",
        "[CAPS-SCHEMA-1] test_caps",
        "[SNAP-SRC-2] test_external",
    ]
    assert cases["[CAPS-SCHEMA-1] test_caps"].get("classname") == "suites.test_caps"


def test_verdicts_become_junit_outcomes() -> None:
    cases = _cases(sample_document())
    failure = cases["[JPEG-SIZE-1 JPEG-CT-1] test_pair[640x480]"].find("failure")
    assert failure is not None
    assert failure.get("message") == "FAIL: the image is 320x240, expected 640x480 <b>"
    assert f"reproduce: {CURL}" in (failure.text or "")
    assert "Content-Type: image/jpeg" not in (failure.text or "")  # the PASS stays in system-out
    skipped = cases["[SNAP-SRC-2] test_external"].find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "UNSUPPORTED: caps lists no 'external' source"
    passed = cases["[CAPS-SCHEMA-1] test_caps"]
    assert [child.tag for child in passed] == ["system-out"]


OUTCOMES = [
    ("PASS", False, None), ("INFORMATIONAL", True, None), ("NON-STRICT", False, None),
    ("NON-STRICT", True, "failure"), ("UNSUPPORTED", True, "skipped"), ("FAIL", False, "failure"),
    ("DEVICE-UNREACHABLE", False, "error"),
]


@pytest.mark.parametrize(("verdict", "strict", "element"), OUTCOMES)
def test_each_verdict_maps_to_one_outcome(verdict: str, strict: bool, element: str | None) -> None:
    document = sample_document()
    document["strict"] = strict
    document["tests"] = [{**document["tests"][1], "verdict": verdict}]
    (case,) = _cases(document).values()
    outcomes = [child.tag for child in case if child.tag != "system-out"]
    assert outcomes == ([element] if element else [])


def test_the_suite_counts_and_properties() -> None:
    suite = ET.fromstring(render_junit(sample_document())).find("testsuite")
    assert suite is not None
    assert {k: suite.get(k) for k in ("tests", "failures", "errors", "skipped", "time")} == {
        "tests": "3", "failures": "1", "errors": "0", "skipped": "1", "time": "83.500"}
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["suite_version"] == "0.1.0"
    assert properties["password"] == "(none)"


def test_characters_xml_cannot_carry_are_escaped() -> None:
    document = sample_document()
    document["tests"][0]["findings"][1]["evidence"] = "body: \x00\x01\x1b[0m\ufffe end"
    text = render_junit(document)
    root = ET.fromstring(text)  # would raise on a raw control character
    out = "".join(root.itertext())
    assert "body: \\x00\\x01\\x1b[0m\\xfffe end" in out
