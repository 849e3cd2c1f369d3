"""junit.xml: the run in the JUnit format CI systems read, one test case per conformance test.

Strategy: a function of the report document alone. Each test case is named by its
clause IDs and test function (``[SNAP-WH-1 JPEG-SIZE-1] test_every_pair``), so a CI
system's list of failures reads like the catalogue. A verdict maps to JUnit's outcomes
by a table: FAIL (and NON-STRICT under --strict) is a failure, DEVICE-UNREACHABLE an
error, UNSUPPORTED a skip, anything else a pass; the findings, with their reproducing
curl lines, go in the failure text or in system-out. The XML is built with
ElementTree, which escapes every string a device sent.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from snapcheck.verdicts import Verdict

SUITE_NAME = "snapcheck"
FAILURE, ERROR, SKIPPED = "failure", "error", "skipped"
# The JUnit element a test's verdict becomes (none: the test passed).
OUTCOME: Mapping[Verdict, str | None] = {
    Verdict.PASS: None,
    Verdict.INFORMATIONAL: None,
    Verdict.NON_STRICT: None,
    Verdict.UNSUPPORTED: SKIPPED,
    Verdict.FAIL: FAILURE,
    Verdict.DEVICE_UNREACHABLE: ERROR,
}

# Characters XML 1.0 cannot carry at all, escaped or not (a device's bytes may hold them).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: object) -> str:
    """The text with every character XML 1.0 forbids shown as a \\xNN escape."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def case_name(test: Mapping[str, Any]) -> str:
    """The test case's name: its clause IDs in brackets, then the test's own name."""
    name = str(test["nodeid"]).split("::", 1)[-1]
    return f"[{' '.join(test['clauses'])}] {name}" if test["clauses"] else name


def _class_name(nodeid: str) -> str:
    module = nodeid.split("::", 1)[0]
    return module.removesuffix(".py").replace("/", ".")


def _outcome(verdict: Verdict, strict: bool) -> str | None:
    if strict and verdict is Verdict.NON_STRICT:
        return FAILURE
    return OUTCOME[verdict]


def _findings_text(test: Mapping[str, Any], worst_only: bool) -> str:
    lines: list[str] = []
    for finding in test["findings"]:
        if worst_only and finding["verdict"] != test["verdict"]:
            continue
        lines.append(f"[{finding['verdict']}] {finding['clause']}: {finding['message']}")
        lines += [f"    {line}" for line in str(finding["evidence"] or "").splitlines()]
        if finding["curl"]:
            lines.append(f"    reproduce: {finding['curl']}")
    return "\n".join(lines)


def _case(test: Mapping[str, Any], strict: bool) -> ET.Element:
    case = ET.Element("testcase", {
        "classname": _class_name(str(test["nodeid"])),
        "name": case_name(test),
        "time": f"{float(test['duration_s']):.3f}",
    })
    verdict = Verdict(test["verdict"])
    outcome = _outcome(verdict, strict)
    if outcome is not None:
        message = test["note"] or next(
            (f["message"] for f in test["findings"] if f["verdict"] == verdict.value), verdict.value
        )
        element = ET.SubElement(case, outcome, {"message": f"{verdict.value}: {message}",
                                                "type": verdict.value})
        if outcome != SKIPPED:
            element.text = _findings_text(test, worst_only=True)
    ET.SubElement(case, "system-out").text = _findings_text(test, worst_only=False)
    return case


def render_junit(document: Mapping[str, Any]) -> bytes:
    """The JUnit XML of a report document (UTF-8, with declaration)."""
    strict = bool(document["strict"])
    cases = [_case(test, strict) for test in document["tests"]]
    tally = {kind: sum(1 for c in cases if c.find(kind) is not None)
             for kind in (FAILURE, ERROR, SKIPPED)}
    suite = ET.Element("testsuite", {
        "name": SUITE_NAME,
        "tests": str(len(cases)),
        "failures": str(tally[FAILURE]),
        "errors": str(tally[ERROR]),
        "skipped": str(tally[SKIPPED]),
        "time": f"{float(document['duration_s']):.3f}",
        "timestamp": str(document["started"]),
        "hostname": str(document["identity"].get("base_url", "")),
    })
    properties = ET.SubElement(suite, "properties")
    for name, value in (("suite_version", document["suite_version"]),
                        ("report_format", document["version"]),
                        *sorted(document["settings"].items())):
        ET.SubElement(properties, "property", {"name": str(name), "value": str(value)})
    suite.extend(cases)
    root = ET.Element("testsuites", {"name": SUITE_NAME})
    root.append(suite)
    for element in root.iter():
        element.attrib = {key: xml_safe(value) for key, value in element.attrib.items()}
        if element.text is not None:
            element.text = xml_safe(element.text)
    ET.indent(root)
    written: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return written
