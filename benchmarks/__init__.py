"""Benchmarks of the reference device and of the conformance suite (``benchmarks/run.py``).

Strategy: each target of issue 8 has its own module (``latency``, ``fanout``, ``memory``,
``timeshift``, ``suite``) that measures and returns a ``results.Section``; the shared
tools (``results``, ``wire``, ``procstat``, ``device_process``, ``profile_share``) know
nothing of any one target. Speed is judged here, never in tests.
"""
