"""``python -m snapcheck``: the same command line as the ``snapcheck`` console script."""

from __future__ import annotations

import sys

from snapcheck.cli import main

if __name__ == "__main__":
    sys.exit(main())
