"""How the deliberate faults behave, and how the active ones fold into what the device consults.

Strategy: a fault's ``Behaviour`` is a patch over the strict device; every field left at
its default keeps the strict behaviour. ``FaultSet.combine`` folds the active patches
into the few values the device consults at the point of behaviour, each of which *is*
the strict behaviour when no fault is on, so the PASS path gains no branch:

- ``rewrite_reply``: a plain reply (caps, system info, a JSON error, a single JPEG) before
  it is sent: status, media type, body, a delay before it goes out, a Content-Length that
  lies (server.py renders and sends the ``Payload``);
- ``rewrite_request``: a valid snapshot request before it is served: its source, size,
  time and fps (server.py);
- ``rules``: the parameter table and the caps-pair rule (params.py);
- ``stream_style``: a stream's framing and pacing (streaming.py);
- ``methods``, ``unguarded``: the methods served and the Camera paths that skip access
  control (server.py); ``access``: the access rules broken (access.py).

The building blocks below (``on_error``, ``on_jpeg``, ``history_at``...) are what the
table in faults.py is written with. What never belongs here: the table itself
(faults.py), HTTP or aiohttp, and any knowledge of snapcheck.
"""

from __future__ import annotations

import enum
import io
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from PIL import Image

from reference_device.access import AccessFault
from reference_device.params import (
    SNAPSHOT_PARAMS,
    STRICT_RULES,
    TIME_RANGE,
    Mode,
    PairRule,
    Param,
    SnapshotRequest,
    SnapshotRules,
    parse_decimal,
)
from reference_device.profile import Profile
from reference_device.streaming import STRICT_STYLE, StreamStyle

JSON_TYPE = "application/json"
JPEG_TYPE = "image/jpeg"


class Kind(enum.Enum):
    """What a reply was before any fault touched it (a relabelled JPEG is still a picture)."""

    PICTURE = "picture"
    JSON = "json"
    OTHER = "other"


KINDS = {JPEG_TYPE: Kind.PICTURE, JSON_TYPE: Kind.JSON}


@dataclass(frozen=True, slots=True)
class Payload:
    """A plain reply as the device is about to send it; ``headers`` exclude the content's own.

    ``kind`` is what the reply was as the device made it, so that faults compose whatever
    another one did to its media type. ``delay_s`` holds the reply back that long;
    ``declared_length`` is a Content-Length sent instead of the body's, after which the
    connection is held open until the client leaves (the body never completes).
    """

    method: str
    path: str
    status: int
    content_type: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    delay_s: float = 0.0
    declared_length: int | None = None
    kind: Kind = Kind.OTHER

    def __post_init__(self) -> None:
        if self.kind is Kind.OTHER:
            object.__setattr__(self, "kind", KINDS.get(self.content_type, Kind.OTHER))


ReplyRewrite = Callable[[Payload], Payload]
RequestRewrite = Callable[[SnapshotRequest, Profile], SnapshotRequest]
StyleChange = Callable[[StreamStyle], StreamStyle]
MethodChange = Callable[[frozenset[str]], frozenset[str]]


@dataclass(frozen=True, slots=True)
class Behaviour:
    """What one fault changes; every field left at its default keeps the strict behaviour."""

    reply: ReplyRewrite | None = None
    request: RequestRewrite | None = None
    params: Mapping[str, Param[Any]] = field(default_factory=dict)
    pair: PairRule | None = None
    stream: StyleChange | None = None
    methods: MethodChange | None = None
    unguarded: frozenset[str] = frozenset()
    access: AccessFault | None = None


