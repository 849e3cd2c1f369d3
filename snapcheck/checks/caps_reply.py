"""Checks of the /api/camera/caps reply, which every other test's expectations rest on.

Strategy: the envelope and the caps schema first (clients in the field have parsed caps
wrongly, so the schema is strict), then what the schema cannot say: duplicates
(CAPS-DUP-1) and the order and aspect ratios of the list, recorded as they are
(CAPS-ORDER-1). The caller gets the ``result`` member back only when it is trustworthy,
so that no expectation is built on a malformed caps reply.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from fractions import Fraction

from snapcheck.checks.clause_ids import CAPS_DUP_1, CAPS_ORDER_1, CAPS_SCHEMA_1
from snapcheck.checks.findings import ReplyFindings
from snapcheck.checks.json_reply import judge_success_json
from snapcheck.exchange import Reply
from snapcheck.verdicts import Finding, Verdict

CAPS_SCHEMA = "caps"
# Aspect ratios by their usual names; others are written as w:h in lowest terms.
ASPECT_NAMES: dict[Fraction, str] = {
    Fraction(4, 3): "4:3",
    Fraction(16, 9): "16:9",
    Fraction(11, 9): "11:9 (CIF)",
    Fraction(5, 3): "5:3",
    Fraction(16, 10): "16:10",
}


def check_caps_reply(reply: Reply) -> tuple[Mapping[str, object] | None, list[Finding]]:
    """Judge a caps reply; its ``result`` member when it validates (else None), and findings."""
    out = ReplyFindings(reply)
    document, valid = judge_success_json(
        out, reply, schema=CAPS_SCHEMA, schema_clause=CAPS_SCHEMA_1
    )
    result = document.get("result") if isinstance(document, Mapping) else None
    if not valid or not isinstance(result, Mapping):
        return None, out.items
    pairs = [(entry["width"], entry["height"]) for entry in result["jpegResolution"]]
    sources = [entry["source"] for entry in result["sources"]]
    _duplicates(out, pairs, sources)
    _order(out, pairs)
    return result, out.items


def _duplicates(out: ReplyFindings, pairs: list[tuple[int, int]], sources: list[str]) -> None:
    twice = [f"{w}x{h}" for (w, h), n in Counter(pairs).items() if n > 1]
    twice += [repr(source) for source, n in Counter(sources).items() if n > 1]
    out.judge(
        CAPS_DUP_1,
        not twice,
        f"{len(pairs)} distinct sizes and {len(sources)} distinct sources",
        "caps list the same entry more than once: " + ", ".join(twice),
        f"sizes: {_listing(pairs)}; sources: {sources}",
    )


def _order(out: ReplyFindings, pairs: list[tuple[int, int]]) -> None:
    areas = [w * h for w, h in pairs]
    if areas == sorted(areas):
        order = "ascending by size"
    elif areas == sorted(areas, reverse=True):
        order = "descending by size"
    else:
        order = "unsorted"
    aspects = sorted({_aspect(w, h) for w, h in pairs})
    out.add(
        CAPS_ORDER_1,
        Verdict.INFORMATIONAL,
        f"{len(pairs)} sizes, {order}, aspect ratios {', '.join(aspects)}",
        f"as listed: {_listing(pairs)}",
    )


def _aspect(width: int, height: int) -> str:
    ratio = Fraction(width, height)
    return ASPECT_NAMES.get(ratio, f"{ratio.numerator}:{ratio.denominator}")


def _listing(pairs: list[tuple[int, int]]) -> str:
    return ", ".join(f"{w}x{h}" for w, h in pairs)
