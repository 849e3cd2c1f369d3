"""report.html in a real browser: headless Chromium opens it offline, as an attachment would be.

For the reports of both real runs (the bundled device, the broken device) the page must
load with the network switched off, request nothing but its own file and the data: URIs
inside it, decode every thumbnail and plot, and log no console error or exception.
Chromium is Debian's package (``.ci/run`` installs it); without it these tests FAIL,
never skip: an unchecked report is not a checked one. A full-page screenshot of each
report is kept beside it (``report.png``) for a human to look at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from headless_browser import BrowserMissing, PageLoad, find_chromium, open_page
from report_runs import Run

from snapcheck.report.pictures import THUMB_WIDTH

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True, slots=True)
class Expected:
    """A run to open, the verdict its title ends with, and how many plots it has data for."""

    run: str
    verdict: str
    plots: int


RUNS = [
    pytest.param(Expected("passing_run", "(CONFORMING)", 4), id="bundled-device"),
    pytest.param(Expected("broken_run", "(NOT CONFORMING)", 1), id="broken-device"),
]


@pytest.fixture(scope="module")
def chromium() -> str:
    """Chromium's executable; the test fails (not skips) when it is missing."""
    try:
        return find_chromium()
    except BrowserMissing as missing:
        pytest.fail(str(missing))


@pytest.fixture(scope="module", params=RUNS)
def opened(
    request: pytest.FixtureRequest, chromium: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Expected, Run, PageLoad]:
    """A run's report.html opened once in a fresh Chromium profile (screenshot kept beside it)."""
    expected: Expected = request.param
    run: Run = request.getfixturevalue(expected.run)
    load = open_page(run.folder / "report.html", tmp_path_factory.mktemp("chromium-profile"))
    (run.folder / "report.png").write_bytes(load.screenshot)
    return expected, run, load


def test_the_page_loads_offline_without_errors(opened: tuple[Expected, Run, PageLoad]) -> None:
    expected, run, load = opened
    page = (run.folder / "report.html").resolve().as_uri()
    assert [url for url in load.requests if url != page and not url.startswith("data:")] == []
    assert load.errors == []
    assert load.title.endswith(expected.verdict)
    variant = run.json()["identity"]["system_info"]["variant"]
    assert variant in load.text  # shown as text, escaped in the markup
    assert load.screenshot.startswith(PNG_SIGNATURE)


def test_every_thumbnail_and_plot_decodes(opened: tuple[Expected, Run, PageLoad]) -> None:
    expected, run, load = opened
    html = (run.folder / "report.html").read_text("utf-8")
    assert len(load.images) == len(re.findall(r"<img ", html))
    thumbnails = [image for image in load.images if image[0] == "data:image/jpeg;base64,"]
    drawn = [image for image in load.images if image[0] == "data:image/png;base64,"]
    assert len(thumbnails) == len(run.json()["artifacts"]["frame"]) > 0
    assert len(drawn) == expected.plots
    assert len(thumbnails) + len(drawn) == len(load.images)
    assert all(0 < width <= THUMB_WIDTH and height > 0 for _, width, height in thumbnails)
    assert all(width > 400 and height > 200 for _, width, height in drawn)
