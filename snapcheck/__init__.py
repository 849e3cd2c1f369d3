"""snapcheck: conformance suite and protocol validator for the intercom camera snapshot API."""

from __future__ import annotations

__version__ = "0.1.0"
