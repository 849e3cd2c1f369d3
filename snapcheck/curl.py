"""A copy-pasteable curl command that reproduces a request, for every finding.

Strategy: a pure function from a ``Request`` to one shell line. The URL keeps the query
exactly as sent (``Request.query``, raw encodings included) and turns off curl's own URL
globbing and path normalisation where they would change it. Credentials never appear:
the password is a mask the engineer replaces, and an ``Authorization`` header sent by
hand keeps only its scheme. Every argument is quoted with ``shlex.quote``. Nothing here
sends anything.
"""

from __future__ import annotations

import re
import shlex
from urllib.parse import urlencode, urlsplit

from snapcheck.exchange import Request

# curl's switch for each authentication scheme a Request may name.
AUTH_SWITCHES: dict[str, str] = {"basic": "--basic", "digest": "--digest"}
# Headers curl computes itself; copying them would break the reproduction.
COMPUTED_HEADERS = frozenset({"content-length"})
# Headers whose values are credentials (or replayable proofs of them).
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
# Characters curl would expand as a glob ([1-3], {a,b}) unless told not to.
GLOB_CHARACTERS = frozenset("[]{}")
# Path segments curl would squash (RFC 3986 dot segments) unless told not to.
DOT_SEGMENTS = frozenset({".", ".."})
SNAPSHOT_PATH_SUFFIX = "/snapshot"
# An fps value that reads as a plain decimal number; anything else is not a stream.
DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def curl_for(request: Request, *, password_mask: str = "****") -> str:
    """One shell line that sends ``request`` again with curl (credentials masked)."""
    argv = ["curl", "-sS", "-D", "-"]
    argv += _method_switches(request)
    argv += _auth_switches(request, password_mask)
    argv += _header_switches(request)
    if request.form is not None:
        argv += ["--data-raw", urlencode(request.form)]
    argv += _url_switches(request)
    if request.timeout_s is not None:
        argv += ["--max-time", f"{request.timeout_s:g}"]
    argv += _output_switches(request)
    argv.append(request.url)
    return " ".join(shlex.quote(arg) for arg in argv)


def _method_switches(request: Request) -> list[str]:
    method = request.method.upper()
    if method == "HEAD":
        return ["--head"]  # -X HEAD would make curl wait for a body that never comes
    # --data-raw already makes curl POST; GET without a body is curl's default.
    implied = "POST" if request.form is not None else "GET"
    return [] if method == implied else ["-X", method]


def _auth_switches(request: Request, password_mask: str) -> list[str]:
    if request.user is None:
        return []
    scheme = (request.auth_method or "").lower()
    switch = AUTH_SWITCHES.get(scheme)
    # "auto" or an unknown scheme: let curl pick what the device offers.
    return [switch or "--anyauth", "-u", f"{request.user}:{password_mask}"]


def _header_switches(request: Request) -> list[str]:
    # With -u curl answers the challenge itself; a copied Authorization would override it.
    computed = COMPUTED_HEADERS | ({"authorization"} if request.user is not None else set())
    switches: list[str] = []
    for name, value in request.headers:
        if name.lower() not in computed:
            switches += ["-H", f"{name}: {_masked(name, value)}"]
    return switches


def _masked(name: str, value: str) -> str:
    """A secret header's value reduced to its scheme ("Digest ****"); others unchanged."""
    if name.lower() not in SECRET_HEADERS:
        return value
    scheme = value.split(" ", 1)[0] if " " in value else ""
    return f"{scheme} ****".strip()


def _url_switches(request: Request) -> list[str]:
    switches = []
    if GLOB_CHARACTERS & set(request.url):
        switches.append("--globoff")
    if DOT_SEGMENTS & set(urlsplit(request.url).path.split("/")):
        switches.append("--path-as-is")
    if request.base_url.lower().startswith("https:"):
        switches.append("-k")  # devices serve self-signed certificates
    return switches


def _output_switches(request: Request) -> list[str]:
    if not request.path.rstrip("/").endswith(SNAPSHOT_PATH_SUFFIX):
        return []
    if _asks_for_stream(request):
        return ["-N", "--output", "stream.mjpeg"]
    return ["--output", "snapshot.jpg"]


def _asks_for_stream(request: Request) -> bool:
    """fps >= 1 without time asks for a stream (seed text; time makes it a single frame)."""
    if request.param_values("time"):
        return False
    return any(
        DECIMAL.fullmatch(value.strip()) and float(value) >= 1
        for value in request.param_values("fps")
    )
