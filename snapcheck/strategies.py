"""Hypothesis strategies over the parameters of /api/camera/snapshot, drawn from a device's caps.

Strategy: each strategy takes what a device advertises (``Caps``) and draws requests as a
client would write them: a list of (name, value) text pairs in the order sent, or a raw
query string with deliberately odd percent-encoding. Strategies only generate; they never
judge. What a conforming device may answer to a draw is the business of the
expected-outcome model (``snapcheck.expected``); the families are named after what that
model expects of them:

- ``valid_params``: every value advertised or in range; an image (or a stream) conforms.
- ``invalid_params``: at least one fault no reading forgives; only an error conforms.
- ``loose_params``: where the contract leaves room (unknown names, repeats, empty optional
  values, fractions, a positive time, fps beyond any maximum); several answers conform.
- ``misencoded_queries``: a valid request with one value oddly encoded (NUL, bad escapes,
  overlong UTF-8, '+' and %20, full-width characters); only an error conforms.
- ``encoded_queries``: a valid request with characters needlessly percent-encoded; it is
  the same request, so an image conforms.

Values derived from caps (pairs just off the list, sources in the wrong case) are plain
functions over tables, so that table-driven tests use them without Hypothesis. Nothing
here sends a request, reads a reply or imports pytest.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import parse_qsl, quote

from hypothesis import strategies as st

from snapcheck.expected import Caps

Params = list[tuple[str, str]]
Pair = tuple[int, int]
Fault = Callable[[Caps, Params], st.SearchStrategy[Params]]

# The seed: time "must be within the intercom memory range: <-30, 0> seconds".
TIME_MIN, TIME_MAX = -30, 0
# Sizes that wrap to the first advertised pair in a 16-, 32- or 64-bit integer.
_WRAPS = (2**16, 2**32, 2**64)

# ---------------------------------------------------------------- derived from caps

PAIR_DERIVATIONS: Mapping[str, Callable[[Caps], Iterable[Pair]]] = {
    # One pixel off an advertised pair, in each direction.
    "one wider": lambda caps: ((w + 1, h) for w, h in caps.resolutions),
    "one taller": lambda caps: ((w, h + 1) for w, h in caps.resolutions),
    "one narrower": lambda caps: ((w - 1, h) for w, h in caps.resolutions),
    "one shorter": lambda caps: ((w, h - 1) for w, h in caps.resolutions),
    "swapped": lambda caps: ((h, w) for w, h in caps.resolutions),
    # The width of one advertised pair with the height of another.
    "mixed": lambda caps: (
        (w, h) for (w, _), (_, h) in itertools.permutations(caps.resolutions, 2)
    ),
    "zero": lambda caps: [(0, 0)],
    # A device that keeps sizes in fixed-width integers would read the first pair here.
    "wraps around": lambda caps: (
        (caps.resolutions[0][0] + wrap, caps.resolutions[0][1] + wrap) for wrap in _WRAPS
    ),
}

SOURCE_DERIVATIONS: Mapping[str, Callable[[Caps], Iterable[str]]] = {
    "upper case": lambda caps: (s.upper() for s in caps.sources),
    "capitalised": lambda caps: (s.capitalize() for s in caps.sources),
    "padded": lambda caps: (padded for s in caps.sources for padded in (f" {s}", f"{s} ")),
    "truncated": lambda caps: (s[:-1] for s in caps.sources),
    # A device reading C strings would stop at the NUL and see a listed name.
    "NUL-terminated": lambda caps: (f"{s}\x00" for s in caps.sources),
    # The documented names the device does not list, and names no device documents.
    "unknown": lambda caps: ("internal", "external", "camera", "usb", "0", "1", "both"),
}


def smallest_pair(caps: Caps) -> Pair:
    """The advertised pair with the fewest pixels: the cheapest snapshot to ask for."""
    return min(caps.resolutions, key=lambda pair: pair[0] * pair[1])


def largest_pair(caps: Caps) -> Pair:
    """The advertised pair with the most pixels."""
    return max(caps.resolutions, key=lambda pair: pair[0] * pair[1])


def small_caps(caps: Caps, max_pixels: int) -> Caps:
    """Caps narrowed to the pairs of at most ``max_pixels`` (else to the smallest pair).

    For drawing valid requests whose size is not the point, where large frames only cost
    time. Refusals must be derived from the full caps: a pair left out here is still listed.
    """
    small = tuple(pair for pair in caps.resolutions if pair[0] * pair[1] <= max_pixels)
    return Caps(small or (smallest_pair(caps),), caps.sources)


def unlisted_pairs(caps: Caps, derivation: str | None = None) -> list[Pair]:
    """Pairs caps does not list, from one derivation of PAIR_DERIVATIONS or all of them."""
    derive = [PAIR_DERIVATIONS[derivation]] if derivation else PAIR_DERIVATIONS.values()
    listed = set(caps.resolutions)
    found = (pair for how in derive for pair in how(caps))
    return list(dict.fromkeys(pair for pair in found if pair not in listed and min(pair) >= 0))


def unlisted_sources(caps: Caps, derivation: str | None = None) -> list[str]:
    """Non-empty source names caps does not list, from one derivation or all of them."""
    derive = [SOURCE_DERIVATIONS[derivation]] if derivation else SOURCE_DERIVATIONS.values()
    found = (name for how in derive for name in how(caps))
    return list(dict.fromkeys(name for name in found if name and name not in caps.sources))


# ---------------------------------------------------------------- valid values


def time_offsets() -> st.SearchStrategy[str]:
    """An integer time offset in [-30, 0], as text."""
    return st.integers(TIME_MIN, TIME_MAX).map(str)


def single_fps() -> st.SearchStrategy[str]:
    """An fps in [0, 1), which asks for a single JPEG ("0", "0.05" ... "0.99")."""
    return st.integers(0, 99).map(lambda n: f"0.{n:02d}" if n else "0")


def stream_fps(max_fps: int | None) -> st.SearchStrategy[str]:
    """An integer fps from 1 to the device's maximum (only 1 while the maximum is unknown)."""
    return st.integers(1, max_fps or 1).map(str)


