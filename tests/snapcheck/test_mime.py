"""Tests of the MIME grammar pieces the multipart parser relies on."""

from __future__ import annotations

import pytest

from snapcheck.mime import LineKind, boundary_of, content_length, delimiter_lines, line_kind


@pytest.mark.parametrize(
    ("content_type", "boundary"),
    [
        ("multipart/x-mixed-replace; boundary=frame", "frame"),
        ("multipart/x-mixed-replace;boundary=boundarydonotcross", "boundarydonotcross"),
        ('multipart/x-mixed-replace; boundary="my boundary"', "my boundary"),
        ('multipart/x-mixed-replace; boundary="a\\"b"', 'a"b'),
        ("multipart/x-mixed-replace; charset=x; BOUNDARY=--myboundary ", "--myboundary"),
        ("multipart/x-mixed-replace", None),
        ("multipart/x-mixed-replace; boundary=", None),
        ("", None),
    ],
)
def test_the_boundary_parameter_is_read_as_declared(
    content_type: str, boundary: str | None
) -> None:
    assert boundary_of(content_type) == boundary


@pytest.mark.parametrize(
    ("boundary", "lines"),
    [
        ("frame", (b"--frame",)),
        ("--myboundary", (b"----myboundary", b"--myboundary")),
        (None, ()),
    ],
)
def test_a_leading_dash_boundary_allows_both_delimiter_lines(
    boundary: str | None, lines: tuple[bytes, ...]
) -> None:
    assert delimiter_lines(boundary) == lines


@pytest.mark.parametrize(
    ("data", "start", "kind"),
    [
        (b"Content-Type: image/jpeg\r\n", 0, LineKind.HEADER),
        (b"X:", 0, LineKind.HEADER),
        (b"\r\n", 0, LineKind.EMPTY),
        (b"\n", 0, LineKind.EMPTY),
        (b"abc\r\nX:", 5, LineKind.HEADER),
        (b"\r", 0, LineKind.UNDECIDED),
        (b"Content-Ty", 0, LineKind.UNDECIDED),
        (b"", 0, LineKind.UNDECIDED),
        (b"\xff\xd8\xff\xe0", 0, LineKind.OTHER),
        (b"no header\r\n", 0, LineKind.OTHER),
        (b":value", 0, LineKind.OTHER),
        (b"\rx", 0, LineKind.OTHER),
        (b"a" * 300, 0, LineKind.OTHER),
        (b"--frame\r\n", 0, LineKind.OTHER),
    ],
)
def test_a_line_is_classified_as_soon_as_its_bytes_tell(
    data: bytes, start: int, kind: LineKind
) -> None:
    assert line_kind(bytearray(data), start) is kind


@pytest.mark.parametrize(
    ("values", "length"),
    [
        (["1234"], 1234),
        (["1234", "1234"], 1234),
        (["1234", "1235"], None),
        ([], None),
        (["-1"], None),
        (["1e3"], None),
        (["1" * 16], None),
    ],
)
def test_content_length_is_one_agreed_decimal_number(values: list[str], length: int | None) -> None:
    assert content_length(values) == length
