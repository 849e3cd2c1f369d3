"""The judgements the time and stateful suites compute themselves, on made-up time codes.

The suites judge TIME-AGE-1 from time codes compared with each other; these tests show
each judgement passing, failing (at the clause's SHOULD level: NON-STRICT) and falling
back to INFORMATIONAL when frames carry no time code, and the state machine noticing
stale live frames among scripted replies, without any device.
"""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from snapcheck.exchange import Reply, Request
from snapcheck.expected import Caps
from snapcheck.settings import Settings
from snapcheck.timecode import TimeCode
from snapcheck.verdicts import Finding, Verdict, worst
from suites.test_stateful import ClientsMachine, Freshness
from suites.test_time import age_finding

LIVE = TimeCode("internal", 500, 1_764_000_010_000)
CURL = "curl -sS 'http://127.0.0.1:1/api/camera/snapshot?width=640&height=480&time=-5'"


@pytest.mark.parametrize(
    ("shifted", "live", "verdict", "message"),
    [
        (TimeCode("internal", 425, 1_764_000_005_000), LIVE, Verdict.PASS, "5.00 s older"),
        (TimeCode("internal", 440, 1_764_000_005_950), LIVE, Verdict.PASS, "4.05 s older"),
        (TimeCode("internal", 470, 1_764_000_008_000), LIVE, Verdict.NON_STRICT, "2.00 s older"),
        (TimeCode("internal", 350, 1_764_000_000_000), LIVE, Verdict.NON_STRICT, "10.00 s"),
        (None, LIVE, Verdict.INFORMATIONAL, "not judgeable: frames carry no time code"),
        (TimeCode("internal", 425, 1_764_000_005_000), None, Verdict.INFORMATIONAL,
         "not judgeable: frames carry no time code"),
        (TimeCode("external", 425, 1_764_000_005_000), LIVE, Verdict.INFORMATIONAL,
         "not judgeable: the two frames come from different sources"),
    ],
)  # fmt: skip
def test_a_shifted_frame_is_judged_by_its_age_against_a_live_one(
    shifted: TimeCode | None, live: TimeCode | None, verdict: Verdict, message: str
) -> None:
    found = age_finding(5, shifted, live, CURL)
    assert (found.clause, found.verdict, found.curl) == ("TIME-AGE-1", verdict, CURL)
    assert message in found.message


def test_fresh_live_frames_pass_with_what_was_compared() -> None:
    found = Freshness(live_pairs=4, shifted_pairs=2, readable=7, curl=CURL).findings()
    assert [(f.verdict, f.message) for f in found] == [
        (Verdict.PASS, "0 of 4 live snapshots in turn went back in time"),
        (
            Verdict.PASS,
            "0 of 2 time-shifted frames were not older than the live frame fetched after them",
        ),
    ]
    assert all(f.clause == "TIME-AGE-1" and f.curl == CURL for f in found)


def test_live_frames_going_back_or_not_newer_are_non_strict() -> None:
    fresh = Freshness(
        live_pairs=3,
        shifted_pairs=1,
        readable=5,
        back=["live seq 40 then 38"],
        not_older=["time=-1 captured at 900 ms, live at 900"],
    )
    back, not_older = fresh.findings()
    assert (back.verdict, back.evidence) == (Verdict.NON_STRICT, "live seq 40 then 38")
    assert not_older.verdict is Verdict.NON_STRICT
    assert not_older.message.startswith("1 of 1 time-shifted frames were not older")


def test_without_time_codes_freshness_is_not_judgeable() -> None:
    [found] = Freshness(unreadable=6).findings()
    assert (found.verdict, found.message) == (
        Verdict.INFORMATIONAL,
        "not judgeable: frames carry no time code",
    )


def test_a_run_that_compared_nothing_claims_nothing() -> None:
    assert Freshness(readable=1).findings() == []


class ScriptedClients:
    """Just enough of a device for the state machine: time codes scripted per request.

    Live frames come from ``live_seqs`` in turn; a time-shifted frame is always seq 0 at
    ``shifted_ms``. Nothing crosses a wire: the machine's wiring is what is tested here.
    """

    def __init__(self, live_seqs: list[int], shifted_ms: int) -> None:
        self.caps = Caps(((320, 240),), ("internal",))
        self.settings = Settings()
        self.recorded: list[Finding] = []
        self._live = iter(live_seqs)
        self._shifted_ms = shifted_ms

    def request(self, params: dict[str, object]) -> Request:
        return Request("GET", "http://127.0.0.1:1", "/api/camera/snapshot",
                       tuple((k, str(v)) for k, v in params.items()))  # fmt: skip

    def expect(self, params: dict[str, object]) -> Reply:
        return Reply(self.request(params), 200)

    def fetch(self, request: Request, *, window_s: float) -> Reply:
        return Reply(request, 200)

    def check(self, reply: Reply) -> list[Finding]:
        return []

    def timecode(self, reply: Reply) -> TimeCode:
        if reply.request.param_values("time"):
            return TimeCode("internal", 0, self._shifted_ms)
        seq = next(self._live)
        return TimeCode("internal", seq, 1_000 * seq)

    def record(self, findings: list[Finding]) -> list[Finding]:
        self.recorded.extend(findings)
        return findings


def run_machine(device: ScriptedClients) -> dict[str, Verdict]:
    """Run the machine against scripted replies; the worst verdict of each invariant."""
    machine = type("ScriptedMachine", (ClientsMachine,), {"device": device})
    run_state_machine_as_test(
        machine, settings=settings(max_examples=10, stateful_step_count=10, derandomize=True)
    )
    by_invariant: dict[str, list[Verdict]] = {}
    for finding in device.recorded:
        _, _, _, invariant = finding.message.split(" ", 3)  # "N of M <invariant>"
        by_invariant.setdefault(invariant, []).append(finding.verdict)
    return {invariant: worst(verdicts) for invariant, verdicts in by_invariant.items()}


BACK = "live snapshots in turn went back in time"
NOT_OLDER = "time-shifted frames were not older than the live frame fetched after them"


@pytest.mark.parametrize(
    ("live_seqs", "shifted_ms", "expected"),
    [
        (list(range(1, 1000)), 0, {BACK: Verdict.PASS, NOT_OLDER: Verdict.PASS}),
        (list(range(1000, 0, -1)), 0, {BACK: Verdict.NON_STRICT, NOT_OLDER: Verdict.PASS}),
        (list(range(1, 1000)), 10**9, {BACK: Verdict.PASS, NOT_OLDER: Verdict.NON_STRICT}),
    ],
    ids=["fresh", "live going back", "shifted frames from the future"],
)
def test_the_state_machine_notices_stale_live_frames(
    live_seqs: list[int], shifted_ms: int, expected: dict[str, Verdict]
) -> None:
    assert run_machine(ScriptedClients(live_seqs, shifted_ms)) == expected
