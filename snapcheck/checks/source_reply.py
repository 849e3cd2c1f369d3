"""Whether a snapshot comes from the source asked for, judged by the time code it carries.

Strategy: the time code (docs/timecode.md) names the source that captured a frame. Where
that name is one caps list, it must be the source the request asked for (SNAP-SRC-4).
A frame without a readable code, or with a code naming no listed source (a lab pattern
called after nothing the device has), cannot be judged and says so (INFORMATIONAL):
the check never guesses. Nothing here decodes images; the caller reads the time code.
"""

from __future__ import annotations

from collections.abc import Sequence

from snapcheck.checks.findings import ReplyFindings
from snapcheck.exchange import Reply
from snapcheck.timecode import TimeCode
from snapcheck.verdicts import Finding, Verdict

SNAP_SRC_4 = "SNAP-SRC-4"


def check_source(
    reply: Reply, asked: str, code: TimeCode | None, listed: Sequence[str]
) -> list[Finding]:
    """SNAP-SRC-4 for a snapshot asked of source ``asked``, from the time code it carries."""
    out = ReplyFindings(reply)
    named = {source.lower(): source for source in listed}
    if code is None:
        out.add(SNAP_SRC_4, Verdict.INFORMATIONAL, "not judgeable: the frame carries no time code")
    elif code.source not in named:
        out.add(
            SNAP_SRC_4,
            Verdict.INFORMATIONAL,
            f"not judgeable: the time code names {code.source!r}, a source caps do not list",
            f"caps list {', '.join(listed)}",
        )
    else:
        out.judge(
            SNAP_SRC_4,
            named[code.source] == asked,
            f"source={asked} served a frame of source {asked}",
            f"source={asked} served a frame of source {named[code.source]}",
            f"time code: source {code.source}, seq {code.seq}, captured at {code.captured_ms} ms",
        )
    return out.items
