"""Read a HAR 1.2 capture (browsers, mitmproxy) into the Request/Reply pairs the transport makes.

Strategy: a HAR file is another source of exchanges, so it ends in exactly the values
the checks already read. Only camera exchanges are kept (snapshot, caps, system info);
everything else in the capture is counted and ignored. A recorded stream body is run
through ``MultipartReader`` like a live one, but every part gets the same (unknown)
arrival time: ``Reply.extra["timings_known"]`` is False so the judge reports the
timing-based clauses as not judgeable instead of passing or failing them. Credentials
in the capture are never copied: only the user name and the scheme are kept.

A file that is not HAR is the user's mistake: ``UsageError`` (exit 2), naming the entry
and field at fault.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from snapcheck.exchange import Headers, PartImage, Reply, Request, StreamPart
from snapcheck.multipart import MultipartReader
from snapcheck.verdicts import Finding, UsageError

CAMERA_PATHS = ("/api/camera/snapshot", "/api/camera/caps", "/api/system/info")
HAR_STREAM_ENDING = "recorded"
_FORM = "application/x-www-form-urlencoded"
_TIMING_PHASES = ("blocked", "dns", "connect", "send", "wait")


@dataclass(frozen=True, slots=True)
class HarExchange:
    """One camera exchange of the capture, with its entry number (from 0) in the file."""

    entry: int
    request: Request
    reply: Reply


@dataclass(frozen=True, slots=True)
class HarReading:
    """The camera exchanges of a capture, and what was left out and why."""

    exchanges: tuple[HarExchange, ...]
    notes: tuple[str, ...]
    ignored_entries: int


Json = Mapping[str, object]
Analyse = Callable[[bytes], PartImage]


def _value(obj: Json, key: str, where: str) -> object:
    if key not in obj:
        raise UsageError(f"not a HAR file: {where} has no {key!r}")
    return obj[key]


def _mapping(obj: Json, key: str, where: str) -> Json:
    value = _value(obj, key, where)
    if not isinstance(value, Mapping):
        raise UsageError(f"not a HAR file: {where}.{key} should be an object")
    return value


def _list(obj: Json, key: str, where: str) -> list[object]:
    value = _value(obj, key, where)
    if not isinstance(value, list):
        raise UsageError(f"not a HAR file: {where}.{key} should be a list")
    return value


def _text(obj: Json, key: str, where: str) -> str:
    value = _value(obj, key, where)
    if not isinstance(value, str):
        raise UsageError(f"not a HAR file: {where}.{key} should be a string")
    return value


def _integer(obj: Json, key: str, where: str) -> int:
    value = _value(obj, key, where)
    if not isinstance(value, int) or isinstance(value, bool):
        raise UsageError(f"not a HAR file: {where}.{key} should be an integer")
    return value


def _pairs(obj: Json, key: str, where: str) -> tuple[tuple[str, str], ...]:
    """A HAR list of {name, value} objects (headers, params) as pairs."""
    pairs: list[tuple[str, str]] = []
    for index, item in enumerate(_list(obj, key, where)):
        spot = f"{where}.{key}[{index}]"
        if not isinstance(item, Mapping):
            raise UsageError(f"not a HAR file: {spot} should be an object")
        value = item.get("value", "")
        pairs.append((_text(item, "name", spot), value if isinstance(value, str) else ""))
    return tuple(pairs)


def _user(headers: Headers) -> tuple[str | None, str | None]:
    """The user name and scheme of an Authorization header; the secret is never kept."""
    value = next((v for k, v in headers if k.lower() == "authorization"), None)
    if value is None:
        return None, None
    scheme, _, rest = value.partition(" ")
    user: str | None = None
    if scheme.lower() == "basic":
        try:
            user = base64.b64decode(rest.strip(), validate=True).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            user = None
    elif match := re.search(r'username="((?:[^"\\]|\\.)*)"', rest):
        user = match.group(1)
    return user, scheme.lower()


def _request(entry: Json, where: str) -> Request:
    raw = _mapping(entry, "request", where)
    spot = f"{where}.request"
    url = urlsplit(_text(raw, "url", spot))
    if url.scheme not in ("http", "https") or not url.netloc:
        raise UsageError(f"not a HAR file: {spot}.url is not an http(s) URL")
    method = _text(raw, "method", spot).upper()
    path = next((p for p in CAMERA_PATHS if url.path.rstrip("/").endswith(p)), url.path)
    prefix = url.path.rstrip("/")[: -len(path)] if path in CAMERA_PATHS else ""
    form = None
    post = raw.get("postData")
    if isinstance(post, Mapping) and str(post.get("mimeType", "")).startswith(_FORM):
        text = post.get("text")
        if post.get("params"):
            form = _pairs(post, "params", f"{spot}.postData")
        elif isinstance(text, str):
            form = tuple(parse_qsl(text, keep_blank_values=True))
    user, scheme = _user(_pairs(raw, "headers", spot))
    return Request(
        method=method,
        base_url=f"{url.scheme}://{url.netloc}{prefix}",
        path=path,
        params=tuple(parse_qsl(url.query, keep_blank_values=True)),
        form=form,
        user=user,
        auth_method=scheme,
        raw_query=url.query or None,
    )


def _body(content: Json, where: str) -> bytes | None:
    """The recorded body, or None when the capture left it out."""
    text = content.get("text")
    if text is None:
        size = content.get("size", 0)
        return b"" if not isinstance(size, int) or size <= 0 else None
    if not isinstance(text, str):
        raise UsageError(f"not a HAR file: {where}.text should be a string")
    if content.get("encoding") == "base64":
        try:
            return base64.b64decode(text, validate=True)
        except binascii.Error as exc:
            raise UsageError(f"not a HAR file: {where}.text is not valid base64 ({exc})") from None
    return text.encode("utf-8")


def _timings(entry: Json, where: str) -> tuple[float, float | None, float]:
    started = _text(entry, "startedDateTime", where)
    try:
        started_at = datetime.datetime.fromisoformat(started.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise UsageError(f"not a HAR file: {where}.startedDateTime is not ISO 8601") from None
    total = entry.get("time")
    elapsed = float(total) / 1000 if isinstance(total, (int, float)) and total >= 0 else 0.0
    timings = entry.get("timings")
    first_byte = None
    if isinstance(timings, Mapping):
        phases = [timings.get(name) for name in _TIMING_PHASES]
        known = [float(v) for v in phases if isinstance(v, (int, float)) and v >= 0]
        first_byte = sum(known) / 1000 if known else None
    return started_at, first_byte, elapsed


def _stream(
    content_type: str, body: bytes, analyse: Analyse | None
) -> tuple[tuple[StreamPart, ...], tuple[Finding, ...]]:
    reader = MultipartReader(content_type, on_part=analyse)
    # Arrival times are unknown in a capture: every part gets the same instant.
    reader.feed(body, 0.0)
    reader.close(0.0, HAR_STREAM_ENDING)
    return reader.parts, tuple(reader.findings)


def _reply(entry: Json, request: Request, where: str, analyse: Analyse | None) -> Reply | str:
    """The Reply of an entry, or the reason it cannot be judged."""
    raw = _mapping(entry, "response", where)
    spot = f"{where}.response"
    status = _integer(raw, "status", spot)
    headers = _pairs(raw, "headers", spot)
    body = _body(_mapping(raw, "content", spot), f"{spot}.content")
    if body is None:
        return "the capture did not record the body"
    started_at, first_byte, elapsed = _timings(entry, where)
    content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
    reply = Reply(
        request=request,
        status=status,
        reason=str(raw.get("statusText", "")),
        headers=headers,
        body=body,
        started_at=started_at,
        first_byte_s=first_byte,
        elapsed_s=elapsed,
        transport_error=None if status else "the capture recorded no response",
        extra={"source": "har", "timings_known": False, "entry": where},
    )
    if content_type.lower().startswith("multipart/"):
        parts, findings = _stream(content_type, body, analyse)
        return replace(
            reply,
            body=b"",
            parts=parts,
            stream_findings=findings,
            stream_ended_by=HAR_STREAM_ENDING,
        )
    return reply


def parse_har(document: object, *, analyse: Analyse | None = None) -> HarReading:
    """The camera exchanges of a parsed HAR document (``UsageError`` if it is not HAR).

    ``analyse`` is handed every stream part's body, as by the transport.
    """
    if not isinstance(document, Mapping):
        raise UsageError("not a HAR file: the top level should be an object")
    entries = _list(_mapping(document, "log", "the file"), "entries", "log")
    exchanges: list[HarExchange] = []
    notes: list[str] = []
    ignored = 0
    for index, entry in enumerate(entries):
        where = f"log.entries[{index}]"
        if not isinstance(entry, Mapping):
            raise UsageError(f"not a HAR file: {where} is not an object")
        request = _request(entry, where)
        if request.path not in CAMERA_PATHS:
            ignored += 1
            continue
        reply = _reply(entry, request, where, analyse)
        if isinstance(reply, str):
            notes.append(f"{where} ({request.method} {request.url}): {reply}; skipped")
            continue
        exchanges.append(HarExchange(index, request, reply))
    return HarReading(tuple(exchanges), tuple(notes), ignored)


def read_har(path: Path, *, analyse: Analyse | None = None) -> HarReading:
    """Read a HAR file from disk (``UsageError`` when unreadable or not HAR)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the HAR file {path}: {exc}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path} is not JSON, so not a HAR file: {exc}") from None
    return parse_har(document, analyse=analyse)