@dataclass(frozen=True, slots=True)
class FaultSet:
    """The active faults folded into what the device consults; ``NO_FAULTS`` is strict."""

    rules: SnapshotRules = STRICT_RULES
    stream_style: StreamStyle = STRICT_STYLE
    unguarded: frozenset[str] = frozenset()
    access: frozenset[str] = frozenset()
    reply_rewrites: tuple[ReplyRewrite, ...] = ()
    request_rewrites: tuple[RequestRewrite, ...] = ()
    method_changes: tuple[MethodChange, ...] = ()

    @classmethod
    def combine(cls, behaviours: Iterable[Behaviour]) -> FaultSet:
        """Fold behaviours in order (a later one wins where two change the same thing)."""
        chosen = tuple(behaviours)
        if not chosen:
            return NO_FAULTS
        params = {param.name: param for param in SNAPSHOT_PARAMS}
        pair = STRICT_RULES.pair
        style = STRICT_STYLE
        for behaviour in chosen:
            params.update(behaviour.params)
            pair = behaviour.pair or pair
            style = behaviour.stream(style) if behaviour.stream is not None else style
        return cls(
            rules=SnapshotRules(tuple(params.values()), pair),
            stream_style=style,
            unguarded=frozenset().union(*(b.unguarded for b in chosen)),
            access=frozenset(b.access.value for b in chosen if b.access is not None),
            reply_rewrites=tuple(b.reply for b in chosen if b.reply is not None),
            request_rewrites=tuple(b.request for b in chosen if b.request is not None),
            method_changes=tuple(b.methods for b in chosen if b.methods is not None),
        )

    def rewrite_reply(self, payload: Payload) -> Payload:
        """The reply as the active faults send it."""
        for rewrite in self.reply_rewrites:
            payload = rewrite(payload)
        return payload

    def rewrite_request(self, snap: SnapshotRequest, profile: Profile) -> SnapshotRequest:
        """The snapshot request as the active faults serve it."""
        for rewrite in self.request_rewrites:
            snap = rewrite(snap, profile)
        return snap

    def methods(self, allowed: frozenset[str]) -> frozenset[str]:
        """The methods the device serves, from those it should serve."""
        for change in self.method_changes:
            allowed = change(allowed)
        return allowed


NO_FAULTS = FaultSet()


# ---------------------------------------------------------------- reply rewrites


def _document(payload: Payload) -> dict[str, Any] | None:
    """The JSON envelope of a JSON reply, None for any other reply."""
    if payload.kind is not Kind.JSON:
        return None
    document = json.loads(payload.body)
    return document if isinstance(document, dict) else None


def _is_error(document: Mapping[str, Any] | None) -> bool:
    return document is not None and document.get("success") is False


def _with_document(payload: Payload, document: Mapping[str, Any]) -> Payload:
    return replace(payload, body=json.dumps(document).encode("ascii"))


def on_error(edit: Callable[[dict[str, Any]], None]) -> ReplyRewrite:
    """A rewrite of every JSON error reply: ``edit`` changes its envelope in place."""

    def rewrite(payload: Payload) -> Payload:
        document = _document(payload)
        if document is None or not _is_error(document):
            return payload
        edit(document)
        return _with_document(payload, document)

    return rewrite


def on_code(code: int, edit: Callable[[dict[str, Any]], None]) -> ReplyRewrite:
    """A rewrite of the JSON error replies with that code: ``edit`` changes the error member."""

    def rewrite(document: dict[str, Any]) -> None:
        if document["error"].get("code") == code:
            edit(document["error"])

    return on_error(rewrite)


def on_error_reply(change: Callable[[Payload], Payload]) -> ReplyRewrite:
    """``change`` applied to every JSON error reply as a whole (status, media type, body)."""
    return lambda payload: change(payload) if _is_error(_document(payload)) else payload


def on_result(path: str, edit: Callable[[dict[str, Any]], None]) -> ReplyRewrite:
    """A rewrite of the successful JSON replies of one path: ``edit`` changes the result."""

    def rewrite(payload: Payload) -> Payload:
        document = _document(payload)
        if payload.path != path or document is None or document.get("success") is not True:
            return payload
        edit(document["result"])
        return _with_document(payload, document)

    return rewrite


