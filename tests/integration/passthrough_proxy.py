"""A plain pass-through HTTP proxy for the lab-path tests: the device behind one more hop.

Strategy: what a lab puts between the suite and an intercom (a port forward, a reverse
proxy on a jump host) must not change a verdict. The proxy listens on 127.0.0.1 port 0
and, for each connection, reads the request head (bounded, with a deadline), rewrites
``Host`` to the device's address as a reverse proxy does, and then relays bytes both
ways untouched until either side closes. It writes the device's reply in slices of
``slice_bytes``, so the TCP segments the suite reads are not the device's. Plain asyncio
on a thread of its own; every read has a deadline; errors raised in the relay are kept
and re-raised when the proxy stops, so a broken proxy never passes silently.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# The stream reader's limit: a longer request head fails readuntil (kept as an error).
MAX_HEAD_BYTES = 64 * 1024
HEAD_TIMEOUT_S = 10.0
# A stream sends a part every 1/fps s; a reply idle this long is over (or the peer is gone).
IDLE_TIMEOUT_S = 30.0
START_TIMEOUT_S = 10.0
READ_CHUNK = 64 * 1024
# A client closing its end mid-stream is how every stream read by the suite ends.
_PEER_GONE = (ConnectionResetError, BrokenPipeError, asyncio.IncompleteReadError)


@dataclass
class Proxy:
    """A running proxy: its base URL, what it relayed, and the errors it kept."""

    url: str
    upstream: str
    connections: int = 0
    bytes_to_client: int = 0
    errors: list[BaseException] = field(default_factory=list)


def _rewrite_host(head: bytes, authority: str) -> bytes:
    """The request head with its Host header naming the device (added when missing)."""
    lines = head.split(b"\r\n")
    kept = [line for line in lines[1:] if not line.lower().startswith(b"host:")]
    return b"\r\n".join([lines[0], b"Host: " + authority.encode("ascii"), *kept])


async def _pump(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, slice_bytes: int
) -> int:
    """Copy bytes until EOF or an idle deadline, writing them in slices; return the count."""
    copied = 0
    while True:
        try:
            data = await asyncio.wait_for(reader.read(READ_CHUNK), IDLE_TIMEOUT_S)
        except TimeoutError:
            return copied
        if not data:
            return copied
        for start in range(0, len(data), slice_bytes):
            writer.write(data[start : start + slice_bytes])
            await writer.drain()
        copied += len(data)


async def _both_ways(
    client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    device: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    slice_bytes: int,
) -> int:
    """Relay until either side is done (one request per connection); return bytes sent back."""
    up = asyncio.create_task(_pump(client[0], device[1], READ_CHUNK))
    down = asyncio.create_task(_pump(device[0], client[1], slice_bytes))
    # The reply is complete when the device closes; the client leaving (a stream read
    # for its window) ends the exchange too. Either way the other direction is over.
    await asyncio.wait((up, down), return_when=asyncio.FIRST_COMPLETED)
    for task in (up, down):
        task.cancel()
    results = await asyncio.gather(up, down, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException) and not isinstance(
            result, (*_PEER_GONE, asyncio.CancelledError)
        ):
            raise result
    return results[1] if isinstance(results[1], int) else 0


async def _relay(
    proxy: Proxy,
    upstream: tuple[str, int],
    slice_bytes: int,
    client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
) -> None:
    """One connection: read the head, rewrite Host, relay both ways, close both ends."""
    proxy.connections += 1
    device: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    try:
        head = await asyncio.wait_for(client[0].readuntil(b"\r\n\r\n"), HEAD_TIMEOUT_S)
        device = await asyncio.wait_for(asyncio.open_connection(*upstream), HEAD_TIMEOUT_S)
        authority = f"{upstream[0]}:{upstream[1]}"
        device[1].write(_rewrite_host(head[:-4], authority) + b"\r\n\r\n")
        proxy.bytes_to_client += await _both_ways(client, device, slice_bytes)
    except _PEER_GONE:
        pass
    except Exception as error:  # noqa: BLE001 - kept and re-raised in the test's thread
        proxy.errors.append(error)
    finally:
        client[1].close()
        if device is not None:
            device[1].close()


@contextmanager
def running_passthrough_proxy(upstream: str, *, slice_bytes: int = 1400) -> Iterator[Proxy]:
    """Relay 127.0.0.1:<port 0> to ``upstream`` (an http:// base URL) until the block ends."""
    target = urlsplit(upstream)
    if target.scheme != "http" or target.hostname is None or target.port is None:
        raise ValueError(f"upstream must be http://HOST:PORT, got {upstream!r}")
    if slice_bytes < 1:
        raise ValueError("slice_bytes must be positive")
    host, port = target.hostname, target.port
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    proxy = Proxy(url="", upstream=upstream)
    stop = asyncio.Event()

    async def serve() -> None:
        relays: set[asyncio.Task[None]] = set()

        def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = loop.create_task(_relay(proxy, (host, port), slice_bytes, (reader, writer)))
            relays.add(task)
            task.add_done_callback(relays.discard)

        server = await asyncio.start_server(handle, "127.0.0.1", 0, limit=MAX_HEAD_BYTES)
        proxy.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        ready.set()
        async with server:
            await stop.wait()
        for task in relays:
            task.cancel()
        await asyncio.gather(*relays, return_exceptions=True)

    def run() -> None:
        try:
            loop.run_until_complete(serve())
        except Exception as error:  # noqa: BLE001 - re-raised in the test's thread
            proxy.errors.append(error)
        finally:
            ready.set()
            loop.close()

    thread = threading.Thread(target=run, name="passthrough-proxy", daemon=True)
    thread.start()
    if not ready.wait(START_TIMEOUT_S) or not proxy.url:
        raise RuntimeError(f"the proxy did not start: {proxy.errors!r}")
    try:
        yield proxy
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(START_TIMEOUT_S)
    if proxy.errors:
        raise proxy.errors[0]