def _with_fps(fps: st.SearchStrategy[str]) -> st.SearchStrategy[Params]:
    return fps.map(lambda value: [("fps", value)])


# What a valid request asks for besides size and source; a stream in one draw of six.
_MODES: Mapping[str, Callable[[int | None], st.SearchStrategy[Params]]] = {
    "one image": lambda top: st.just([]),
    "one image, fps below 1": lambda top: _with_fps(single_fps()),
    "one image from the past": lambda top: time_offsets().map(lambda t: [("time", t)]),
    "one image from the past, fps ignored": lambda top: st.tuples(
        time_offsets(), stream_fps(top) | single_fps()
    ).map(lambda tf: [("time", tf[0]), ("fps", tf[1])]),
    "a stream": lambda top: _with_fps(stream_fps(top)),
}
_MODE_WEIGHTS = (
    "one image",
    "one image",
    "one image, fps below 1",
    "one image from the past",
    "one image from the past, fps ignored",
    "a stream",
)


@st.composite
def valid_params(
    draw: st.DrawFn, caps: Caps, *, max_fps: int | None = None, streams: bool = True
) -> Params:
    """A request whose every value caps advertises or the contract allows, in any order."""
    width, height = draw(st.sampled_from(caps.resolutions))
    params: Params = [("width", str(width)), ("height", str(height))]
    source = draw(st.none() | st.sampled_from(caps.sources))
    if source is not None:
        params.append(("source", source))
    modes = _MODE_WEIGHTS if streams else tuple(m for m in _MODE_WEIGHTS if m != "a stream")
    params += draw(_MODES[draw(st.sampled_from(modes))](max_fps))
    return list(draw(st.permutations(params)))


# ---------------------------------------------------------------- faults


def set_param(params: Params, name: str, value: str) -> Params:
    """The parameters with ``name`` given once, as ``value`` (in place, else appended)."""
    if all(key != name for key, _ in params):
        return [*params, (name, value)]
    first = next(index for index, (key, _) in enumerate(params) if key == name)
    return [
        (key, value) if index == first else (key, old)
        for index, (key, old) in enumerate(params)
        if key != name or index == first
    ]


def without_param(params: Params, name: str) -> Params:
    """The parameters without ``name``."""
    return [(key, value) for key, value in params if key != name]


