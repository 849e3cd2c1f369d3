"""The device under test as the conformance suites see it: requests, verdicts, limits.

Strategy: a facade over the transport and the judge, so that ``suites/`` reads like the
contract ("this request must conform") and never touches an HTTP client. Every reply a
suite asks for is judged by the expected-outcome model and the wire checks; findings go
to the run's recorder, and a finding that fails the run raises ``DeviceFailure`` (an
``AssertionError``). What the suite must learn from the device itself (its caps, its
maximum fps) is learned once, read-only, and recorded as INFORMATIONAL.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

from snapcheck.checks.json_reply import parse_json_body
from snapcheck.exchange import Reply, Request
from snapcheck.expected import Caps, DeviceConfig
from snapcheck.judge import (
    CAPS_PATH,
    INFO_PATH,
    SNAPSHOT_PATH,
    STREAMS_OPEN,
    analyse_part,
    caps_from_reply,
    judge,
    judge_caps,
    judge_system_info,
    stream_window,
)
from snapcheck.recorder import RunRecorder
from snapcheck.report.artifacts import ArtifactCollector
from snapcheck.settings import Settings
from snapcheck.timecode import TimeCode, read_timecode
from snapcheck.transport import Transport
from snapcheck.verdicts import DeviceFailure, Finding, SnapcheckError, Verdict

Params = Sequence[tuple[str, str]] | Mapping[str, str | int | float]
# fps values probed to learn the device's maximum: the field's range and well beyond it.
FPS_PROBE_CEILING = 64
PROBE_WINDOW_S = 0.5
# After an exchange that got no byte at all, at most this many /api/system/info probes tell
# a device that hung on one request (it answers the probe) from one that is gone.
LIVENESS_PROBES = 3


class Unsupported(SnapcheckError):
    """The device does not offer what a test needs (e.g. no external source in caps)."""


class DeviceUnreachable(SnapcheckError):
    """The device stopped answering: the rest of the run is DEVICE-UNREACHABLE."""


def _pairs(params: Params) -> tuple[tuple[str, str], ...]:
    if isinstance(params, Mapping):
        return tuple((key, str(value)) for key, value in params.items())
    return tuple((str(key), str(value)) for key, value in params)


class DeviceUnderTest:
    """One device, its contract as advertised (caps), and the run's verdict bookkeeping."""

    def __init__(
        self,
        settings: Settings,
        recorder: RunRecorder,
        transport: Transport,
        anonymous: Transport,
    ) -> None:
        self.settings = settings
        self.recorder = recorder
        self.transport = transport
        self.anonymous = anonymous
        self.base_url = transport.base_url
        self._lock = threading.Lock()
        self._caps: Caps | None = None
        self._caps_findings: list[Finding] = []
        self._info_reply: Reply | None = None
        self._caps_reply: Reply | None = None
        self._max_fps: int | None = None
        self._max_fps_findings: list[Finding] = []
        self._silence: str | None = None
        # Streams being read now (test_stateful reads two at once): a device may refuse a
        # stream for its limit on concurrent streams only while the suite holds another.
        self._streams_lock = threading.Lock()
        self._streams_open = 0
        # Frames, stream timings and latencies for the run's report (never judged here).
        self.artifacts = ArtifactCollector(recorder)

    @classmethod
    def connect(cls, base_url: str, settings: Settings, recorder: RunRecorder) -> DeviceUnderTest:
        """Open transports to a device and learn its caps (read-only)."""
        limit = settings.effective_rate_limit
        transport = Transport(
            base_url, user=settings.user, password=settings.password,
            auth_method=settings.auth_method if settings.user else "none",
            timeout_s=settings.request_timeout, rate_limit_per_s=limit,
        )
        anonymous = Transport(base_url, timeout_s=settings.request_timeout, rate_limit_per_s=limit)
        dut = cls(settings, recorder, transport, anonymous)
        dut._learn_caps()
        return dut

    def close(self) -> None:
        """Nothing stays open between exchanges; the report's time-shifted frames are kept now."""
        self.artifacts.finish()

    # ---- what the device advertises

    def _learn_caps(self) -> None:
        reply = self.transport.exchange(self.transport.request(CAPS_PATH))
        self._notice_silence(self.transport, reply)
        self._caps_reply = reply
        self._caps_findings = judge_caps(reply)
        self._caps = caps_from_reply(reply)
        self._info_reply = self.anonymous.exchange(self.anonymous.request(INFO_PATH))

    @property
    def unreachable(self) -> bool:
        """True once the transport gave up on the device."""
        return self.transport.unreachable or self.anonymous.unreachable

    @property
    def unreachable_reason(self) -> str:
        """Why the device counts as unreachable."""
        detail = self._silence or ""
        return f"{self.base_url} stopped answering" + (f" ({detail})" if detail else "")

    def _notice_silence(self, transport: Transport, reply: Reply) -> None:
        """After a reply without a single byte, probe until the device answers or is declared gone.

        Without this, a device that vanished mid-run costs one FAIL per test until the
        transport's circuit breaker has seen enough silent exchanges; with it, the test
        under way already ends DEVICE-UNREACHABLE and the rest of the run says so.
        """
        if reply.first_byte_s is not None or transport.unreachable:
            return
        self._silence = reply.transport_error
        for _ in range(LIVENESS_PROBES):
            if transport.unreachable:
                return
            if transport.exchange(transport.request(INFO_PATH)).first_byte_s is not None:
                return

    @property
    def caps_reply(self) -> Reply:
        """The caps reply read at connection time."""
        assert self._caps_reply is not None
        return self._caps_reply

    @property
    def info_reply(self) -> Reply:
        """The /api/system/info reply read without credentials at connection time."""
        assert self._info_reply is not None
        return self._info_reply

    @property
    def caps(self) -> Caps:
        """The caps the device advertises; a device whose caps cannot be read fails here."""
        if self._caps is None:
            if self.unreachable or self.caps_reply.status == 0:
                raise DeviceUnreachable(self.unreachable_reason)
            failing = [f for f in self._caps_findings if f.verdict is Verdict.FAIL]
            raise DeviceFailure(failing or [Finding(
                "CAPS-SCHEMA-1", Verdict.FAIL, "the caps reply could not be read as caps",
                curl=None)])
        return self._caps

    @property
    def config(self) -> DeviceConfig:
        """What the suite knows of the device's configuration: nothing but what it learned."""
        # A device that streams at no rate has no maximum to judge by (it failed STREAM-CT-1).
        return DeviceConfig(default_source=None, max_fps=self._max_fps or None, history_s=None)

    def identity(self) -> dict[str, Any]:
        """The device's identity for reports: system info, Server header, TLS fingerprint."""
        identity: dict[str, Any] = {"base_url": self.base_url}
        info = self._info_reply
        if info is not None:
            document = parse_json_body(info.body).document
            result = document.get("result") if isinstance(document, dict) else None
            if isinstance(result, dict):
                identity["system_info"] = result
            identity["server"] = info.header("Server")
            identity["tls_certificate_sha256"] = info.tls_certificate_sha256
        if self._caps is not None:
            identity["caps"] = {
                "resolutions": [f"{w}x{h}" for w, h in self._caps.resolutions],
                "sources": list(self._caps.sources),
            }
        if self._max_fps is not None:
            identity["max_fps"] = self._max_fps
        return identity

    # ---- exchanges

    def request(
        self,
        params: Params = (),
        *,
        method: str = "GET",
        path: str = SNAPSHOT_PATH,
        form: Params | None = None,
        raw_query: str | None = None,
    ) -> Request:
        """A request to the device, parameters kept exactly as given."""
        return Request(method, self.base_url, path, _pairs(params),
                       None if form is None else _pairs(form), raw_query=raw_query)

    def fetch(
        self, request: Request, *, window_s: float | None = None, anonymous: bool = False
    ) -> Reply:
        """Send a request; read a stream for the window when the contract allows one."""
        if window_s is None and request.path == SNAPSHOT_PATH:
            window_s = stream_window(request, self._caps, self.config, self.settings.stream_seconds)
        transport = self.anonymous if anonymous else self.transport
        if window_s is None:
            reply = transport.exchange(request)
        else:
            with self._stream_held() as others:
                reply = transport.stream(request, window_s, analyse=analyse_part)
            reply.extra[STREAMS_OPEN] = others
        self.artifacts.observe(reply)
        self._notice_silence(transport, reply)
        if self.unreachable:
            raise DeviceUnreachable(self.unreachable_reason)
        return reply

    @contextmanager
    def _stream_held(self) -> Iterator[int]:
        """Count a stream as open for the block; yields how many others were open."""
        with self._streams_lock:
            others = self._streams_open
            self._streams_open += 1
        try:
            yield others
        finally:
            with self._streams_lock:
                self._streams_open -= 1

    def judge(self, reply: Reply) -> list[Finding]:
        """Every finding the contract gives for a reply (not recorded)."""
        if reply.request.path == CAPS_PATH:
            return judge_caps(reply)
        if reply.request.path == INFO_PATH:
            return judge_system_info(reply)
        return judge(reply, caps=self.caps, config=self.config)

    def record(self, findings: Iterable[Finding]) -> list[Finding]:
        """Record findings for the test under way; raise when one of them fails the run."""
        kept = list(findings)
        self.recorder.record(kept)
        failing = [f for f in kept if f.verdict.fails_run(strict=self.settings.strict)]
        if failing:
            raise DeviceFailure(failing)
        return kept

    def check(self, reply: Reply) -> list[Finding]:
        """Judge a reply, record the findings, and fail when the contract is broken."""
        return self.record(self.judge(reply))

    def expect(
        self,
        params: Params = (),
        *,
        method: str = "GET",
        path: str = SNAPSHOT_PATH,
        form: Params | None = None,
        raw_query: str | None = None,
        window_s: float | None = None,
    ) -> Reply:
        """Send a request and require the reply to conform; return it for further checks."""
        request = self.request(params, method=method, path=path, form=form, raw_query=raw_query)
        reply = self.fetch(request, window_s=window_s)
        self.check(reply)
        return reply

    def unsupported(self, reason: str) -> NoReturn:
        """End the test under way as UNSUPPORTED: the device does not offer the feature."""
        raise Unsupported(reason)

    def require_source(self, source: str) -> None:
        """UNSUPPORTED unless caps lists the source."""
        if source not in self.caps.sources:
            self.unsupported(f"caps lists no {source!r} source")

    @staticmethod
    def timecode(reply: Reply) -> TimeCode | None:
        """The time code burned into a single-JPEG reply, when it carries one."""
        return read_timecode(reply.body) if reply.body else None

    # ---- limits learned from the device

    def max_fps(self) -> int:
        """The highest fps the device streams, learned once by a binary search (FPS-MAX-2)."""
        with self._lock:
            if self._max_fps is None:
                self._max_fps, self._max_fps_findings = self._probe_max_fps()
        self.record(self._max_fps_findings)
        return self._max_fps

    def _streams_at(self, fps: int) -> bool:
        width, height = self.caps.resolutions[0]
        request = self.request({"width": width, "height": height, "fps": fps})
        reply = self.fetch(request, window_s=PROBE_WINDOW_S)
        return reply.content_type == "multipart/x-mixed-replace"

    def _probe_max_fps(self) -> tuple[int, list[Finding]]:
        low, high = 0, FPS_PROBE_CEILING + 1  # low streams (0: none known), high refused
        while high - low > 1:
            middle = (low + high) // 2
            if self._streams_at(middle):
                low = middle
            else:
                high = middle
        shown = f"{low}" if low <= FPS_PROBE_CEILING else f"more than {FPS_PROBE_CEILING}"
        finding = Finding(
            "FPS-MAX-2", Verdict.INFORMATIONAL,
            f"the device streams up to fps={shown} and refuses fps={low + 1}",
            evidence=f"binary search over 1..{FPS_PROBE_CEILING} at "
                     f"{self.caps.resolutions[0][0]}x{self.caps.resolutions[0][1]}",
        )
        if low == 0:
            return low, [finding, Finding(
                "STREAM-CT-1", Verdict.FAIL,
                "fps=1 does not give a multipart/x-mixed-replace stream: the device streams at "
                "no rate, though the seed says fps >= 1 sends images by HTTP server push",
                evidence=finding.evidence,
            )]
        return low, [finding]
