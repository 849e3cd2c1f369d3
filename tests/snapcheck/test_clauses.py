"""Tests of the clause catalogue: its content, its validation, and the IDs code uses."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from snapcheck.clauses import (
    CLAUSE_ID_PATTERN,
    Area,
    Catalogue,
    Clause,
    load_catalogue,
    parse_catalogue,
)
from snapcheck.verdicts import Level

ROOT = Path(__file__).resolve().parents[2]
SCANNED_TREES = ("snapcheck", "suites")

# Strings of clause-ID shape that are names from other standards, not clause IDs.
NOT_CLAUSE_IDS = frozenset(
    {"UTF-8", "UTF-16", "ISO-8859-1", "SHA-1", "SHA-256", "SHA-512", "SHA-512-256"}
)

# The fixed IDs of the planning list (helper-clauses.md): never renamed, never dropped.
FIXED_IDS = (
    "ENV-JSON-1", "ENV-SCHEMA-1", "ENV-SCHEMA-2", "ENV-SYNTAX-1", "ENV-STATUS-1", "ENV-CODE-1",
    "ENV-PATH-1", "CAPS-SCHEMA-1", "CAPS-METHOD-1", "CAPS-PAIR-1", "CAPS-SOURCE-1",
    "CAPS-DUP-1", "CAPS-ORDER-1", "SNAP-WH-1", "SNAP-WH-2", "SNAP-WH-3", "SNAP-WH-4",
    "SNAP-SRC-1", "SNAP-SRC-2", "SNAP-METHOD-1", "SNAP-METHOD-2", "SNAP-METHOD-3",
    "SNAP-EXTRA-1", "SNAP-REPEAT-1", "JPEG-CT-1", "JPEG-SOI-1", "JPEG-EOI-1", "JPEG-DECODE-1",
    "JPEG-SIZE-1", "JPEG-CL-1", "JPEG-TRAIL-1", "JPEG-FORMAT-1", "FPS-SINGLE-1", "FPS-NEG-1",
    "FPS-FRAC-1", "FPS-MAX-1", "FPS-MAX-2", "STREAM-CT-1", "STREAM-BOUNDARY-1",
    "STREAM-BOUNDARY-2", "STREAM-LEAD-1", "STREAM-PART-CT-1", "STREAM-PART-CL-1",
    "STREAM-PART-CL-2", "STREAM-PART-JPEG-1", "STREAM-FRAMING-1", "STREAM-LIVE-1",
    "STREAM-RATE-1", "STREAM-RATE-2", "STREAM-RATE-3", "STREAM-FRESH-1", "STREAM-END-1",
    "TIME-SINGLE-1", "TIME-SIZE-1", "TIME-CLAMP-1", "TIME-RANGE-1", "TIME-FRAC-1",
    "TIME-HISTORY-1", "TIME-AGE-1", "AUTH-CHALLENGE-1", "AUTH-WRONG-1", "AUTH-DOWNGRADE-1",
    "AUTH-PRIV-1", "AUTH-DISABLED-1", "AUTH-HTTPS-1", "AUTH-REPLAY-1", "AUTH-OPEN-1",
    "INFO-SCHEMA-1", "TRANSPORT-1",
)  # fmt: skip

VALID_CLAUSE = """
[clients]
"VLC" = "VLC"