# None is ASCII digits alone; "" is read as missing (11) or invalid (12), both errors.
NOT_DIMENSIONS = (
    "",
    "abc",
    "640.0",
    "-640",
    "+640",
    " 640",
    "640 ",
    "6.4e2",
    "0x280",
    "640px",
    "1,024",
    "\uff16\uff14\uff10",  # full-width digits, which str.isdigit() accepts
    "640\x00",
)
NOT_NUMBERS = ("abc", "five", "NaN", "inf", "5fps", "1,5", "--1", "1-", "0x5", "\uff15")
NEGATIVE_FPS = ("-1", "-0.5", "-15", "-1000000")
TIME_BELOW_RANGE = ("-31", "-30.5", "-1000", "-99999999999999999999")


def _replaced(name: str, values: Iterable[str], *, drop: str | None = None) -> Fault:
    choices = tuple(values)

    def fault(caps: Caps, params: Params) -> st.SearchStrategy[Params]:
        kept = without_param(params, drop) if drop else params
        return st.sampled_from(choices).map(lambda value: set_param(kept, name, value))

    return fault


def _unlisted_pair(caps: Caps, params: Params) -> st.SearchStrategy[Params]:
    return st.sampled_from(unlisted_pairs(caps)).map(
        lambda pair: set_param(set_param(params, "width", str(pair[0])), "height", str(pair[1]))
    )


def _unlisted_source(caps: Caps, params: Params) -> st.SearchStrategy[Params]:
    return st.sampled_from(unlisted_sources(caps)).map(
        lambda name: set_param(params, "source", name)
    )


# Each fault leaves a parameter no reading forgives. An fps fault drops time, because with
# time "the fps parameter is ignored" and the request could rightly be served.
FAULTS: Mapping[str, Fault] = {
    "width missing": lambda caps, params: st.just(without_param(params, "width")),
    "height missing": lambda caps, params: st.just(without_param(params, "height")),
    "width not an integer": _replaced("width", NOT_DIMENSIONS),
    "height not an integer": _replaced("height", NOT_DIMENSIONS),
    "pair not in caps": _unlisted_pair,
    "source not in caps": _unlisted_source,
    "fps negative": _replaced("fps", NEGATIVE_FPS, drop="time"),
    "fps not a number": _replaced("fps", NOT_NUMBERS, drop="time"),
    "time out of range": _replaced("time", TIME_BELOW_RANGE),
    "time not a number": _replaced("time", NOT_NUMBERS),
}


@st.composite
def invalid_params(draw: st.DrawFn, caps: Caps) -> Params:
    """A valid request with one or two faults from FAULTS: only an error conforms."""
    params = draw(valid_params(caps))
    for name in draw(st.lists(st.sampled_from(tuple(FAULTS)), min_size=1, max_size=2, unique=True)):
        params = draw(FAULTS[name](caps, params))
    return params


# ---------------------------------------------------------------- where the contract is loose

UNKNOWN_PARAMS = (
    ("quality", "50"),
    ("quality", "100"),
    ("Width", "640"),
    ("resolution", "640x480"),
    ("compression", "0"),
    ("_", "1"),
)


def _unknown(caps: Caps, params: Params) -> st.SearchStrategy[Params]:
    return st.sampled_from(UNKNOWN_PARAMS).map(lambda extra: [*params, extra])


def _repeated(caps: Caps, params: Params) -> st.SearchStrategy[Params]:
    """One parameter sent twice: the same value, or for width another advertised width."""
    widths = [str(w) for w, _ in caps.resolutions]
    twice = st.sampled_from(params).map(lambda pair: [*params, pair])
    other_width = st.sampled_from(widths).map(lambda w: [*params, ("width", w)])
    return twice | other_width


def _empty(caps: Caps, params: Params) -> st.SearchStrategy[Params]:
    names = ("source", "fps", "time")
    return st.sampled_from(names).map(lambda name: set_param(params, name, ""))


LOOSENESS: Mapping[str, Fault] = {
    "unknown parameter": _unknown,
    "repeated parameter": _repeated,
    "empty optional value": _empty,
    "time after now": _replaced("time", ("1", "5", "1700000000")),
    "fractional fps": _replaced("fps", ("2.5", "1.5")),
    "fractional time": _replaced("time", ("-2.5", "-0.5", "-29.9")),
    "fps negative zero": _replaced("fps", ("-0",)),
    "lenient fps": _replaced("fps", ("+1", ".5", "1.")),
    "lenient time": _replaced("time", ("+0", "-5.", "-.5")),
    "fps above any maximum": _replaced("fps", ("1001", "1000000", "99999999999999999999")),
}