def on_jpeg(change: Callable[[Payload], Payload]) -> ReplyRewrite:
    """``change`` applied to single-JPEG replies only."""
    return lambda payload: change(payload) if payload.kind is Kind.PICTURE else payload


def labelled(content_type: str) -> ReplyRewrite:
    """The reply sent under another media type."""
    return lambda payload: replace(payload, content_type=content_type)


def status(code: int) -> ReplyRewrite:
    """A reply sent as HTTP 200 goes out with another status."""
    return lambda payload: replace(payload, status=code) if payload.status == 200 else payload


def truncated(payload: Payload) -> Payload:
    """The body without its last two bytes (a JPEG's EOI marker)."""
    return replace(payload, body=payload.body[:-2])


def with_trailer(trailer: bytes) -> ReplyRewrite:
    """The body with bytes appended."""
    return lambda payload: replace(payload, body=payload.body + trailer)


def late(seconds: float) -> ReplyRewrite:
    """The reply held back ``seconds`` before it goes out."""
    return lambda payload: replace(payload, delay_s=seconds)


def late_but_for(path: str, seconds: float) -> ReplyRewrite:
    """Every reply but those of ``path`` held back ``seconds``."""
    return lambda payload: payload if payload.path == path else replace(payload, delay_s=seconds)


def lying_length(payload: Payload) -> Payload:
    """A Content-Length one byte longer than the body; the connection then held open."""
    return replace(payload, declared_length=len(payload.body) + 1)


def as_png(payload: Payload) -> Payload:
    """The picture re-encoded as PNG (the media type left as it was)."""
    out = io.BytesIO()
    with Image.open(io.BytesIO(payload.body)) as picture:
        picture.save(out, "PNG")
    return replace(payload, body=out.getvalue())


def not_found_page(payload: Payload) -> Payload:
    """Error 2 (invalid path) as a web server's HTML 404 page."""
    document = _document(payload)
    if document is None or not _is_error(document) or document["error"].get("code") != 2:
        return payload
    page = b"<html><head><title>404 Not Found</title></head><body>Not Found</body></html>"
    return replace(payload, status=404, content_type="text/html", body=page)


def wrong_caps_keys(result: dict[str, Any]) -> None:
    """The pairs under ``resolutions`` as ``w`` and ``h``: keys no client looks for."""
    pairs = result.pop("jpegResolution")
    result["resolutions"] = [{"w": pair["width"], "h": pair["height"]} for pair in pairs]


def extra_pair(width: int, height: int) -> Callable[[dict[str, Any]], None]:
    """An edit that appends a pair to the caps' jpegResolution list."""
    return lambda result: result["jpegResolution"].append({"width": width, "height": height})


def duplicated_caps(result: dict[str, Any]) -> None:
    """The first pair and the first source listed twice."""
    result["jpegResolution"] = [*result["jpegResolution"], result["jpegResolution"][0]]
    result["sources"] = [*result["sources"], result["sources"][0]]


def setter(key: str, value: object) -> Callable[[dict[str, Any]], None]:
    """An edit that sets one member."""
    return lambda member: member.__setitem__(key, value)


def remover(key: str) -> Callable[[dict[str, Any]], None]:
    """An edit that drops one member (if present)."""
    return lambda member: member.pop(key, None)


def code_as_string(document: dict[str, Any]) -> None:
    """The error code as a JSON string ("12")."""
    document["error"]["code"] = str(document["error"]["code"])


# ---------------------------------------------------------------- request rewrites


def one_pixel_narrower(snap: SnapshotRequest, profile: Profile) -> SnapshotRequest:
    """Every image one pixel narrower than the contract's size."""
    width, height = snap.served_size
    return replace(snap, size=(max(1, width - 1), height))


def history_at(size: Callable[[SnapshotRequest], tuple[int, int]]) -> RequestRewrite:
    """Time-shifted snapshots served at ``size(request)`` instead of the contract's size."""
    return lambda snap, profile: snap if snap.time is None else replace(snap, size=size(snap))


