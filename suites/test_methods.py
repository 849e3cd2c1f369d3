"""Methods: GET and POST serve the snapshot; a form body SHOULD; other methods SHOULD error 3.

Strategy: each request is built on the smallest advertised pair (the cheapest snapshot)
and judged by the expected-outcome model, which knows the method rows of the decision
table: GET and POST with parameters in the query MUST serve (SNAP-METHOD-1), POST with a
form body SHOULD (SNAP-METHOD-2, a mismatch is NON-STRICT), PUT, DELETE and PATCH SHOULD
answer error 3 (SNAP-METHOD-3), HEAD and OPTIONS are recorded (SNAP-METHOD-4). Caps
answers GET and POST (test_caps.py) and SHOULD refuse other methods (CAPS-METHOD-2).
What never belongs here: the parameters themselves (test_parameters.py).
"""

from __future__ import annotations

import pytest

from snapcheck.device import DeviceUnderTest
from snapcheck.expected import Caps
from snapcheck.judge import CAPS_PATH
from snapcheck.strategies import Params, smallest_pair


def served(caps: Caps) -> Params:
    """A request every device serves: the smallest pair, the default source."""
    width, height = smallest_pair(caps)
    return [("width", str(width)), ("height", str(height))]


def refused(caps: Caps) -> Params:
    """A request every device refuses: height without width (error 11 naming width)."""
    return served(caps)[1:]


REQUESTS = {"served": served, "refused": refused}


@pytest.mark.quick
@pytest.mark.clause("SNAP-METHOD-1", "CAPS-PAIR-1", "SNAP-WH-3")
@pytest.mark.parametrize("kind", list(REQUESTS))
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_get_and_post_with_parameters_in_the_query(
    device: DeviceUnderTest, method: str, kind: str
) -> None:
    device.expect(REQUESTS[kind](device.caps), method=method)


@pytest.mark.clause("SNAP-METHOD-2", "CAPS-PAIR-1", "SNAP-WH-3")
@pytest.mark.parametrize("kind", list(REQUESTS))
def test_post_with_a_form_body(device: DeviceUnderTest, kind: str) -> None:
    device.expect(method="POST", form=REQUESTS[kind](device.caps))


@pytest.mark.clause("SNAP-METHOD-2", "CAPS-PAIR-1")
def test_post_with_parameters_split_between_query_and_form_body(device: DeviceUnderTest) -> None:
    width, height = served(device.caps)
    device.expect([width], method="POST", form=[height])


@pytest.mark.quick
@pytest.mark.clause("SNAP-METHOD-3", "ENV-JSON-1", "ENV-CODE-1")
@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_are_refused(device: DeviceUnderTest, method: str) -> None:
    device.expect(served(device.caps), method=method)


@pytest.mark.clause("SNAP-METHOD-4")
@pytest.mark.parametrize("method", ["HEAD", "OPTIONS"])
def test_head_and_options_are_recorded(device: DeviceUnderTest, method: str) -> None:
    device.expect(served(device.caps), method=method)


@pytest.mark.clause("CAPS-METHOD-2", "ENV-JSON-1", "ENV-PARAM-1")
@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_caps_refuses_other_methods(device: DeviceUnderTest, method: str) -> None:
    device.expect(method=method, path=CAPS_PATH)
