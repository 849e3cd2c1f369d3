"""The ``snapcheck`` command: validate one URL or a HAR capture, list the clause catalogue,
render a conformance run's report again from its report.json, and run the kill matrix
(killmatrix.py: the suite against every deliberate fault of the bundled device).

Strategy: a thin front end. It parses the command line, builds a ``Transport`` (or reads
a HAR file), hands every reply to ``snapcheck.judge`` and prints the findings worst
first, then one summary line. Exit status: 0 conforming, 1 a FAIL (or NON-STRICT with
``--strict``), 2 the command line, the file or the connection is wrong (``UsageError``,
argparse's own errors). Credentials come from options, the URL or ``SNAPCHECK_PASSWORD``
and are masked in everything printed. No check logic lives here.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO
from urllib.parse import parse_qsl, unquote, urlsplit

from snapcheck import killmatrix_cli
from snapcheck.arguments import positive_number
from snapcheck.clauses import Area, load_catalogue
from snapcheck.coverage import scan_coverage
from snapcheck.exchange import Reply, Request
from snapcheck.expected import Caps, DeviceConfig
from snapcheck.har import CAMERA_PATHS, read_har
from snapcheck.judge import (
    CAPS_PATH,
    INFO_PATH,
    SNAPSHOT_PATH,
    analyse_part,
    caps_from_reply,
    judge,
    judge_caps,
    judge_system_info,
    stream_window,
)
from snapcheck.transport import AUTH_METHODS, Transport
from snapcheck.verdicts import SEVERITY_ORDER, Finding, UsageError, Verdict

PASSWORD_ENV = "SNAPCHECK_PASSWORD"
MASK = "****"
EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
DEFAULT_DURATION_S = 3.0
DEFAULT_TIMEOUT_S = 10.0
GENTLE_RATE_PER_S = 5.0
PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(slots=True)
class Section:
    """The findings about one exchange, under a heading that names it."""

    heading: str
    findings: list[Finding]
    notes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Outcome:
    """Everything a validate run found, ready to print."""

    sections: list[Section] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        """Every finding of every section."""
        return [finding for section in self.sections for finding in section.findings]


def build_parser() -> argparse.ArgumentParser:
    """The command line: ``validate``, ``clauses``, ``report`` and ``killmatrix``."""
    parser = argparse.ArgumentParser(
        prog="snapcheck", description="Validate an intercom's camera snapshot HTTP API."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser(
        "validate", help="fetch one URL (or read a HAR capture) and judge every reply"
    )
    validate.add_argument("url", nargs="?", help="snapshot, stream, caps or system/info URL")
    validate.add_argument("--har", type=Path, help="judge the camera exchanges of a HAR file")
    validate.add_argument("--user", help="API user name")
    validate.add_argument("--password", help=f"API password (better: ${PASSWORD_ENV})")
    validate.add_argument("--auth-method", choices=AUTH_METHODS, default="auto")
    validate.add_argument(
        "--duration",
        type=positive_number,
        default=DEFAULT_DURATION_S,
        help="seconds a stream is read (default 3)",
    )
    validate.add_argument(
        "--timeout",
        type=positive_number,
        default=DEFAULT_TIMEOUT_S,
        help="seconds allowed for one request (default 10)",
    )
    validate.add_argument("--max-fps", type=int, help="the device's maximum fps, if known")
    validate.add_argument("--default-source", help="the device's configured default source")
    validate.add_argument("--strict", action="store_true", help="NON-STRICT fails the run too")
    validate.add_argument("--json", action="store_true", help="print JSON instead of text")
    clauses = commands.add_parser("clauses", help="list the clause catalogue and its coverage")
    clauses.add_argument("--area", choices=[area.value for area in Area])
    clauses.add_argument("--json", action="store_true", help="print JSON instead of text")
    clauses.add_argument(
        "--require-coverage",
        action="store_true",
        help="exit 1 when a clause lacks a check or a test",
    )
    clauses.add_argument(
        "--root",
        type=Path,
        default=PROJECT_ROOT,
        help="the source tree to scan (default: this installation's)",
    )
    report = commands.add_parser(
        "report", help="render report.html and junit.xml again from a run's report.json"
    )
    report.add_argument("path", type=Path, help="the report.json of a conformance run")
    report.add_argument(
        "--out", type=Path, help="the folder to write into (default: beside report.json)"
    )
    killmatrix_cli.add_arguments(
        commands.add_parser(
            "killmatrix",
            help="run the suite against every deliberate fault of the bundled device"
            " (each must fail it) and without (it must pass)",
        )
    )
    return parser


def _config(args: argparse.Namespace) -> DeviceConfig:
    try:
        return DeviceConfig(default_source=args.default_source, max_fps=args.max_fps)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _split_url(url: str) -> tuple[str, str, str, str | None, str | None]:
    """Base URL (without credentials), path, query, and the URL's user and password."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"the URL must be http:// or https://, got {url!r}")
    path = parts.path.rstrip("/")
    camera = next((p for p in CAMERA_PATHS if path.endswith(p)), None)
    if camera is None:
        raise UsageError(f"snapcheck validates {', '.join(CAMERA_PATHS)}; got {parts.path!r}")
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    base = f"{parts.scheme}://{netloc}{path[: -len(camera)]}"
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return base, camera, parts.query, user, password


