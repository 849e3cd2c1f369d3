"""The JSON envelope of the intercom HTTP API and its error codes.

Strategy: every JSON reply the reference device sends is rendered here, from data:
``{"success": true, "result": {...}}`` or
``{"success": false, "error": {"code": N, "param": "...", "description": "..."}}``
where ``param`` appears only when a parameter is at fault (API-FACTS.md, "Envelope").
The error codes and their descriptions are one table. Nothing here knows about HTTP
status codes, sockets or aiohttp: the server turns these bytes into a reply (always
HTTP 200, ``Content-Type: application/json``).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass

CONTENT_TYPE = "application/json"


class ErrorCode(enum.IntEnum):
    """The API's error codes (there is no code 6)."""

    FUNCTION_NOT_SUPPORTED = 1
    INVALID_PATH = 2
    INVALID_METHOD = 3
    FUNCTION_DISABLED = 4
    LICENCE_REQUIRED = 5
    INVALID_CONNECTION_TYPE = 7
    INVALID_AUTHENTICATION_METHOD = 8
    AUTHORISATION_REQUIRED = 9
    INSUFFICIENT_PRIVILEGES = 10
    MISSING_PARAMETER = 11
    INVALID_PARAMETER = 12
    PARAMETER_TOO_BIG = 13
    PROCESSING_ERROR = 14
    NO_DATA = 15
    PARAMETER_COLLISION = 17
    REJECTED = 18
    FILE_VERSION_UNSUPPORTED = 19


# The descriptions as the manual words them; a reply uses these unless it says more.
DESCRIPTIONS: Mapping[ErrorCode, str] = {
    ErrorCode.FUNCTION_NOT_SUPPORTED: "function is not supported",
    ErrorCode.INVALID_PATH: "invalid request path",
    ErrorCode.INVALID_METHOD: "invalid request method",
    ErrorCode.FUNCTION_DISABLED: "function is disabled",
    ErrorCode.LICENCE_REQUIRED: "function requires a licence",
    ErrorCode.INVALID_CONNECTION_TYPE: "invalid connection type",
    ErrorCode.INVALID_AUTHENTICATION_METHOD: "invalid authentication method",
    ErrorCode.AUTHORISATION_REQUIRED: "authorisation required",
    ErrorCode.INSUFFICIENT_PRIVILEGES: "insufficient user privileges",
    ErrorCode.MISSING_PARAMETER: "missing mandatory parameter",
    ErrorCode.INVALID_PARAMETER: "invalid parameter value",
    ErrorCode.PARAMETER_TOO_BIG: "parameter data too big",
    ErrorCode.PROCESSING_ERROR: "unspecified processing error",
    ErrorCode.NO_DATA: "no data available",
    ErrorCode.PARAMETER_COLLISION: "parameter collision",
    ErrorCode.REJECTED: "request rejected",
    ErrorCode.FILE_VERSION_UNSUPPORTED: "file version unsupported",
}


@dataclass(frozen=True, slots=True)
class ApiError:
    """One error reply: its code, the parameter at fault (if any) and a description."""

    code: ErrorCode
    param: str | None = None
    description: str | None = None

    @property
    def text(self) -> str:
        """The description sent: the specific one when given, else the code's own."""
        return self.description if self.description is not None else DESCRIPTIONS[self.code]


def render_error(error: ApiError) -> bytes:
    """The JSON body of an error reply; ``param`` only when a parameter is at fault."""
    body: dict[str, object] = {"code": int(error.code)}
    if error.param is not None:
        body["param"] = error.param
    body["description"] = error.text
    return _dump({"success": False, "error": body})


def render_success(result: Mapping[str, object] | None = None) -> bytes:
    """The JSON body of a success reply; the ``result`` member is omitted when None."""
    envelope: dict[str, object] = {"success": True}
    if result is not None:
        envelope["result"] = dict(result)
    return _dump(envelope)


def _dump(value: Mapping[str, object]) -> bytes:
    # ensure_ascii keeps the body pure ASCII whatever a profile's strings contain.
    return json.dumps(value, ensure_ascii=True).encode("ascii")
