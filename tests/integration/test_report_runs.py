"""Reports of real runs: one against the bundled device, one against a broken device.

Each run is ``python -m pytest`` on a small conformance file (``report_runs``), made once
per session; these tests read the folder it wrote as a certification engineer or a CI
system would: report.json (held to its schema), report.html and junit.xml, and
``snapcheck report`` rendering the page again from the JSON alone.
"""

from __future__ import annotations

import base64
import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from PIL import Image
from report_runs import BROKEN_SIZES, Run

from snapcheck.cli import main
from snapcheck.report import validate_report
from snapcheck.report.pictures import DATA_URI_PREFIX, THUMB_WIDTH

PLOT_IDS = ("plot-fps", "plot-intervals", "plot-latency", "plot-time")


def _frames(document: dict[str, Any]) -> list[dict[str, Any]]:
    frames = document["artifacts"]["frame"]
    assert isinstance(frames, list)
    return frames


def _junit_cases(run: Run) -> list[ET.Element]:
    root = ET.parse(run.folder / "junit.xml").getroot()
    return root.findall("./testsuite/testcase")


def test_a_run_against_the_bundled_device_passes_and_its_report_validates(
    passing_run: Run,
) -> None:
    assert passing_run.status == 0, passing_run.output
    document = passing_run.json()
    assert validate_report(document) == []
    assert document["failed"] is False
    assert f"snapcheck: report in {passing_run.folder}" in passing_run.output
    html = (passing_run.folder / "report.html").read_text("utf-8")
    assert "CONFORMING" in html and "NOT CONFORMING" not in html


def test_the_report_pictures_every_advertised_size_and_source(passing_run: Run) -> None:
    document = passing_run.json()
    caps = document["identity"]["caps"]
    live = [f for f in _frames(document) if f["time_offset_s"] is None]
    snapshots = {f["resolution"] for f in live if f["delivery"] == "snapshot"}
    assert snapshots == set(caps["resolutions"])
    assert {f["source"] for f in live} >= {"default", *caps["sources"]}
    assert all(f"{f['width']}x{f['height']}" == f["resolution"] for f in live)
    assert any(f["delivery"] == "stream" for f in live)


def test_time_shifted_frames_show_the_age_their_time_code_decodes_to(passing_run: Run) -> None:
    shifts = passing_run.json()["artifacts"]["time_shift"]
    ages = {s["requested_offset_s"]: s["decoded_age_s"] for s in shifts}
    assert set(ages) == {0, -2, -5}
    # TIME-AGE-1 allows ±1 s; the reference device keeps frames at their exact age.
    assert all(abs(age + offset) <= 1.0 for offset, age in ages.items())
    shifted = [f for f in _frames(passing_run.json()) if f["time_offset_s"] is not None]
    assert sorted(f["time_offset_s"] for f in shifted) == [-5, -2, 0]


def test_streams_keep_every_part_arrival(passing_run: Run) -> None:
    (stream,) = passing_run.json()["artifacts"]["stream"]
    assert stream["requested_fps"] == 5
    assert stream["parts"] == len(stream["arrivals_s"]) >= 2
    assert stream["arrivals_s"] == sorted(stream["arrivals_s"])


def test_the_page_embeds_every_thumbnail_and_every_plot(passing_run: Run) -> None:
    html = (passing_run.folder / "report.html").read_text("utf-8")
    thumbnails = re.findall(r'<img src="data:image/jpeg;base64,', html)
    assert len(thumbnails) == len(_frames(passing_run.json()))
    for plot in PLOT_IDS:
        assert f'id="{plot}"' in html
    assert re.findall(r'(?:src|href)="(?!data:|#)', html) == []


def test_junit_names_every_test_by_its_clauses(passing_run: Run) -> None:
    cases = _junit_cases(passing_run)
    tests = passing_run.json()["tests"]
    assert [c.get("name") for c in cases] == [
        f"[{' '.join(t['clauses'])}] {t['nodeid'].split('::', 1)[1]}" for t in tests
    ]
    assert "[CAPS-PAIR-1 JPEG-SIZE-1 JPEG-CT-1 JPEG-DECODE-1] test_every_advertised_pair" in (
        cases[0].get("name") or ""
    )
    assert all(c.find("failure") is None and c.find("error") is None for c in cases)


def test_a_broken_device_fails_and_the_report_shows_where(broken_run: Run) -> None:
    assert broken_run.status == 1, broken_run.output
    document = broken_run.json()
    assert validate_report(document) == []
    assert document["failed"] is True
    assert document["clauses"]["JPEG-SIZE-1"] == "FAIL"
    assert document["clauses"]["STREAM-CT-1"] == "FAIL"
    html = (broken_run.folder / "report.html").read_text("utf-8")
    assert "NOT CONFORMING" in html
    assert "Broken &lt;Cam&gt; &amp; Co" in html and "Broken <Cam>" not in html
    wide, high = BROKEN_SIZES[1]
    assert f"width={wide}&amp;height={high}" in html  # the curl line that reproduces it
    assert 'class="frame mismatch"' in html and "got 320x240" in html


def test_junit_reports_the_broken_device_as_failures_with_curl(broken_run: Run) -> None:
    failures = {c.get("name", ""): c.find("failure") for c in _junit_cases(broken_run)}
    failed = {name: f for name, f in failures.items() if f is not None}
    assert sorted(failed) == [
        "[CAPS-PAIR-1 JPEG-SIZE-1 JPEG-CT-1 JPEG-DECODE-1]"
        " test_every_advertised_pair_gives_a_jpeg_of_that_size",
        "[STREAM-CT-1 STREAM-RATE-1 STREAM-LIVE-1] test_a_stream_at_5_fps",
    ]
    for failure in failed.values():
        assert (failure.get("message") or "").startswith("FAIL: ")
        assert "reproduce: curl " in (failure.text or "")


def test_snapcheck_report_renders_the_same_page_from_the_json(
    broken_run: Run, tmp_path: Path
) -> None:
    out = io.StringIO()
    status = main(["report", str(broken_run.folder / "report.json"), "--out", str(tmp_path)],
                  out=out)
    assert status == 0
    assert out.getvalue().splitlines() == [
        f"wrote {tmp_path / 'report.html'}", f"wrote {tmp_path / 'junit.xml'}",
    ]
    original = (broken_run.folder / "report.html").read_text("utf-8")
    assert (tmp_path / "report.html").read_text("utf-8") == original
    assert (tmp_path / "junit.xml").read_bytes() == (broken_run.folder / "junit.xml").read_bytes()


def test_thumbnails_are_small_jpegs_and_the_page_stays_small(passing_run: Run) -> None:
    for frame in _frames(passing_run.json()):
        data = base64.b64decode(frame["thumbnail"].removeprefix(DATA_URI_PREFIX))
        with Image.open(io.BytesIO(data)) as image:
            assert image.format == "JPEG"
            assert image.width == min(THUMB_WIDTH, frame["width"])
    # Ten sizes, two sources, a stream, three time offsets and four plots: well under 1 MB.
    assert (passing_run.folder / "report.html").stat().st_size < 1_000_000
