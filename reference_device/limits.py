"""What the reference device bounds: how long a request may take to arrive, and how many
streams it serves at once.

Strategy: a real intercom is a small embedded server; it neither waits forever for a
client that dribbles its request nor streams to any number of clients. Two limits,
both applied by server.py:

- ``REQUEST_HEAD_TIMEOUT_S`` (10 s): a connection must deliver a complete request head
  within this long of opening (or of the previous reply). aiohttp has no timeout of its
  own for reading a head (a connection that sends one byte a second would be kept for
  the hour of its keep-alive timeout), so the device sets aiohttp's keep-alive timeout to
  this figure: that timer runs from the connection's start, and fires while no complete
  head has arrived, whatever bytes dribble in meanwhile. Idle keep-alive connections
  close after the same time. A form body gets as long again (``read_body``); one that
  does not arrive in time is ``BodyTooSlow``, answered with error 14.
- ``StreamLimit``: at most ``limit`` MJPEG streams at once (``--max-streams``, or the
  profile's ``max_streams``; none by default). Beyond it a stream request is refused with
  the JSON envelope, HTTP 200, code 18 ("rejected": the request is valid, the device
  declines it for its own reason; code 14 would say something went wrong). The
  catalogue's STREAM-LIMIT-1 says how snapcheck judges such a refusal. A stream whose
  client already left but whose handler has not yet noticed (it looks every 0.25 s) is
  not counted, so a client that ends one stream and opens the next is not refused by
  its own previous stream.

What never belongs here: HTTP routing and replies (server.py), stream framing and pacing
(streaming.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

from aiohttp import web

from reference_device.envelope import ApiError, ErrorCode

REQUEST_HEAD_TIMEOUT_S = 10.0

Holder = TypeVar("Holder")


class BodyTooSlow(Exception):
    """A request body did not arrive within the device's time for it."""


async def read_body(request: web.Request, timeout_s: float) -> bytes:
    """The request's body, read within ``timeout_s`` (BodyTooSlow otherwise)."""
    try:
        async with asyncio.timeout(timeout_s):
            return await request.read()
    except TimeoutError:
        raise BodyTooSlow(f"the request body did not arrive within {timeout_s:g} s") from None


class StreamLimit(Generic[Holder]):
    """At most ``limit`` streams at once (None: no limit); ``is_open`` says which still are."""

    def __init__(self, limit: int | None, is_open: Callable[[Holder], bool]) -> None:
        if limit is not None and limit < 1:
            raise ValueError(f"a stream limit is at least 1 (or None), got {limit!r}")
        self.limit = limit
        self._is_open = is_open
        self._holders: list[Holder] = []

    @property
    def open(self) -> int:
        """How many admitted streams are still open."""
        return sum(1 for holder in self._holders if self._is_open(holder))

    def admit(self, holder: Holder) -> ApiError | None:
        """Admit a stream (None), or the refusal to send when the limit is reached."""
        if self.limit is not None and self.open >= self.limit:
            return ApiError(
                ErrorCode.REJECTED,
                description=f"request rejected: {self.limit} streams are open,"
                f" the device serves at most {self.limit} at once",
            )
        self._holders.append(holder)
        return None

    def release(self, holder: Holder) -> None:
        """The stream of ``holder`` ended (a holder never admitted is ignored)."""
        if holder in self._holders:
            self._holders.remove(holder)

    @contextmanager
    def slot(self, holder: Holder) -> Iterator[ApiError | None]:
        """Admit ``holder`` for the block and release it after; yields the refusal, if any."""
        refusal = self.admit(holder)
        try:
            yield refusal
        finally:
            if refusal is None:
                self.release(holder)