@st.composite
def loose_params(draw: st.DrawFn, caps: Caps, *, max_fps: int | None = None) -> Params:
    """A valid request taking one liberty from LOOSENESS: the contract allows several answers."""
    params = draw(valid_params(caps, max_fps=max_fps, streams=False))
    return draw(LOOSENESS[draw(st.sampled_from(tuple(LOOSENESS)))](caps, params))


# ---------------------------------------------------------------- raw queries


def _percent(data: bytes) -> str:
    return "".join(f"%{byte:02X}" for byte in data)


def _overlong(text: str) -> str:
    """ASCII in two-byte overlong UTF-8 (C0 B6 for '6'), which a strict decoder refuses."""
    return "".join(_percent(bytes((0xC0 | ord(c) >> 6, 0x80 | ord(c) & 0x3F))) for c in text)


def _full_width(text: str) -> str:
    """Printable ASCII as its full-width form (U+FF01..U+FF5E), percent-encoded as UTF-8."""
    wide = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)
    return quote(wide, safe="")


# From a value's text to its raw encoding in the query; '+' is a space in a form-encoded
# query and itself elsewhere, and either way the value is wrong.
MISENCODINGS: Mapping[str, Callable[[str], str]] = {
    "NUL after": lambda v: quote(v, safe="") + "%00",
    "NUL before": lambda v: "%00" + quote(v, safe=""),
    "bad escape": lambda v: quote(v, safe="") + "%ZZ",
    "truncated escape": lambda v: quote(v, safe="") + "%4",
    "overlong UTF-8": _overlong,
    "plus before": lambda v: "+" + quote(v, safe=""),
    "plus after": lambda v: quote(v, safe="") + "+",
    "%20 before": lambda v: "%20" + quote(v, safe=""),
    "full-width": _full_width,
}
_MISENCODED_NAMES = ("width", "height", "source")


def query_string(params: Params, raw: Mapping[int, str] | None = None) -> str:
    """The query for ``params``, percent-encoded, with the values at ``raw``'s indexes as given."""
    raw = raw or {}
    return "&".join(
        f"{quote(name, safe='')}={raw.get(index, quote(value, safe=''))}"
        for index, (name, value) in enumerate(params)
    )


def decoded_query(raw: str) -> Params:
    """The parameters a form-urlencoded reader makes of a raw query (what the model judges)."""
    return parse_qsl(raw, keep_blank_values=True)


@st.composite
def misencoded_queries(draw: st.DrawFn, caps: Caps) -> str:
    """A valid request whose width, height or source is oddly encoded: only an error conforms."""
    params = draw(valid_params(caps, streams=False))
    # Every misencoding spoils printable ASCII (a source name caps gives may be neither).
    targets = [
        i
        for i, (name, value) in enumerate(params)
        if name in _MISENCODED_NAMES and value.isascii() and value.isprintable()
    ]
    index = draw(st.sampled_from(targets))
    how = MISENCODINGS[draw(st.sampled_from(tuple(MISENCODINGS)))]
    return query_string(params, {index: how(params[index][1])})


@st.composite
def encoded_queries(draw: st.DrawFn, caps: Caps) -> str:
    """A valid request with characters of names and values needlessly percent-encoded."""
    params = draw(valid_params(caps, streams=False))

    def encoded(text: str) -> str:
        ways = st.sampled_from(("as is", "%XX", "%xx"))
        flags = draw(st.lists(ways, min_size=len(text), max_size=len(text)))
        return "".join(_encode_char(c, flag) for c, flag in zip(text, flags, strict=True))

    return "&".join(f"{encoded(name)}={encoded(value)}" for name, value in params)


def _encode_char(char: str, flag: str) -> str:
    if flag == "as is":
        return quote(char, safe="")
    # RFC 3986: hex digits in an escape are case-insensitive; both forms are sent.
    escaped = _percent(char.encode("utf-8"))
    return escaped.lower() if flag == "%xx" else escaped
