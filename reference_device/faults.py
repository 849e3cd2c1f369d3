"""The fault zoo: deliberate defects the reference device can switch on, one table row each.

Strategy: snapcheck proves its sensitivity by failing a device that breaks the contract
on purpose, and its restraint by passing the same device without them. Each row of
``FAULTS`` names one defect, the catalogue clauses it breaks, its area, one line on what
the device then does, what a vendor sees in the report, and its ``Behaviour`` (built from
the blocks in fault_behaviours.py). ``python -m reference_device --fault NAME[,NAME]``
(``DeviceOptions.faults``, ``running_reference_device(fault=...)``) switches rows on;
``--list-faults`` prints the table as text, JSON (what ``snapcheck killmatrix`` reads)
or the Markdown that docs/faults.md carries.

A fault that breaks only a SHOULD is ``strict``: the suite reports it NON-STRICT, which
fails a run under ``--strict``. ``setup`` holds the device's own flags without which a
fault cannot be seen (an access fault needs authentication on).

What never belongs here: how a behaviour is carried out (fault_behaviours.py and the
hooks in server.py, params.py, streaming.py, access.py), and any knowledge of snapcheck.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from reference_device import fault_behaviours as fb
from reference_device.access import AccessFault
from reference_device.fault_behaviours import Behaviour, FaultSet
from reference_device.params import HISTORY_MAX_SIZE

SNAPSHOT_PATH = "/api/camera/snapshot"
CAPS_PATH = "/api/camera/caps"
INFO_PATH = "/api/system/info"
# Longer than any request timeout a client would wait: the reply is as good as never.
SLOW_REPLY_S = 30.0
STALE_BY_S = 10.0
UPSCALED_SIZE = (1600, 1200)
PHANTOM_PAIR = (2048, 1536)
GARBAGE = b"\x00snapcheck fault: bytes after the end of the image\x00"
# The device's own flags that make the access faults observable: Digest on, one account
# with the Camera Monitoring privilege and one without.
ACCESS_SETUP = (
    "--auth",
    "digest",
    "--user",
    "admin:zoo-admin-secret",
    "--user",
    "viewer:zoo-viewer-secret:nocamera",
)
LISTING_FORMATS = ("text", "json", "markdown")


class Area(enum.StrEnum):
    """Where in the contract a fault lies."""

    CONTENT_TYPES = "content types"
    JPEG = "JPEG structure and size"
    CAPS = "caps"
    PARAMETERS = "parameter validation"
    ENVELOPE = "error codes, envelope and HTTP status"
    FRAMING = "stream framing"
    PACING = "stream pacing and liveness"
    TIME = "time semantics"
    STALE = "stale frames"
    SOURCES = "sources"
    METHODS = "methods"
    ACCESS = "access control"
    SLOW = "slow and hanging replies"
    INFO = "system info"


@dataclass(frozen=True, slots=True)
class Fault:
    """One deliberate defect: what it breaks, what the device does, what a vendor sees."""

    name: str
    area: Area
    clauses: tuple[str, ...]
    description: str
    seen: str
    behaviour: Behaviour
    strict: bool = False
    setup: tuple[str, ...] = ()

    def as_json(self) -> dict[str, object]:
        """The row as ``--list-faults json`` prints it."""
        return {
            "name": self.name,
            "area": self.area.value,
            "clauses": list(self.clauses),
            "description": self.description,
            "seen": self.seen,
            "strict": self.strict,
            "setup": list(self.setup),
        }


def _fault(
    name: str,
    area: Area,
    clauses: str,
    behaviour: Behaviour,
    *,
    does: str,
    seen: str,
    strict: bool = False,
    setup: tuple[str, ...] = (),
) -> Fault:
    """A row, its clauses written as one space-separated string."""
    return Fault(name, area, tuple(clauses.split()), does, seen, behaviour, strict, setup)


# Short names keep each row of the table to a few lines.
A = Area
B = Behaviour
FAULTS: tuple[Fault, ...] = (
    # ---- content types
    _fault(
        "jpeg-as-text-plain", A.CONTENT_TYPES, "JPEG-CT-1",
        B(reply=fb.on_jpeg(fb.labelled("text/plain"))),
        does="a snapshot's JPEG is labelled Content-Type: text/plain",
        seen="JPEG-CT-1 FAIL: the image comes as 'text/plain', not image/jpeg",
    ),
    _fault(
        "error-as-text-html", A.CONTENT_TYPES, "ENV-JSON-1",
        B(reply=fb.on_error_reply(fb.labelled("text/html"))),
        does="JSON error replies are labelled Content-Type: text/html",
        seen="ENV-JSON-1 FAIL: the JSON body comes as 'text/html', not application/json",
    ),
    # ---- JPEG structure and size
    _fault(
        "truncated-eoi", A.JPEG, "JPEG-EOI-1 JPEG-DECODE-1", B(reply=fb.on_jpeg(fb.truncated)),
        does="a snapshot's JPEG lacks its last two bytes, the EOI marker",
        seen="JPEG-EOI-1 FAIL: the marker walk never reaches an EOI marker; JPEG-DECODE-1 FAIL",
    ),
    _fault(
        "trailing-garbage", A.JPEG, "JPEG-TRAIL-1", B(reply=fb.on_jpeg(fb.with_trailer(GARBAGE))),
        does="bytes of garbage follow the EOI marker of every snapshot",
        seen="JPEG-TRAIL-1 NON-STRICT: 51 bytes follow the EOI marker",
        strict=True,
    ),
    _fault(
        "size-off-by-one", A.JPEG, "JPEG-SIZE-1 CAPS-PAIR-1 STREAM-PART-JPEG-1 TIME-SIZE-1",
        B(request=fb.one_pixel_narrower),
        does="every image is one pixel narrower than the size asked",
        seen="JPEG-SIZE-1 FAIL: the image is 159x120, expected 160x120; CAPS-PAIR-1 FAIL",
    ),
    _fault(
        "png-bytes", A.JPEG, "JPEG-SOI-1 JPEG-DECODE-1", B(reply=fb.on_jpeg(fb.as_png)),
        does="snapshots are PNG pictures sent as image/jpeg",
        seen="JPEG-SOI-1 FAIL: the body does not start with the SOI marker ff d8",
    ),
    _fault(
        "upscaled-past-clamp", A.JPEG, "TIME-CLAMP-1 TIME-SIZE-1 JPEG-SIZE-1",
        B(request=fb.history_at(lambda snap: UPSCALED_SIZE)),
        does=f"time-shifted snapshots are upscaled to {UPSCALED_SIZE[0]}x{UPSCALED_SIZE[1]},"
            " past the 1280x960 limit",
        seen="JPEG-SIZE-1 FAIL: the image is 1600x1200, expected 320x240",
    ),
    # ---- caps that lie
    _fault(
        "caps-phantom-pair", A.CAPS, "CAPS-PAIR-1",
        B(reply=fb.on_result(CAPS_PATH, fb.extra_pair(*PHANTOM_PAIR))),
        does="caps advertise 2048x1536, which the snapshot refuses with error 12",
        seen="CAPS-PAIR-1 FAIL: expected a 2048x1536 JPEG; got error 12 naming width",
    ),
    _fault(
        "caps-duplicates", A.CAPS, "CAPS-DUP-1",
        B(reply=fb.on_result(CAPS_PATH, fb.duplicated_caps)),
        does="caps list their first pair and their first source twice",
        seen="CAPS-DUP-1 NON-STRICT: caps list the same entry more than once",
        strict=True,
    ),
    _fault(
        "caps-wrong-keys", A.CAPS, "CAPS-SCHEMA-1",
        B(reply=fb.on_result(CAPS_PATH, fb.wrong_caps_keys)),
        does="caps name the list 'resolutions' and its members 'w' and 'h'",
        seen="CAPS-SCHEMA-1 FAIL: 'jpegResolution' is a required property; every test needing "
        "caps fails",
    ),
    # ---- validation of each parameter
    _fault(
        "width-unchecked", A.PARAMETERS, "SNAP-WH-1", B(pair=fb.pair_by(1)),
        does="the width is not checked: a listed height gets its pair, whatever the width",
        seen="SNAP-WH-1 FAIL: expected error 12 naming height or width; got a 1920x1080 JPEG",
    ),
    _fault(
        "height-unchecked", A.PARAMETERS, "SNAP-WH-1", B(pair=fb.pair_by(0)),
        does="the height is not checked: a listed width gets its pair, whatever the height",
        seen="SNAP-WH-1 FAIL: expected error 12 naming height or width; got a JPEG",
    ),
    _fault(
        "source-any-case", A.PARAMETERS, "SNAP-SRC-2",
        B(params=fb.lenient("source", fb.source_any_case)),
        does="source names are accepted in any case (Internal, INTERNAL)",
        seen="SNAP-SRC-2 FAIL: expected error 12 naming source; got a JPEG",
    ),
    _fault(
        "fps-negative-accepted", A.PARAMETERS, "FPS-NEG-1",
        B(params=fb.lenient("fps", fb.fps_any_sign)),
        does="a negative fps gives a single JPEG instead of error 12",
        seen="FPS-NEG-1 FAIL: expected error 12 naming fps; got a JPEG",
    ),
    _fault(
        "time-positive-accepted", A.PARAMETERS, "TIME-RANGE-1",
        B(params=fb.lenient("time", fb.time_positive_is_now)),
        does="a time after now is served as the current frame",
        seen="TIME-RANGE-1 NON-STRICT: answered a JPEG (the preferred answer: error 12 naming "
        "time)",
        strict=True,
    ),
    _fault(
        "time-beyond-memory", A.PARAMETERS, "TIME-RANGE-1",
        B(params=fb.lenient("time", fb.time_reaching_back(-60.0))),
        does="time down to -60 is accepted and served as the oldest frame",
        seen="TIME-RANGE-1 FAIL: expected error 12 naming time; got a JPEG",
    ),
    _fault(
        "missing-width-code-12", A.PARAMETERS, "SNAP-WH-3",
        B(reply=fb.on_code(11, fb.setter("code", 12))),
        does="a missing width or height is error 12 instead of 11",
        seen="SNAP-WH-3 FAIL: expected error 11 naming width; got error 12 naming width",
    ),
    _fault(
        "missing-param-name", A.PARAMETERS, "SNAP-WH-3",
        B(reply=fb.on_code(11, fb.remover("param"))),
        does="error 11 does not name the missing parameter (no param member)",
        seen="SNAP-WH-3 FAIL: expected error 11 naming width; got error 11",
    ),
    # ---- error codes, envelope and HTTP status
    _fault(
        "status-500-on-error", A.ENVELOPE, "ENV-STATUS-1",
        B(reply=fb.on_error_reply(fb.status(500))),
        does="refusals of a client's mistake are sent with HTTP 500",
        seen="ENV-STATUS-1 FAIL: HTTP 500 for error 12: a 5xx for a client's mistake",
    ),
    _fault(
        "success-true-on-error", A.ENVELOPE, "ENV-SCHEMA-2",
        B(reply=fb.on_error(fb.setter("success", True))),
        does='error replies say "success": true',
        seen="ENV-SCHEMA-2 FAIL: not a well-formed error envelope: $.success: False was expected",
    ),
    _fault(
        "code-as-string", A.ENVELOPE, "ENV-SCHEMA-2", B(reply=fb.on_error(fb.code_as_string)),
        does='error codes are JSON strings ("12")',
        seen="ENV-SCHEMA-2 FAIL: $.error.code: '12' is not of type 'integer'",
    ),
    _fault(
        "undefined-error-code", A.ENVELOPE, "ENV-CODE-1",
        B(reply=fb.on_code(12, fb.setter("code", 16))),
        does="error 12 is sent as code 16, which the API does not define",
        seen="ENV-CODE-1 FAIL: code 16 is not one the manual defines",
    ),
    _fault(
        "unknown-path-404", A.ENVELOPE, "ENV-PATH-1", B(reply=fb.not_found_page),
        does="an unknown path gets a web server's HTML 404 page instead of error 2",
        seen="ENV-PATH-1 NON-STRICT: expected the JSON error 2, got HTTP 404 text/html",
        strict=True,
    ),
    # ---- stream framing
    _fault(
        "no-leading-boundary", A.FRAMING, "STREAM-LEAD-1",
        B(stream=fb.style(leading_boundary=False)),
        does="a stream's body starts with the first part's headers, not a boundary",
        seen="STREAM-LEAD-1 NON-STRICT: the body does not start with the boundary line (ffmpeg, "
        "ffprobe and OpenCV do not recognise such a stream)",
        strict=True,
    ),
    _fault(
        "part-without-content-type", A.FRAMING, "STREAM-PART-CT-1",
        B(stream=fb.style(part_content_type=False)),
        does="stream parts carry no Content-Type header",
        seen="STREAM-PART-CT-1 FAIL: a part does not carry exactly Content-Type: image/jpeg",
    ),
    _fault(
        "part-length-wrong", A.FRAMING, "STREAM-PART-CL-2", B(stream=fb.style(length_error=100)),
        does="each part's Content-Length is 100 bytes more than the part",
        seen="STREAM-PART-CL-2 FAIL: a part's Content-Length is longer than its body",
    ),
    _fault(
        "boundary-mismatch", A.FRAMING, "STREAM-BOUNDARY-1",
        B(stream=fb.style(body_boundary="otherframe")),
        does="the body separates parts with another boundary than the header declares",
        seen="STREAM-BOUNDARY-1 FAIL: the body never contains the declared boundary line",
    ),
    # ---- stream pacing and liveness
    _fault(
        "half-rate", A.PACING, "STREAM-RATE-1", B(stream=fb.style(rate_factor=0.5)),
        does="streams run at half the fps asked",
        seen="STREAM-RATE-1 FAIL: rate 2.4/s falls short of 5 fps asked (at least 4.00)",
    ),
    _fault(
        "double-rate", A.PACING, "STREAM-RATE-3", B(stream=fb.style(rate_factor=2.0)),
        does="streams send twice as many parts as the fps asked",
        seen="STREAM-RATE-3 FAIL: rate 9.2/s exceeds 5 fps asked by more than 20%",
    ),
    _fault(
        "stall-after-parts", A.PACING, "STREAM-LIVE-1", B(stream=fb.style(parts_before_stall=3)),
        does="a stream stops after 3 parts and holds the connection open",
        seen="STREAM-LIVE-1 FAIL: no new part for 1.47 s between part #2 and window end; at 5 "
        "fps the limit is 1.40 s",
    ),
    _fault(
        "frozen-stream", A.STALE, "STREAM-FRESH-1", B(stream=fb.style(frozen=True)),
        does="a stream re-sends its first frame for ever",
        seen="STREAM-FRESH-1 FAIL: one frame held for 1.81 s (a frame must renew at least every "
        "1.40 s)",
    ),
    # ---- time semantics
    _fault(
        "time-ignored", A.TIME, "TIME-SINGLE-1 TIME-CLAMP-1 TIME-AGE-1", B(request=fb.time_ignored),
        does="time is ignored: the live frame at the size asked (a stream with fps)",
        seen="TIME-SINGLE-1 FAIL: expected a 320x240 JPEG; got a stream; TIME-AGE-1 NON-STRICT",
    ),
    _fault(
        "fps-with-time-streams", A.TIME, "TIME-SINGLE-1", B(request=fb.streams_despite_time),
        does="time with fps >= 1 streams live frames instead of sending one frame",
        seen="TIME-SINGLE-1 FAIL: expected a 320x240 JPEG or error 15; got a stream of 320x240 "
        "JPEGs",
    ),
    _fault(
        "clamp-missing", A.TIME, "TIME-CLAMP-1 JPEG-SIZE-1",
        B(request=fb.history_at(lambda snap: (snap.width, snap.height))),
        does="time-shifted snapshots larger than 1280x960 keep their size",
        seen="JPEG-SIZE-1 FAIL: the image is 1920x1080, expected 1280x960",
    ),
    _fault(
        "history-upscaled", A.TIME, "TIME-SIZE-1 JPEG-SIZE-1",
        B(request=fb.history_at(lambda snap: HISTORY_MAX_SIZE)),
        does="time-shifted snapshots are always 1280x960, also when less was asked",
        seen="JPEG-SIZE-1 FAIL: the image is 1280x960, expected 320x240",
    ),
    # ---- stale frames
    _fault(
        "stale-live-snapshot", A.STALE, "TIME-AGE-1", B(request=fb.stale_live(STALE_BY_S)),
        does=f"a live snapshot is the frame captured {STALE_BY_S:g} s ago",
        seen="TIME-AGE-1 NON-STRICT: time-shifted frames were not older than the live frame "
        "fetched after them",
        strict=True,
    ),
    # ---- sources mixed up
    _fault(
        "external-serves-internal", A.SOURCES, "SNAP-SRC-4", B(request=fb.first_source_always),
        does="a snapshot of the external source shows the internal camera",
        seen="SNAP-SRC-4 FAIL: source=external served a frame of source internal",
    ),
    # ---- methods
    _fault(
        "post-refused", A.METHODS, "SNAP-METHOD-1 CAPS-METHOD-1",
        B(methods=fb.without_method("POST")),
        does="POST is answered with error 3",
        seen="CAPS-METHOD-1 FAIL: POST is refused with error 3",
    ),
    _fault(
        "put-served", A.METHODS, "SNAP-METHOD-3 CAPS-METHOD-2", B(methods=fb.with_method("PUT")),
        does="PUT is served like GET",
        seen="SNAP-METHOD-3 NON-STRICT: expected error 3; got a JPEG",
        strict=True,
    ),
    # ---- access control
    _fault(
        "snapshot-unguarded", A.ACCESS, "AUTH-GUARD-1 AUTH-CHALLENGE-1",
        B(unguarded=frozenset({SNAPSHOT_PATH})),
        does="authentication is not enforced on the snapshot (caps still ask for it)",
        seen="AUTH-GUARD-1 FAIL: a live snapshot without credentials: served a JPEG instead of "
        "refusing",
        setup=ACCESS_SETUP,
    ),
    _fault(
        "basic-on-digest", A.ACCESS, "AUTH-DOWNGRADE-1", B(access=AccessFault.BASIC_ON_DIGEST),
        does="Basic credentials are accepted by a Digest-only service",
        seen="AUTH-DOWNGRADE-1 FAIL: valid credentials sent as Basic: served instead of refusing",
        setup=ACCESS_SETUP,
    ),
    _fault(
        "privilege-ignored", A.ACCESS, "AUTH-PRIV-1", B(access=AccessFault.PRIVILEGE_IGNORED),
        does="an account without Camera Monitoring is served",
        seen="AUTH-PRIV-1 FAIL: caps as the unprivileged user 'viewer': served instead of refusing",
        setup=ACCESS_SETUP,
    ),
    # ---- slow and hanging replies
    _fault(
        "slow-snapshot", A.SLOW, "TRANSPORT-1", B(reply=fb.on_jpeg(fb.late(SLOW_REPLY_S))),
        does=f"every single-JPEG snapshot is sent {SLOW_REPLY_S:g} s late",
        seen="TRANSPORT-1 FAIL: exceeded the overall deadline while waiting for the reply",
    ),
    _fault(
        "silent-stream", A.SLOW, "STREAM-LIVE-1",
        B(stream=fb.style(leading_boundary=False, parts_before_stall=0)),
        does="a stream sends its headers, then never a part",
        seen="STREAM-LIVE-1 FAIL: no new part between the request and window end",
    ),
    _fault(
        "length-lie-hang", A.SLOW, "TRANSPORT-1", B(reply=fb.on_jpeg(fb.lying_length)),
        does="a snapshot declares one byte more than it sends and holds the connection open",
        seen="TRANSPORT-1 FAIL: exceeded the overall deadline while reading the body",
    ),
    _fault(
        "hung-after-caps", A.SLOW, "TRANSPORT-1 AUTH-OPEN-1",
        B(reply=fb.late_but_for(CAPS_PATH, SLOW_REPLY_S)),
        does="only caps are answered; every other reply is held back, system info included",
        seen="TRANSPORT-1 DEVICE-UNREACHABLE: the device stopped answering; every later test"
        " says so at once",
    ),
    # ---- system info and fps
    _fault(
        "info-missing-serial", A.INFO, "INFO-SCHEMA-1",
        B(reply=fb.on_result(INFO_PATH, fb.remover("serialNumber"))),
        does="/api/system/info lacks serialNumber",
        seen="INFO-SCHEMA-1 FAIL: 'serialNumber' is a required property",
    ),
    _fault(
        "fps-fraction-streams", A.PARAMETERS, "FPS-SINGLE-1", B(request=fb.fraction_streams),
        does="0 < fps < 1 streams at 1 fps instead of sending a single JPEG",
        seen="FPS-SINGLE-1 FAIL: expected a JPEG; got a multipart stream",
    ),
)
FAULTS_BY_NAME: Mapping[str, Fault] = {fault.name: fault for fault in FAULTS}


def fault_names(spec: str | Iterable[str]) -> frozenset[str]:
    """Fault names from ``a,b`` or an iterable of such strings (ValueError if unknown)."""
    items = [spec] if isinstance(spec, str) else list(spec)
    names = frozenset(n.strip() for item in items for n in item.split(",") if n.strip())
    unknown = sorted(names - FAULTS_BY_NAME.keys())
    if unknown:
        raise ValueError(
            f"unknown faults {unknown} (python -m reference_device --list-faults lists them)"
        )
    return names


def fault_set(names: Iterable[str]) -> FaultSet:
    """The named faults folded into what the device consults (table order; ValueError)."""
    chosen = fault_names(names)
    return FaultSet.combine(f.behaviour for f in FAULTS if f.name in chosen)


def render_listing(style: str = "text") -> str:
    """The fault table as ``text``, ``json`` or ``markdown`` (ValueError otherwise)."""
    renderers = {"text": _text, "json": _json, "markdown": _markdown}
    if style not in renderers:
        raise ValueError(f"a listing is one of {', '.join(LISTING_FORMATS)}, got {style!r}")
    return renderers[style]()


def _clauses(fault: Fault) -> str:
    return ", ".join(fault.clauses) + (" (SHOULD: fails under --strict)" if fault.strict else "")


def _text() -> str:
    width = max(len(fault.name) for fault in FAULTS)
    return "\n".join(
        f"{fault.name:<{width}}  {_clauses(fault)}\n{'':<{width}}  {fault.description}"
        for fault in FAULTS
    )


def _json() -> str:
    return json.dumps([fault.as_json() for fault in FAULTS], indent=2)


def _markdown() -> str:
    lines = [
        "| fault | area | clauses it breaks | what the device does | what the report shows |",
        "|---|---|---|---|---|",
    ]
    for fault in FAULTS:
        setup = f" (with `{' '.join(fault.setup)}`)" if fault.setup else ""
        lines.append(
            f"| `{fault.name}` | {fault.area.value} | {_clauses(fault)} |"
            f" {fault.description}{setup} | {fault.seen} |"
        )
    return "\n".join(lines)
