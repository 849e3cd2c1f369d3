"""Root conftest: wires the snapcheck plugin into every pytest run of this repository.

``pytest`` alone runs the conformance suite (suites/) against the bundled reference
device; ``pytest --device http://ADDRESS --user U`` runs it against a real intercom.
"""

from __future__ import annotations

pytest_plugins = ["snapcheck.plugin"]