def _request(base: str, path: str, query: str) -> Request:
    params = tuple(parse_qsl(query, keep_blank_values=True))
    return Request("GET", base, path, params, raw_query=query or None)


def _fetch(transport: Transport, request: Request, window_s: float | None = None) -> Reply:
    """One exchange (or a stream read for ``window_s``); no reply at all or a 401 is ours to say."""
    if window_s is None:
        reply = transport.exchange(request)
    else:
        reply = transport.stream(request, window_s, analyse=analyse_part)
    if reply.status == 0:
        raise UsageError(f"cannot reach {request.url}: {reply.transport_error}")
    if reply.status == 401 and request.path != INFO_PATH:
        who = "the credentials given were refused" if transport.user else "it needs --user"
        raise UsageError(f"the device answered 401 to {request.url}: {who}")
    return reply


def _transports(args: argparse.Namespace, base: str) -> tuple[Transport, Transport]:
    """The transport with the user's credentials, and one without (for system info)."""
    _, _, _, url_user, url_password = _split_url(args.url)
    user = args.user or url_user
    password = args.password or url_password or os.environ.get(PASSWORD_ENV)
    credentialed = Transport(
        base,
        user=user,
        password=password,
        auth_method=args.auth_method if user else "none",
        timeout_s=args.timeout,
        rate_limit_per_s=GENTLE_RATE_PER_S,
    )
    anonymous = Transport(base, timeout_s=args.timeout, rate_limit_per_s=GENTLE_RATE_PER_S)
    return credentialed, anonymous


def _validate_url(args: argparse.Namespace, config: DeviceConfig) -> Outcome:
    base, path, query, _, _ = _split_url(args.url)
    transport, anonymous = _transports(args, base)
    outcome = Outcome()
    # System info needs no access rights (AUTH-OPEN-1): it is asked for without credentials.
    info = _fetch(anonymous, _request(base, INFO_PATH, ""))
    outcome.sections.append(Section(f"GET {info.request.url}", judge_system_info(info)))
    if path == INFO_PATH:
        return outcome
    caps_query = query if path == CAPS_PATH else ""
    caps_reply = _fetch(transport, _request(base, CAPS_PATH, caps_query))
    outcome.sections.append(Section(f"GET {caps_reply.request.url}", judge_caps(caps_reply)))
    if path == CAPS_PATH:
        return outcome
    caps = caps_from_reply(caps_reply)
    request = _request(base, SNAPSHOT_PATH, query)
    window = stream_window(request, caps, config, args.duration)
    reply = _fetch(transport, request, window)
    section = Section(f"GET {request.url}", judge(reply, caps=caps, config=config, window_s=window))
    if caps is None:
        section.notes.append("caps could not be read: only checks that need no caps were run")
    outcome.sections.append(section)
    return outcome


def _validate_har(args: argparse.Namespace, config: DeviceConfig) -> Outcome:
    reading = read_har(args.har, analyse=analyse_part)
    outcome = Outcome(notes=list(reading.notes))
    caps: Caps | None = None
    for exchange in reading.exchanges:
        if exchange.request.path == CAPS_PATH and caps is None:
            caps = caps_from_reply(exchange.reply)
    if caps is None:
        outcome.notes.append(
            "no readable caps exchange in the capture: only checks that need no caps were run"
        )
    judges = {
        INFO_PATH: judge_system_info,
        CAPS_PATH: judge_caps,
    }
    for exchange in reading.exchanges:
        request, reply = exchange.request, exchange.reply
        by_path = judges.get(request.path)
        findings = (
            by_path(reply)
            if by_path is not None
            else judge(reply, caps=caps, config=config, window_s=None)
        )
        heading = f"entry {exchange.entry}: {request.method} {request.url}"
        outcome.sections.append(Section(heading, findings))
    if not reading.exchanges:
        raise UsageError(f"{args.har} holds no camera exchange ({', '.join(CAMERA_PATHS)})")
    return outcome


def _counts(findings: Sequence[Finding]) -> dict[str, int]:
    return {
        verdict.value: sum(f.verdict is verdict for f in findings) for verdict in SEVERITY_ORDER
    }


def _exit_status(findings: Sequence[Finding], strict: bool) -> int:
    return EXIT_FAIL if any(f.verdict.fails_run(strict=strict) for f in findings) else EXIT_OK


