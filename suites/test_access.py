"""Access control: who may reach the Camera service, by which scheme, over which connection.

Each test runs one probe of ``snapcheck.access`` and records its findings. What a probe
needs and was not given (the suite's credentials, an unprivileged account, the device's
plain address) makes the test UNSUPPORTED with the reason; so does a device state that
makes the question meaningless (e.g. no authentication at all: then AUTH-NONE-1 and
AUTH-OPEN-1 are what is judged). See the AUTH-* decisions in snapcheck/clauses.toml.
"""

from __future__ import annotations

import pytest

from snapcheck import access, access_https
from snapcheck.access import AccessSurvey
from snapcheck.device import DeviceUnderTest


@pytest.fixture(scope="module")
def survey(device: DeviceUnderTest) -> AccessSurvey:
    """What caps without credentials says about the Camera service (asked once)."""
    return access.survey(device)


@pytest.mark.quick
@pytest.mark.clause("AUTH-OPEN-1")
def test_system_info_is_open_to_all(device: DeviceUnderTest) -> None:
    device.record(access.probe_info_open(device))


@pytest.mark.quick
@pytest.mark.clause("AUTH-NONE-1")
def test_without_authentication_anyone_is_served(
    device: DeviceUnderTest, survey: AccessSurvey
) -> None:
    device.record(access.probe_open_service(device, survey))


@pytest.mark.quick
@pytest.mark.clause("AUTH-CHALLENGE-1")
def test_no_credentials_are_challenged(device: DeviceUnderTest, survey: AccessSurvey) -> None:
    device.record(access.probe_no_credentials(device, survey))


@pytest.mark.clause("AUTH-ALGO-1")
def test_digest_algorithms_offered_are_recorded(
    device: DeviceUnderTest, survey: AccessSurvey
) -> None:
    device.record(access.probe_algorithms(device, survey))


@pytest.mark.clause("AUTH-WRONG-1")
def test_a_wrong_password_is_refused(device: DeviceUnderTest, survey: AccessSurvey) -> None:
    device.record(access.probe_wrong_password(device, survey))


@pytest.mark.clause("AUTH-WRONG-1")
def test_an_unknown_user_is_refused(device: DeviceUnderTest, survey: AccessSurvey) -> None:
    device.record(access.probe_unknown_user(device, survey))


@pytest.mark.clause("AUTH-DOWNGRADE-1")
def test_basic_to_a_digest_only_service_is_refused(
    device: DeviceUnderTest, survey: AccessSurvey
) -> None:
    device.record(access.probe_downgrade(device, survey))


@pytest.mark.clause("AUTH-PRIV-1")
def test_an_account_without_camera_monitoring_gets_error_10(
    device: DeviceUnderTest, survey: AccessSurvey
) -> None:
    device.record(access.probe_unprivileged(device, survey))


@pytest.mark.clause("AUTH-URL-1")
def test_credentials_in_the_url_are_basic_and_never_query_parameters(
    device: DeviceUnderTest, survey: AccessSurvey
) -> None:
    device.record(access.probe_url_credentials(device, survey))


@pytest.mark.clause("AUTH-REPLAY-1")
def test_digest_answers_cannot_be_replayed_forged_or_retargeted(
    device: DeviceUnderTest, survey: AccessSurvey
) -> None:
    device.record(access.probe_replay(device, survey))


@pytest.mark.quick
@pytest.mark.clause("AUTH-GUARD-1")
def test_no_image_is_reachable_without_valid_credentials(
    device: DeviceUnderTest, survey: AccessSurvey
) -> None:
    device.record(access.probe_guard(device, survey))


@pytest.mark.clause("AUTH-DISABLED-1")
def test_a_disabled_service_answers_error_4(device: DeviceUnderTest, survey: AccessSurvey) -> None:
    device.record(access.probe_disabled(device, survey))


@pytest.mark.clause("AUTH-TLS-1")
def test_the_https_certificate_is_recorded(device: DeviceUnderTest) -> None:
    device.record(access_https.probe_certificate(device))


@pytest.mark.clause("AUTH-HTTPS-1")
def test_plain_http_to_an_https_only_service_is_error_7(
    device: DeviceUnderTest, survey: AccessSurvey
) -> None:
    device.record(access_https.probe_plain_refused(device, survey))


@pytest.mark.clause("AUTH-HTTPS-2")
def test_the_connection_type_is_http_or_https(
    device: DeviceUnderTest, survey: AccessSurvey
) -> None:
    device.record(access_https.probe_connection_type(device, survey))
