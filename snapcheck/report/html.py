"""report.html: one self-contained page a certification engineer can attach to a release.

Strategy: ``render_html`` is a function of the report document alone. It arranges the
document for reading (what needs attention first, clauses by area, frames by source and
size, the plots) and hands that to the Jinja2 templates in ``templates/``, with
autoescaping on: every string from a device (system info, messages, evidence) is
escaped. The page loads nothing: the stylesheet is inlined, pictures and plots are
data URIs, and there is no script. Nothing here reads the live run or the network.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from snapcheck.clauses import Area
from snapcheck.report.model import NOT_JUDGED
from snapcheck.report.pictures import live_frames, shifted_frames
from snapcheck.report.plots import StreamStats, draw_plots
from snapcheck.verdicts import SEVERITY_ORDER, Verdict

TEMPLATE = "report.html.j2"
# /api/system/info members, in the order an engineer looks for them.
SYSTEM_INFO_LABELS: tuple[tuple[str, str], ...] = (
    ("variant", "Variant"),
    ("serialNumber", "Serial number"),
    ("swVersion", "Firmware"),
    ("buildType", "Build type"),
    ("firmwarePackage", "Firmware package"),
    ("hwVersion", "Hardware"),
    ("macAddr", "MAC address"),
    ("deviceName", "Device name"),
    ("devType", "Device type"),
    ("variantId", "Variant ID"),
    ("customerId", "Customer ID"),
)
AREA_TITLES: Mapping[str, str] = {
    Area.ENVELOPE: "JSON envelope and errors",
    Area.CAPS: "Capabilities (/api/camera/caps)",
    Area.PARAMETERS: "Snapshot parameters",
    Area.JPEG: "JPEG replies",
    Area.STREAM: "MJPEG streams",
    Area.FPS: "Frame rate (fps)",
    Area.TIME: "Time-shifted snapshots (time)",
    Area.ACCESS: "Access control and authentication",
    Area.TRANSPORT: "HTTP transport",
    Area.INFO: "System information (/api/system/info)",
}
ATTENTION = (Verdict.FAIL, Verdict.DEVICE_UNREACHABLE, Verdict.NON_STRICT)


def verdict_class(verdict: str | None) -> str:
    """The CSS class of a verdict badge (``v-none`` for a clause the run did not judge)."""
    return "v-" + (verdict or "none").lower().replace("-", "")


def _when(text: str) -> str:
    return datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def _duration(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)} min {rest:.0f} s" if minutes else f"{rest:.1f} s"


def _device_rows(identity: Mapping[str, Any]) -> list[tuple[str, str]]:
    info = identity.get("system_info") or {}
    rows = [(label, str(info[key])) for key, label in SYSTEM_INFO_LABELS if key in info]
    known = {key for key, _ in SYSTEM_INFO_LABELS}
    rows += [(key, str(value)) for key, value in info.items() if key not in known]
    rows.append(("Server header", identity.get("server") or "(none sent)"))
    tls = identity.get("tls_certificate_sha256")
    rows.append(("TLS certificate SHA-256", tls or "(plain HTTP: no certificate)"))
    rows.append(("Address", str(identity.get("base_url", "(unknown)"))))
    caps = identity.get("caps") or {}
    if caps:
        rows.append(("Resolutions (caps)", ", ".join(caps.get("resolutions", ()))))
        rows.append(("Sources (caps)", ", ".join(caps.get("sources", ()))))
    if identity.get("max_fps") is not None:
        rows.append(("Highest fps streamed", str(identity["max_fps"])))
    return rows


def _seed_text(hypothesis: Mapping[str, Any]) -> str:
    if hypothesis.get("seed"):
        seed = hypothesis["seed"]
        return f"{seed} (profile {hypothesis['profile']}); replay with --hypothesis-seed={seed}"
    if hypothesis.get("derandomize"):
        return f"derandomized: drawn from each test's name (profile {hypothesis['profile']})"
    return (f"random for each test (profile {hypothesis['profile']}); "
            "rerun with --hypothesis-seed=N to fix one")


def _run_rows(document: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [
        ("Suite", f"snapcheck {document['suite_version']} (report format {document['version']})"),
        ("Started", _when(document["started"])),
        ("Duration", _duration(float(document["duration_s"]))),
        ("Hypothesis seed", _seed_text(document["hypothesis"])),
        ("Strict (NON-STRICT fails the run)", "yes" if document["strict"] else "no"),
    ]


def _areas(clauses: list[Mapping[str, Any]]) -> list[tuple[str, list[Mapping[str, Any]]]]:
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for clause in clauses:
        grouped.setdefault(clause["area"] or "other", []).append(clause)
    return [(AREA_TITLES.get(area, "Clauses outside the catalogue"), items)
            for area, items in grouped.items()]


def _attention(clauses: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    wanted = {v.value: SEVERITY_ORDER.index(v) for v in ATTENTION}
    chosen = [c for c in clauses if c["verdict"] in wanted]
    return sorted(chosen, key=lambda c: wanted[c["verdict"]])


def report_context(document: Mapping[str, Any]) -> dict[str, Any]:
    """What the templates show, arranged from the report document."""
    artifacts = document.get("artifacts", {})
    frames = artifacts.get("frame", [])
    clauses = list(document["catalogue"])
    identity = document["identity"]
    info = identity.get("system_info") or {}
    return {
        "doc": document,
        "title": info.get("variant") or identity.get("base_url") or "device",
        "device_rows": _device_rows(identity),
        "run_rows": _run_rows(document),
        "settings": [(name, "(none)" if value == "None" else value)
                     for name, value in sorted(document["settings"].items())],
        "verdicts": [v.value for v in Verdict],
        "columns": [v.value for v in Verdict] + [NOT_JUDGED],
        "judged": sum(1 for c in clauses if c["verdict"]),
        "attention": _attention(clauses),
        "areas": _areas(clauses),
        "live_frames": live_frames(frames),
        "shifted_frames": shifted_frames(frames),
        "shifts_without_age": sum(
            1 for s in artifacts.get("time_shift", []) if s.get("decoded_age_s") is None
        ),
        "plots": draw_plots(artifacts),
        "streams": [StreamStats.of(s) for s in artifacts.get("stream", [])],
        "tests": document["tests"],
    }


def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("snapcheck.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["verdict_class"] = verdict_class
    return environment


def render_html(document: Mapping[str, Any]) -> str:
    """The self-contained HTML page of a report document."""
    return _environment().get_template(TEMPLATE).render(report_context(document))
