"""The report document: built from a run's recorder, clause by clause, and held to its schema."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from report_documents import CURL, STARTED, sample_document, sample_recorder

from snapcheck.clauses import load_catalogue
from snapcheck.recorder import RunRecorder
from snapcheck.report.model import (
    EVIDENCE_PER_CLAUSE,
    NOT_JUDGED,
    REPORT_FORMAT_VERSION,
    HypothesisRun,
    build_report_data,
    report_folder_name,
    validate_report,
)
from snapcheck.settings import Settings
from snapcheck.verdicts import Finding, Verdict


def _clause(document: dict[str, Any], clause_id: str) -> dict[str, Any]:
    found = next(c for c in document["catalogue"] if c["id"] == clause_id)
    assert isinstance(found, dict)
    return found


def test_a_built_document_is_valid_and_versioned() -> None:
    document = sample_document()
    assert validate_report(document) == []
    assert document["version"] == REPORT_FORMAT_VERSION
    assert document["duration_s"] == 83.5
    assert document["hypothesis"] == {"profile": "ci", "seed": None, "derandomize": True}
    assert document["failed"] is True


def test_the_catalogue_is_listed_in_order_with_requirement_level_and_verdict() -> None:
    document = sample_document()
    catalogue = load_catalogue()
    assert [c["id"] for c in document["catalogue"]] == list(catalogue.ids)
    size = _clause(document, "JPEG-SIZE-1")
    assert size["requirement"] == catalogue.get("JPEG-SIZE-1").requirement
    assert (size["level"], size["verdict"]) == ("MUST", "FAIL")
    assert size["tests"] == ["suites/test_snap.py::test_pair[640x480]"]
    assert size["evidence"][0]["curl"] == CURL
    assert size["evidence"][0]["test"] == "suites/test_snap.py::test_pair[640x480]"
    assert _clause(document, "SNAP-SRC-2")["verdict"] == "UNSUPPORTED"
    assert _clause(document, "AUTH-NONE-1")["verdict"] is None  # not judged in this run
    assert document["clauses"] == {
        "CAPS-ORDER-1": "INFORMATIONAL", "CAPS-SCHEMA-1": "PASS", "JPEG-CT-1": "PASS",
        "JPEG-SIZE-1": "FAIL", "SNAP-SRC-2": "UNSUPPORTED",
    }


def test_counts_by_level_add_up_to_the_catalogue() -> None:
    document = sample_document()
    table = document["counts_by_level"]
    assert sum(sum(row.values()) for row in table.values()) == len(document["catalogue"])
    assert table["MUST"]["FAIL"] == 1
    judged = sum(row[v] for row in table.values() for v in row if v != NOT_JUDGED)
    assert judged == sum(document["counts"].values()) == 5


def test_evidence_is_worst_first_one_per_message_and_capped() -> None:
    recorder = RunRecorder()
    recorder.begin("t", ["JPEG-SIZE-1"])
    findings = [Finding("JPEG-SIZE-1", Verdict.PASS, f"pair {n} ok") for n in range(8)]
    findings += [Finding("JPEG-SIZE-1", Verdict.PASS, "pair 0 ok")] * 3
    findings.append(Finding("JPEG-SIZE-1", Verdict.NON_STRICT, "odd"))
    recorder.record(findings)
    recorder.end(None, 0.0)
    document = build_report_data(Settings(), recorder, {}, STARTED, STARTED,
                                 hypothesis=HypothesisRun("dev", None, False))
    clause = _clause(document, "JPEG-SIZE-1")
    assert [e["message"] for e in clause["evidence"]] == ["odd"] + [
        f"pair {n} ok" for n in range(EVIDENCE_PER_CLAUSE - 1)
    ]
    assert clause["finding_counts"] == {"NON-STRICT": 1, "PASS": 11}


def test_a_clause_missing_from_the_catalogue_is_kept_and_counted_unlisted() -> None:
    recorder = RunRecorder()
    recorder.begin("t", ["NOPE-1"])
    recorder.record([Finding("NOPE-1", Verdict.FAIL, "a clause nobody wrote down")])
    recorder.end(None, 0.0)
    document = build_report_data(Settings(), recorder, {}, STARTED, STARTED,
                                 hypothesis=HypothesisRun("dev", None, False))
    assert document["catalogue"][-1]["id"] == "NOPE-1"
    assert document["catalogue"][-1]["level"] is None
    assert document["counts_by_level"]["UNLISTED"]["FAIL"] == 1
    assert validate_report(json.loads(json.dumps(document))) == []


def test_credentials_never_reach_the_document() -> None:
    document = sample_document(user="admin", password="s3cret-pw")
    assert "s3cret-pw" not in json.dumps(document)
    assert document["settings"]["password"] == "****"


def _set(path: tuple[str | int, ...], value: object) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        target: Any = document
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda document: document.pop(key)


BROKEN_DOCUMENTS = [
    pytest.param(_set(("version",), 1), "version", id="old-version"),
    pytest.param(_drop("catalogue"), "'catalogue' is a required property", id="no-catalogue"),
    pytest.param(_set(("tests", 0, "verdict"), "MAYBE"), "tests/0/verdict", id="bad-verdict"),
    pytest.param(_set(("settings", "password"), "s3cret"), "settings/password",
                 id="password-in-clear"),
    pytest.param(_set(("artifacts", "frame", 0, "thumbnail"), "http://x/y.jpg"),
                 "artifacts/frame/0/thumbnail", id="thumbnail-not-inline"),
    pytest.param(_set(("started",), "yesterday"), "started", id="not-a-date"),
    pytest.param(_set(("identity", "tls_certificate_sha256"), "zz"),
                 "identity/tls_certificate_sha256", id="bad-fingerprint"),
    pytest.param(_set(("catalogue", 0, "verdict"), "NOT-JUDGED"), "catalogue/0/verdict",
                 id="catalogue-verdict"),
]


@pytest.mark.parametrize(("change", "where"), BROKEN_DOCUMENTS)
def test_the_schema_says_where_a_document_is_wrong(
    change: Callable[[dict[str, Any]], None], where: str
) -> None:
    document = copy.deepcopy(sample_document())
    change(document)
    problems = validate_report(document)
    assert problems, "the schema accepted a broken document"
    assert any(where in problem for problem in problems), problems


FOLDERS = [
    (Settings(), "reference-default-20261125T093000Z"),
    (Settings(reference_profile="profiles/verso.toml"), "reference-verso-20261125T093000Z"),
    (Settings(device="http://192.0.2.7:8080"), "192.0.2.7_8080-20261125T093000Z"),
    (Settings(device="https://[2001:db8::1]"), "2001_db8_1-20261125T093000Z"),
]


@pytest.mark.parametrize(("settings", "name"), FOLDERS)
def test_the_report_folder_is_named_by_device_and_time(settings: Settings, name: str) -> None:
    assert report_folder_name(settings, datetime(2026, 11, 25, 9, 30, tzinfo=UTC)) == name


def test_the_sample_recorder_is_what_the_document_shows() -> None:
    recorder = sample_recorder()
    document = sample_document()
    assert [t["nodeid"] for t in document["tests"]] == [r.nodeid for r in recorder.records]
    assert set(document["artifacts"]) == {"frame", "stream", "snapshot", "time_shift"}