def time_ignored(snap: SnapshotRequest, profile: Profile) -> SnapshotRequest:
    """time dropped: the live frame (or a stream, with fps), at the size asked."""
    return replace(snap, time=None)


def streams_despite_time(snap: SnapshotRequest, profile: Profile) -> SnapshotRequest:
    """time with fps >= 1: a live stream at the clamped size instead of one frame."""
    if snap.time is None or snap.fps is None or snap.fps < 1:
        return snap
    return replace(snap, time=None, size=snap.served_size)


def stale_live(seconds: float) -> RequestRewrite:
    """A live single snapshot served from ``seconds`` ago, at the size asked."""

    def rewrite(snap: SnapshotRequest, profile: Profile) -> SnapshotRequest:
        if snap.mode is not Mode.SINGLE:
            return snap
        return replace(snap, time=-seconds, size=snap.served_size)

    return rewrite


def first_source_always(snap: SnapshotRequest, profile: Profile) -> SnapshotRequest:
    """Every source served from the profile's first one (external gets internal)."""
    first = profile.sources[0].name
    return replace(snap, source=first) if snap.source != first else snap


def fraction_streams(snap: SnapshotRequest, profile: Profile) -> SnapshotRequest:
    """0 < fps < 1 streams at 1 fps instead of sending a single JPEG."""
    if snap.time is not None or snap.fps is None or not 0 < snap.fps < 1:
        return snap
    return replace(snap, fps=1.0)


# ---------------------------------------------------------------- lenient parameters


def pair_by(axis: int) -> PairRule:
    """A pair rule that checks one dimension only (0 width, 1 height): its first listed pair."""

    def pair(width: int, height: int, profile: Profile) -> tuple[int, int] | None:
        asked = (width, height)[axis]
        return next((p for p in profile.resolutions if p[axis] == asked), None)

    return pair


def source_any_case(raw: str, profile: Profile) -> str:
    """A source name matched without regard to case."""
    names = {mode.name.casefold(): mode.name for mode in profile.sources}
    if raw.casefold() not in names:
        raise ValueError(f"is not a source listed in caps ({', '.join(names.values())})")
    return names[raw.casefold()]


def fps_any_sign(raw: str, profile: Profile) -> float:
    """fps without the check for a sign (negative values mean a single JPEG)."""
    value = parse_decimal(raw)
    if value > profile.max_fps:
        raise ValueError(f"is above the maximum of {profile.max_fps}")
    return value


def time_positive_is_now(raw: str, profile: Profile) -> float:
    """time after now read as now."""
    value = parse_decimal(raw)
    if value < TIME_RANGE[0]:
        raise ValueError("is before -30")
    return min(value, 0.0)


def time_reaching_back(oldest_s: float) -> Callable[[str, Profile], float]:
    """time accepted down to ``oldest_s``, served as the oldest frame in memory."""

    def parse(raw: str, profile: Profile) -> float:
        value = parse_decimal(raw)
        if not oldest_s <= value <= 0:
            raise ValueError(f"is outside [{oldest_s:g}, 0]")
        return max(value, TIME_RANGE[0])

    return parse


def lenient(name: str, parse: Callable[[str, Profile], Any]) -> Mapping[str, Param[Any]]:
    """The strict row of parameter ``name`` with another parser."""
    strict = next(param for param in SNAPSHOT_PARAMS if param.name == name)
    return {name: replace(strict, parse=parse)}


def style(**changes: Any) -> StyleChange:
    """A change of the stream style's fields."""
    return lambda current: replace(current, **changes)


def without_method(method: str) -> MethodChange:
    """The device refuses ``method`` (error 3)."""
    return lambda methods: methods - {method}


def with_method(method: str) -> MethodChange:
    """The device serves ``method`` like GET."""
    return lambda methods: methods | {method}
