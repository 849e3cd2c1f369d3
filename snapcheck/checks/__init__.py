"""Wire checks: pure functions from a normalised ``Reply`` (plus the expectation it needs,
as plain arguments) to findings, one per clause evaluated, PASS included.

Strategy: a check never imports an HTTP client and never raises for a device's fault;
``raise_on_failure`` turns findings into a ``DeviceFailure`` where a test wants an
assertion. Submodules: ``jpeg_reply`` (one image), ``json_reply`` (envelope, errors),
``caps_reply`` (caps), ``stream_reply`` (multipart streams), ``framing`` (what the
multipart parser meets), ``access_reply`` (refusals of access control),
``clause_ids`` (the IDs cited). This package imports none of its submodules, so that
the parser can use ``framing`` without loading image decoding.
"""
