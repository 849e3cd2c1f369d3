"""report.html: one self-contained, escaped page arranged for a certification engineer."""

from __future__ import annotations

import re
from typing import Any

import pytest
from report_documents import sample_document

from snapcheck.report.html import render_html, report_context, verdict_class

HOSTILE = "<script>alert('x')</script>"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    """The sample run's document."""
    return sample_document()


@pytest.fixture(scope="module")
def page(document: dict[str, Any]) -> str:
    """The sample run's page."""
    return render_html(document)


def test_the_page_loads_nothing_and_runs_nothing(page: str) -> None:
    assert re.findall(r'(?:src|href)="(?!data:|#)', page) == []
    assert "<script" not in page.lower()
    assert "@import" not in page and "url(" not in page
    assert "default-src 'none'; img-src data:; style-src 'unsafe-inline'" in page


def test_what_a_device_sent_is_escaped() -> None:
    document = sample_document()
    document["identity"]["system_info"]["variant"] = HOSTILE
    document["identity"]["server"] = HOSTILE
    document["artifacts"] = {}
    page = render_html(document)
    assert HOSTILE not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "expected 640x480 &lt;b&gt;" in page  # a finding's message


def test_the_masthead_names_device_and_overall_verdict(page: str) -> None:
    assert "<title>snapcheck report: 2N IP Verso (NOT CONFORMING)</title>" in page
    assert "Serial number 54-0000-0001" in page and "Firmware 2.35.0.45.0" in page
    assert '<div class="overall fail">' in page


def test_identity_and_run_are_shown(page: str) -> None:
    for shown in ("7C-1E-B3-00-00-01", "HIP2.35.0.45.0", "ab" * 32, "snapcheck 0.1.0",
                  "2026-11-25 09:30:00 UTC", "1 min 24 s",
                  "derandomized: drawn from each test&#39;s name (profile ci)"):
        assert shown in page, shown


def test_what_needs_attention_comes_first_with_its_curl(page: str) -> None:
    attention = page[page.index("What needs attention"):page.index('id="identity"')]
    assert "JPEG-SIZE-1" in attention and "size decoded: 320x240" in attention
    assert "$ curl -sS -D - &#39;http://127.0.0.1:8080/api/camera/snapshot?width=640&amp;" \
           "height=480&#39;" in attention
    assert "CAPS-SCHEMA-1" not in attention


def test_every_catalogue_clause_has_a_row(document: dict[str, Any], page: str) -> None:
    rows = re.findall(r'<tr id="([A-Z0-9-]+)">', page)
    assert rows == [c["id"] for c in document["catalogue"]]
    assert page.count('class="badge v-none">NOT JUDGED</span>') == sum(
        1 for c in document["catalogue"] if c["verdict"] is None)
    assert '<details open>' in page  # the FAIL's evidence is shown unfolded


def test_pictures_show_size_source_and_time_offset(page: str) -> None:
    pictures = page[page.index('id="pictures"'):page.index('id="plots"')]
    assert pictures.count("<figure class=") == 3
    assert pictures.count('<figure class="frame mismatch">') == 1
    assert "got 320x240" in pictures
    assert "time=-5 s" in pictures and "decoded age 5.02 s" in pictures


def test_plots_and_the_stream_table_are_embedded(page: str) -> None:
    assert page.count('<img src="data:image/png;base64,') == 4
    streams = page[page.index('class="streams"'):]
    assert "<td class=\"num\">4.90</td>" in streams  # achieved fps
    assert "<td class=\"num\">200.0</td>" in streams  # mean interval


def test_a_run_without_artifacts_says_so() -> None:
    document = sample_document()
    document["artifacts"] = {}
    page = render_html(document)
    assert "No frame was received in this run." in page
    assert "nothing to plot" in page


SEEDS = [
    (
        {"profile": "dev", "seed": "12345", "derandomize": False},
        "12345 (profile dev); replay with --hypothesis-seed=12345",
    ),
    ({"profile": "ci", "seed": None, "derandomize": True}, "derandomized"),
    ({"profile": "dev", "seed": None, "derandomize": False}, "--hypothesis-seed=N"),
]


@pytest.mark.parametrize(("hypothesis", "shown"), SEEDS)
def test_the_hypothesis_seed_is_explained(hypothesis: dict[str, Any], shown: str) -> None:
    document = sample_document()
    document["hypothesis"] = hypothesis
    document["artifacts"] = {}  # no plots to draw: only the rows are read
    rows = dict(report_context(document)["run_rows"])
    assert shown in rows["Hypothesis seed"]


@pytest.mark.parametrize(("verdict", "css"), [
    ("PASS", "v-pass"), ("NON-STRICT", "v-nonstrict"), ("DEVICE-UNREACHABLE",
                                                        "v-deviceunreachable"), (None, "v-none"),
])
def test_each_verdict_has_its_badge_class(verdict: str | None, css: str) -> None:
    assert verdict_class(verdict) == css
