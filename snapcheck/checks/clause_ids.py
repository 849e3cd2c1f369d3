"""The clause IDs the wire checks cite, each written once.

Strategy: constants only. The catalogue (``snapcheck/clauses.toml``) defines what each
ID requires, its level and the clients a violation breaks; code refers to an ID through
these names so that a typo is a NameError, not a silently unknown clause.
"""

from __future__ import annotations

from typing import Final

ENV_JSON_1: Final = "ENV-JSON-1"
ENV_SCHEMA_1: Final = "ENV-SCHEMA-1"
ENV_SCHEMA_2: Final = "ENV-SCHEMA-2"
ENV_SYNTAX_1: Final = "ENV-SYNTAX-1"
ENV_STATUS_1: Final = "ENV-STATUS-1"
ENV_CODE_1: Final = "ENV-CODE-1"
ENV_PARAM_1: Final = "ENV-PARAM-1"

CAPS_SCHEMA_1: Final = "CAPS-SCHEMA-1"
CAPS_DUP_1: Final = "CAPS-DUP-1"
CAPS_ORDER_1: Final = "CAPS-ORDER-1"

JPEG_CT_1: Final = "JPEG-CT-1"
JPEG_SOI_1: Final = "JPEG-SOI-1"
JPEG_EOI_1: Final = "JPEG-EOI-1"
JPEG_DECODE_1: Final = "JPEG-DECODE-1"
JPEG_SIZE_1: Final = "JPEG-SIZE-1"
JPEG_CL_1: Final = "JPEG-CL-1"
JPEG_TRAIL_1: Final = "JPEG-TRAIL-1"
JPEG_FORMAT_1: Final = "JPEG-FORMAT-1"

STREAM_CT_1: Final = "STREAM-CT-1"
STREAM_BOUNDARY_1: Final = "STREAM-BOUNDARY-1"
STREAM_BOUNDARY_2: Final = "STREAM-BOUNDARY-2"
STREAM_LEAD_1: Final = "STREAM-LEAD-1"
STREAM_PART_CT_1: Final = "STREAM-PART-CT-1"
STREAM_PART_CL_1: Final = "STREAM-PART-CL-1"
STREAM_PART_CL_2: Final = "STREAM-PART-CL-2"
STREAM_PART_JPEG_1: Final = "STREAM-PART-JPEG-1"
STREAM_FRAMING_1: Final = "STREAM-FRAMING-1"
STREAM_LIVE_1: Final = "STREAM-LIVE-1"
STREAM_RATE_1: Final = "STREAM-RATE-1"
STREAM_RATE_2: Final = "STREAM-RATE-2"
STREAM_RATE_3: Final = "STREAM-RATE-3"
STREAM_FRESH_1: Final = "STREAM-FRESH-1"
STREAM_END_1: Final = "STREAM-END-1"

INFO_SCHEMA_1: Final = "INFO-SCHEMA-1"
