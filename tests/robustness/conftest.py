"""tests/robustness shares the scripted servers of tests/snapcheck and the suite runner of
tests/integration: their folders are put on the import path here, as pytest puts a test
module's own folder there."""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
for folder in (TESTS / "snapcheck", TESTS / "integration"):
    if str(folder) not in sys.path:
        sys.path.append(str(folder))