[[clause]]
id = "ENV-JSON-1"
area = "envelope"
level = "MUST"
requirement = "a JSON reply is application/json"
source = "seed 5.8.2 reply"
breaks = ["VLC"]
"""


def test_every_fixed_id_of_the_planning_list_is_in_the_catalogue() -> None:
    missing = [clause_id for clause_id in FIXED_IDS if clause_id not in load_catalogue()]
    assert missing == []


@pytest.mark.parametrize(
    ("clause_id", "level", "area"),
    [
        ("ENV-JSON-1", Level.MUST, Area.ENVELOPE),
        ("ENV-SYNTAX-1", Level.SHOULD, Area.ENVELOPE),
        ("CAPS-ORDER-1", Level.INFORMATIONAL, Area.CAPS),
        ("SNAP-WH-2", Level.SHOULD, Area.PARAMETERS),
        ("FPS-FRAC-1", Level.INFORMATIONAL, Area.FPS),
        ("STREAM-LEAD-1", Level.SHOULD, Area.STREAM),
        ("TIME-CLAMP-1", Level.MUST, Area.TIME),
        ("AUTH-OPEN-1", Level.MUST, Area.ACCESS),
        ("INFO-SCHEMA-1", Level.MUST, Area.INFO),
        ("TRANSPORT-1", Level.MUST, Area.TRANSPORT),
    ],
)
def test_clause_levels_and_areas_follow_the_contract(
    clause_id: str, level: Level, area: Area
) -> None:
    clause = load_catalogue().get(clause_id)
    assert (clause.level, clause.area) == (level, area)


def test_a_clause_carries_its_quote_source_clients_and_decision() -> None:
    clause = load_catalogue().get("STREAM-LEAD-1")
    assert isinstance(clause, Clause)
    assert "leading boundary" in clause.requirement
    assert clause.source.startswith("API-FACTS decision:")
    assert clause.breaks == ("ffmpeg/ffprobe", "OpenCV")
    assert load_catalogue().get("SNAP-SRC-2").decision is not None


def test_seed_quotes_are_verbatim() -> None:
    seed_clause = load_catalogue().get("TIME-RANGE-1")
    assert seed_clause.requirement == (
        "The time values must be within the intercom memory range: <-30, 0> seconds."
    )


def test_unknown_id_raises_key_error_naming_close_ids() -> None:
    with pytest.raises(KeyError, match=r"SNAP-WH-9.*did you mean.*SNAP-WH-"):
        load_catalogue().get("SNAP-WH-9")


def test_iteration_length_membership_and_ids_agree() -> None:
    catalogue = load_catalogue()
    assert [clause.id for clause in catalogue] == list(catalogue.ids)
    assert len(catalogue) == len(catalogue.ids) == len(set(catalogue.ids))
    assert "TRANSPORT-1" in catalogue
    assert "NOPE-1" not in catalogue


@pytest.mark.parametrize("area", list(Area))
def test_every_area_has_clauses_and_by_area_accepts_its_name(area: Area) -> None:
    catalogue = load_catalogue()
    clauses = catalogue.by_area(area.value)
    assert clauses
    assert all(clause.area is area for clause in clauses)
    assert clauses == catalogue.by_area(area)


def test_by_area_refuses_an_unknown_area() -> None:
    with pytest.raises(ValueError, match="nowhere"):
        load_catalogue().by_area("nowhere")


def test_every_named_client_is_broken_by_some_clause() -> None:
    catalogue = load_catalogue()
    used = {name for clause in catalogue for name in clause.breaks}
    assert set(catalogue.clients) == used


def test_every_id_has_the_fixed_shape() -> None:
    assert all(CLAUSE_ID_PATTERN.fullmatch(clause_id) for clause_id in load_catalogue().ids)


def test_load_catalogue_reads_a_given_file(tmp_path: Path) -> None:
    path = tmp_path / "clauses.toml"
    path.write_text(VALID_CLAUSE, "utf-8")
    catalogue = load_catalogue(path)
    assert catalogue.ids == ("ENV-JSON-1",)
    assert catalogue.clients == {"VLC": "VLC"}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda text: text + "[[clause]]" + text.split("[[clause]]")[1], "defined twice"),
        (lambda text: text.replace('"ENV-JSON-1"', '"env-json-1"'), "does not match"),
        (lambda text: text.replace('"ENV-JSON-1"', '"ENV-JSON"'), "does not match"),
        (lambda text: text.replace('"MUST"', '"MAY"'), "'MAY' is not a valid Level"),
        (lambda text: text.replace('"envelope"', '"video"'), "'video' is not a valid Area"),
        (lambda text: text.replace('"a JSON reply is application/json"', '"  "'), "requirement"),
        (lambda text: text.replace('source = "seed 5.8.2 reply"', ""), "missing keys"),
        (lambda text: text + 'colour = "red"\n', "unknown keys \\['colour'\\]"),
        (lambda text: text.replace('["VLC"]', '["Netscape"]'), "Netscape"),
        (lambda text: text.replace('["VLC"]', '"VLC"'), "breaks must be a list"),
        (lambda text: text + 'decision = ""\n', "decision must be a non-empty string"),
        (lambda text: text.split("[[clause]]")[0], "at least one"),
        (lambda text: text.replace("[[clause]]", "[[clause"), "not valid TOML"),
        (lambda text: text.replace('"VLC" = "VLC"', '"VLC" = 3'), "clients"),
    ],
)
def test_a_malformed_catalogue_is_refused_with_a_clear_message(
    edit: Callable[[str], str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        parse_catalogue(edit(VALID_CLAUSE))


def test_the_valid_fixture_itself_parses() -> None:
    assert isinstance(parse_catalogue(VALID_CLAUSE), Catalogue)


def clause_like_literals(source: str) -> Iterator[tuple[int, str]]:
    """Every string literal of clause-ID shape in Python source, with its line."""
    constants = (node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Constant))
    for node in constants:
        value = node.value
        if (
            isinstance(value, str)
            and CLAUSE_ID_PATTERN.fullmatch(value)
            and value not in NOT_CLAUSE_IDS
        ):
            yield node.lineno, value


def test_the_scanner_finds_ids_in_calls_tuples_and_f_strings() -> None:
    source = 'f("SNAP-WH-1")\nx = ("TIME-AGE-1", "UTF-8", "not an id")\ny = f"{a}" "ENV-PATH-1"\n'
    assert sorted(value for _, value in clause_like_literals(source)) == [
        "ENV-PATH-1",
        "SNAP-WH-1",
        "TIME-AGE-1",
    ]


def test_every_clause_id_used_in_code_is_in_the_catalogue() -> None:
    catalogue = load_catalogue()
    unknown = [
        f"{path.relative_to(ROOT)}:{line}: {value}"
        for tree in SCANNED_TREES
        for path in sorted((ROOT / tree).rglob("*.py"))
        for line, value in clause_like_literals(path.read_text("utf-8"))
        if value not in catalogue
    ]
    assert unknown == []
