"""The recorder turns findings into per-test and per-clause verdicts."""

from __future__ import annotations

import threading

import pytest

from snapcheck.recorder import RunRecorder
from snapcheck.verdicts import Finding, Verdict


def _finding(clause: str, verdict: Verdict) -> Finding:
    return Finding(clause, verdict, f"{clause} was {verdict.value}")


def test_a_test_without_explicit_verdict_takes_its_worst_finding() -> None:
    recorder = RunRecorder()
    recorder.begin("suites/test_x.py::test_a", ["JPEG-CT-1"])
    recorder.record([_finding("JPEG-CT-1", Verdict.PASS), _finding("JPEG-TRAIL-1",
                                                                   Verdict.NON_STRICT)])
    record = recorder.end(None, 0.1)
    assert record.verdict is Verdict.NON_STRICT
    assert record.clauses == ("JPEG-CT-1",)
    assert not recorder.failed(strict=False)
    assert recorder.failed(strict=True)


def test_clause_verdicts_keep_the_worst_over_the_run() -> None:
    recorder = RunRecorder()
    for verdict in (Verdict.PASS, Verdict.FAIL, Verdict.PASS):
        recorder.begin("t", ["SNAP-WH-1"])
        recorder.record([_finding("SNAP-WH-1", verdict)])
        recorder.end(None, 0.0)
    assert recorder.clause_verdicts() == {"SNAP-WH-1": Verdict.FAIL}
    assert recorder.counts()[Verdict.FAIL] == 1
    assert recorder.failed(strict=False)


def test_unsupported_tests_mark_their_clauses_unsupported_not_passed() -> None:
    recorder = RunRecorder()
    recorder.begin("t", ["CAPS-SOURCE-1"])
    recorder.end(Verdict.UNSUPPORTED, 0.0, "no external source in caps")
    assert recorder.clause_verdicts() == {"CAPS-SOURCE-1": Verdict.UNSUPPORTED}
    assert not recorder.failed(strict=True)


def test_findings_from_threads_land_in_the_test_under_way() -> None:
    recorder = RunRecorder()
    recorder.begin("t", ["STREAM-LIVE-1"])
    threads = [
        threading.Thread(target=recorder.record, args=([_finding("STREAM-LIVE-1", Verdict.PASS)],))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(recorder.end(None, 0.0).findings) == 8


def test_device_unreachable_fails_the_run() -> None:
    recorder = RunRecorder()
    recorder.begin("t", ["TRANSPORT-1"])
    recorder.end(Verdict.DEVICE_UNREACHABLE, 0.0)
    assert recorder.failed(strict=False)


def test_findings_recorded_outside_a_test_are_kept() -> None:
    recorder = RunRecorder()
    recorder.record([_finding("FPS-MAX-2", Verdict.INFORMATIONAL)])
    recorder.begin("t", ["JPEG-CT-1"])
    recorder.record([_finding("JPEG-CT-1", Verdict.PASS)])
    recorder.end(None, 0.0)
    assert [record.nodeid for record in recorder.records] == ["session", "t"]
    assert recorder.clause_verdicts() == {"FPS-MAX-2": Verdict.INFORMATIONAL,
                                          "JPEG-CT-1": Verdict.PASS}


@pytest.mark.parametrize(
    ("verdicts", "summed"),
    [
        ((Verdict.PASS, Verdict.INFORMATIONAL), Verdict.PASS),
        ((Verdict.INFORMATIONAL,), Verdict.INFORMATIONAL),
        ((Verdict.UNSUPPORTED, Verdict.PASS), Verdict.PASS),
        ((Verdict.UNSUPPORTED, Verdict.INFORMATIONAL), Verdict.INFORMATIONAL),
        ((Verdict.PASS, Verdict.NON_STRICT, Verdict.INFORMATIONAL), Verdict.NON_STRICT),
        ((Verdict.PASS, Verdict.FAIL), Verdict.FAIL),
    ],
)
def test_a_clause_judged_somewhere_is_not_hidden_by_a_record_elsewhere(
    verdicts: tuple[Verdict, ...], summed: Verdict
) -> None:
    recorder = RunRecorder()
    for verdict in verdicts:
        recorder.begin("t", ["TIME-SINGLE-1"])
        recorder.record([_finding("TIME-SINGLE-1", verdict)])
        recorder.end(None, 0.0)
    assert recorder.clause_verdicts() == {"TIME-SINGLE-1": summed}
