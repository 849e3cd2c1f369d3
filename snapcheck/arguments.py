"""Argument types shared by the ``snapcheck`` commands (cli.py, killmatrix_cli.py)."""

from __future__ import annotations

import argparse
import math


def positive_number(text: str) -> float:
    """A finite number above 0, else argparse's usage error naming the text."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number: {text!r}")
    return value
