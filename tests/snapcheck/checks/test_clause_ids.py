"""Every clause ID the wire checks cite is defined in the catalogue."""

from __future__ import annotations

from snapcheck.checks import clause_ids
from snapcheck.clauses import load_catalogue


def test_every_cited_clause_is_in_the_catalogue() -> None:
    cited = {value for name, value in vars(clause_ids).items() if name.isupper()}
    assert cited and cited <= set(load_catalogue().ids)