def _summary(findings: Sequence[Finding], status: int) -> str:
    counts = ", ".join(f"{n} {name}" for name, n in _counts(findings).items() if n)
    verdict = "conforming" if status == EXIT_OK else "NOT conforming"
    return f"summary: {counts or 'no findings'} -> {verdict}"


def _ordered(findings: Sequence[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: SEVERITY_ORDER.index(f.verdict))


def _render_text(outcome: Outcome, status: int) -> list[str]:
    lines: list[str] = []
    for section in outcome.sections:
        lines.append(f"== {section.heading}")
        lines += [f"   note: {note}" for note in section.notes]
        for finding in _ordered(section.findings):
            if finding.verdict in (Verdict.PASS, Verdict.INFORMATIONAL):
                lines.append(f"[{finding.verdict.value}] {finding.clause}: {finding.message}")
            else:
                lines.append(finding.render())
    lines += [f"note: {note}" for note in outcome.notes]
    lines.append(_summary(outcome.findings, status))
    return lines


def _finding_json(finding: Finding) -> dict[str, object]:
    return {
        "clause": finding.clause,
        "verdict": finding.verdict.value,
        "message": finding.message,
        "evidence": finding.evidence,
        "curl": finding.curl,
    }


def _render_json(outcome: Outcome, status: int) -> list[str]:
    document = {
        "exchanges": [
            {
                "exchange": section.heading,
                "notes": section.notes,
                "findings": [_finding_json(f) for f in _ordered(section.findings)],
            }
            for section in outcome.sections
        ],
        "notes": outcome.notes,
        "counts": _counts(outcome.findings),
        "exit_status": status,
    }
    return json.dumps(document, indent=2).splitlines()


def _masked(lines: Sequence[str], secrets: Sequence[str | None]) -> list[str]:
    """Every printed line with every secret replaced by the mask."""
    masked = list(lines)
    for secret in secrets:
        if secret:
            masked = [line.replace(secret, MASK) for line in masked]
    return masked


def _run_validate(args: argparse.Namespace, out: TextIO) -> int:
    if (args.url is None) == (args.har is None):
        raise UsageError("validate takes either a URL or --har FILE")
    config = _config(args)
    outcome = _validate_har(args, config) if args.har else _validate_url(args, config)
    status = _exit_status(outcome.findings, args.strict)
    render = _render_json if args.json else _render_text
    secrets = [args.password, os.environ.get(PASSWORD_ENV)]
    if args.url:
        secrets.append(_split_url(args.url)[4])
    out.write("\n".join(_masked(render(outcome, status), secrets)) + "\n")
    return status


def _run_clauses(args: argparse.Namespace, out: TextIO) -> int:
    rows = scan_coverage(load_catalogue(), args.root)
    if args.area:
        rows = tuple(row for row in rows if row.clause.area.value == args.area)
    missing_checks = [row for row in rows if not row.checks]
    missing_tests = [row for row in rows if not row.tests]
    if args.json:
        document = [
            {
                "id": row.clause.id,
                "level": row.clause.level.value,
                "area": row.clause.area.value,
                "requirement": row.clause.requirement,
                "checks": list(row.checks),
                "tests": list(row.tests),
            }
            for row in rows
        ]
        out.write(json.dumps(document, indent=2) + "\n")
    else:
        for row in rows:
            checks = ", ".join(row.checks) or "MISSING check"
            tests = ", ".join(row.tests) or "MISSING test"
            out.write(f"{row.clause.id} [{row.clause.level.value}] {row.clause.area.value}\n")
            out.write(f"    checks: {checks}\n    tests: {tests}\n")
        out.write(
            f"{len(rows)} clauses: {len(missing_checks)} MISSING check,"
            f" {len(missing_tests)} MISSING test\n"
        )
    uncovered = missing_checks or missing_tests
    return EXIT_FAIL if args.require_coverage and uncovered else EXIT_OK


def _run_report(args: argparse.Namespace, out: TextIO) -> int:
    # Jinja2 and matplotlib are loaded only by the command that renders.
    from snapcheck.report.files import rerender  # noqa: PLC0415

    for written in rerender(args.path, args.out):
        out.write(f"wrote {written}\n")
    return EXIT_OK


COMMANDS = {
    "validate": _run_validate,
    "clauses": _run_clauses,
    "report": _run_report,
    "killmatrix": killmatrix_cli.run_command,
}


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run the command line; returns the exit status (argparse errors exit 2 themselves)."""
    stream = out or sys.stdout
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args, stream)
    except UsageError as exc:
        secrets = [getattr(args, "password", None), os.environ.get(PASSWORD_ENV)]
        sys.stderr.write("\n".join(_masked([f"snapcheck: error: {exc}"], secrets)) + "\n")
        return EXIT_USAGE
