"""Tests of the reproducing curl line: exact commands, masked credentials, and that the
shell reads each line back into the arguments intended."""

from __future__ import annotations

import shlex

import pytest

from snapcheck.curl import curl_for
from snapcheck.exchange import Request

DEVICE = "http://10.0.0.5"
SNAPSHOT = "/api/camera/snapshot"


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        (Request("GET", DEVICE, "/api/camera/caps"),
         "curl -sS -D - http://10.0.0.5/api/camera/caps"),
        (Request("GET", DEVICE, SNAPSHOT, params=(("width", "640"), ("height", "480"))),
         "curl -sS -D - --output snapshot.jpg 'http://10.0.0.5/api/camera/snapshot?width=640&height=480'"),
        (Request("GET", "https://10.0.0.5:8443", SNAPSHOT, params=(("width", "640"), ("fps", "5")),
                 user="admin", auth_method="digest", timeout_s=10),
         "curl -sS -D - --digest -u 'admin:****' -k --max-time 10 -N --output stream.mjpeg"
         " 'https://10.0.0.5:8443/api/camera/snapshot?width=640&fps=5'"),
        (Request("GET", DEVICE, SNAPSHOT, params=(("fps", "5"), ("time", "-3"))),
         "curl -sS -D - --output snapshot.jpg 'http://10.0.0.5/api/camera/snapshot?fps=5&time=-3'"),
        (Request("GET", DEVICE, SNAPSHOT, params=(("fps", "0.5"),)),
         "curl -sS -D - --output snapshot.jpg 'http://10.0.0.5/api/camera/snapshot?fps=0.5'"),
        (Request("POST", DEVICE, SNAPSHOT, form=(("width", "640"), ("height", "4 80"))),
         "curl -sS -D - --data-raw 'width=640&height=4+80' --output snapshot.jpg"
         " http://10.0.0.5/api/camera/snapshot"),
        (Request("POST", DEVICE, "/api/camera/caps", user="u", auth_method="basic"),
         "curl -sS -D - -X POST --basic -u 'u:****' http://10.0.0.5/api/camera/caps"),
        (Request("PUT", DEVICE, "/api/camera/caps", user="u", auth_method="auto"),
         "curl -sS -D - -X PUT --anyauth -u 'u:****' http://10.0.0.5/api/camera/caps"),
        (Request("HEAD", DEVICE, "/api/system/info"),
         "curl -sS -D - --head http://10.0.0.5/api/system/info"),
        (Request("GET", DEVICE, SNAPSHOT, raw_query="width=640&width=320&x=[1]&y=%ZZ"),
         "curl -sS -D - --globoff --output snapshot.jpg"
         " 'http://10.0.0.5/api/camera/snapshot?width=640&width=320&x=[1]&y=%ZZ'"),
        (Request("GET", DEVICE, "/api/../api/camera/caps"),
         "curl -sS -D - --path-as-is http://10.0.0.5/api/../api/camera/caps"),
        (Request("GET", DEVICE, "/api/camera/caps",
                 headers=(("Authorization", "Basic YWRtaW46c2VjcmV0"), ("Content-Length", "0"),
                          ("X-Probe", "it's"))),
         "curl -sS -D - -H 'Authorization: Basic ****' -H 'X-Probe: it'\"'\"'s'"
         " http://10.0.0.5/api/camera/caps"),
    ],
    ids=["caps", "snapshot", "digest stream over https", "time makes one frame", "fps below 1",
         "form body", "basic post", "other method", "head", "odd query", "dot segments",
         "headers masked"],
)  # fmt: skip
def test_each_request_becomes_one_exact_command(sent: Request, expected: str) -> None:
    assert curl_for(sent) == expected


def test_no_credential_survives_and_the_mask_can_be_chosen() -> None:
    sent = Request(
        "GET",
        DEVICE,
        "/api/camera/caps",
        user="admin",
        auth_method="digest",
        headers=(("Authorization", 'Digest username="admin", response="9f86d0"'),),
    )
    line = curl_for(sent, password_mask="<password>")
    assert "9f86d0" not in line and "Authorization" not in line
    assert "--digest -u 'admin:<password>'" in line


def test_the_shell_reads_the_line_back_into_the_request() -> None:
    sent = Request("GET", DEVICE, SNAPSHOT, raw_query="width=640&height=480;rm -rf ~&x=$(id)")
    argv = shlex.split(curl_for(sent))
    assert argv[0] == "curl" and argv[-1] == sent.url
