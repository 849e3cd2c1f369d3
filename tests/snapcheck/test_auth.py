"""Tests of challenge parsing and the Basic/Digest answers, against the RFCs' own examples."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from snapcheck.auth import (
    BasicAuth,
    Challenge,
    Credentials,
    DigestAuth,
    answer_challenges,
    parse_challenges,
)

RFC7616_NONCE = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
RFC7616_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
RFC7616_OPAQUE = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"


def _challenge(header: str) -> Challenge:
    parsed = parse_challenges([header])
    assert parsed.notes == ()
    return parsed.challenges[0]


def _fields(authorization: str) -> dict[str, str]:
    assert authorization.startswith("Digest ")
    pairs = re.findall(r'(\w+)=("(?:[^"\\]|\\.)*"|[^,\s]+)', authorization[7:])
    return {key: value.strip('"') for key, value in pairs}


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_rfc7616_section_3_9_1_examples(algorithm: str, expected: str) -> None:
    challenge = _challenge(
        f'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm={algorithm},'
        f' nonce="{RFC7616_NONCE}", opaque="{RFC7616_OPAQUE}"'
    )
    digest = DigestAuth(
        "Mufasa", "Circle of Life", challenge, cnonce_factory=lambda: RFC7616_CNONCE
    )
    fields = _fields(digest.authorization("GET", "/dir/index.html"))
    assert fields["response"] == expected
    assert fields["nc"] == "00000001"
    assert fields["qop"] == "auth"
    assert fields["opaque"] == RFC7616_OPAQUE
    assert fields["algorithm"] == algorithm


def test_rfc2617_section_3_5_example() -> None:
    challenge = _challenge(
        'Digest realm="testrealm@host.com", qop="auth,auth-int",'
        ' nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    digest = DigestAuth("Mufasa", "Circle Of Life", challenge, cnonce_factory=lambda: "0a4f113b")
    fields = _fields(digest.authorization("GET", "/dir/index.html"))
    assert fields["response"] == "6629fae49393a05397450978507c4ef1"


def test_legacy_form_without_qop_omits_nc_and_cnonce() -> None:
    challenge = _challenge('Digest realm="r", nonce="n1"')
    fields = _fields(DigestAuth("u", "p", challenge).authorization("GET", "/x"))
    ha1, ha2 = _md5("u:r:p"), _md5("GET:/x")
    assert fields["response"] == _md5(f"{ha1}:n1:{ha2}")
    assert "nc" not in fields and "cnonce" not in fields and "qop" not in fields


@pytest.mark.parametrize(("algorithm", "name"), [("MD5-sess", "md5"), ("SHA-256-sess", "sha256")])
def test_session_algorithms_fold_the_cnonce_into_ha1(algorithm: str, name: str) -> None:
    challenge = _challenge(f'Digest realm="r", nonce="n", qop="auth", algorithm={algorithm}')
    digest = DigestAuth("u", "p", challenge, cnonce_factory=lambda: "c")
    fields = _fields(digest.authorization("POST", "/api"))

    def h(text: str) -> str:
        return hashlib.new(name, text.encode()).hexdigest()

    ha1 = h(f"{h('u:r:p')}:n:c")
    assert fields["response"] == h(f"{ha1}:n:00000001:c:auth:{h('POST:/api')}")
    assert fields["algorithm"] == algorithm.upper()


def test_auth_int_hashes_the_body() -> None:
    challenge = _challenge('Digest realm="r", nonce="n", qop="auth-int"')
    digest = DigestAuth("u", "p", challenge, cnonce_factory=lambda: "c")
    fields = _fields(digest.authorization("POST", "/api", body=b"a=1"))
    ha2 = _md5(f"POST:/api:{hashlib.md5(b'a=1').hexdigest()}")
    assert fields["qop"] == "auth-int"
    assert fields["response"] == _md5(f"{_md5('u:r:p')}:n:00000001:c:auth-int:{ha2}")


def test_userhash_sends_the_hashed_user_name() -> None:
    challenge = _challenge('Digest realm="r", nonce="n", qop="auth", userhash=true')
    fields = _fields(DigestAuth("u", "p", challenge).authorization("GET", "/"))
    assert fields["username"] == _md5("u:r")
    assert fields["userhash"] == "true"


def test_nonce_count_grows_per_nonce_and_restarts_with_a_new_nonce() -> None:
    digest = DigestAuth("u", "p", _challenge('Digest realm="r", nonce="a", qop="auth"'))
    counts = [_fields(digest.authorization("GET", "/"))["nc"] for _ in range(3)]
    assert counts == ["00000001", "00000002", "00000003"]
    digest.renew(_challenge('Digest realm="r", nonce="b", qop="auth", stale=true'))
    assert _fields(digest.authorization("GET", "/"))["nc"] == "00000001"


def test_an_explicit_nc_replays_a_count_without_advancing() -> None:
    digest = DigestAuth("u", "p", _challenge('Digest realm="r", nonce="a", qop="auth"'))
    first = _fields(digest.authorization("GET", "/"))
    replay = _fields(digest.authorization("GET", "/", nc=1))
    assert replay["nc"] == first["nc"] == "00000001"
    assert _fields(digest.authorization("GET", "/"))["nc"] == "00000002"


def test_cnonces_are_fresh_for_every_request() -> None:
    digest = DigestAuth("u", "p", _challenge('Digest realm="r", nonce="a", qop="auth"'))
    cnonces = {_fields(digest.authorization("GET", "/"))["cnonce"] for _ in range(5)}
    assert len(cnonces) == 5


def test_special_characters_in_the_user_name_are_escaped() -> None:
    challenge = _challenge('Digest realm="r", nonce="a"')
    header = DigestAuth('a"b\\c', "p", challenge).authorization("GET", "/")
    assert 'username="a\\"b\\\\c"' in header


def test_basic_encodes_user_and_password() -> None:
    header = BasicAuth("admin", "pa:ss").authorization("GET", "/")
    assert header == "Basic " + base64.b64encode(b"admin:pa:ss").decode()


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (['Basic realm="a"'], [("basic", (("realm", "a"),))]),
        (
            ['Digest realm="x, y", nonce="n", Basic realm="b"'],
            [("digest", (("realm", "x, y"), ("nonce", "n"))), ("basic", (("realm", "b"),))],
        ),
        (
            ['Basic realm="b"', 'Digest realm="d", nonce="n"'],
            [("basic", (("realm", "b"),)), ("digest", (("realm", "d"), ("nonce", "n")))],
        ),
        (
            ['Digest Realm = "q\\"uote" ,  NONCE=n'],
            [("digest", (("realm", 'q"uote'), ("nonce", "n")))],
        ),
        (["Negotiate abc=="], [("negotiate", ())]),
        ([",, Basic realm=a ,"], [("basic", (("realm", "a"),))]),
    ],
)
def test_challenges_are_split_and_unquoted(
    values: list[str], expected: list[tuple[str, tuple[tuple[str, str], ...]]]
) -> None:
    parsed = parse_challenges(values)
    assert [(c.scheme, c.params) for c in parsed.challenges] == expected
    assert parsed.notes == ()


def test_a_token68_is_kept() -> None:
    assert parse_challenges(["Negotiate abc=="]).challenges[0].token68 == "abc=="


@pytest.mark.parametrize(
    ("value", "note"),
    [
        ('Digest realm="unterminated', "unterminated quoted string"),
        ('realm="r", Basic', "comes before any scheme"),
        ("Digest realm=a b", "unreadable"),
        ("@@@", "neither a scheme nor a parameter"),
    ],
)
def test_malformed_challenges_become_notes(value: str, note: str) -> None:
    parsed = parse_challenges([value])
    assert any(note in text for text in parsed.notes), parsed.notes


@given(st.lists(st.text(max_size=80), max_size=3))
def test_the_parser_never_raises(values: list[str]) -> None:
    parsed = parse_challenges(values)
    assert all(c.scheme == c.scheme.lower() for c in parsed.challenges)


@pytest.mark.parametrize(
    ("method", "header", "expected"),
    [
        ("auto", 'Basic realm="r", Digest realm="r", nonce="n"', ("digest", "MD5")),
        (
            "auto",
            'Digest realm="r", nonce="n", Digest realm="r", nonce="n", algorithm=SHA-256',
            ("digest", "SHA-256"),
        ),
        ("auto", 'Basic realm="r"', ("basic", None)),
        ("digest", 'Basic realm="r", Digest realm="r", nonce="n"', ("digest", "MD5")),
        ("basic", 'Basic realm="r", Digest realm="r", nonce="n"', ("basic", None)),
    ],
)
def test_the_strongest_acceptable_challenge_is_answered(
    method: str, header: str, expected: tuple[str, str | None]
) -> None:
    auth, note = answer_challenges(parse_challenges([header]).challenges, "u", "p", method)
    assert note is None and auth is not None
    algorithm = auth.algorithm if isinstance(auth, DigestAuth) else None
    assert (auth.scheme, algorithm) == expected


@pytest.mark.parametrize(
    ("method", "header", "note"),
    [
        ("digest", 'Basic realm="r"', "cannot answer with digest: the device offered basic"),
        ("basic", 'Digest realm="r", nonce="n"', "the device offered digest"),
        ("auto", 'Digest realm="r", nonce="n", algorithm=SHA-1', "algorithm 'SHA-1' is not"),
        ("auto", 'Digest nonce="n"', "lacks realm or nonce"),
        ("auto", 'Digest realm="r", nonce="n", qop="auth-conf"', "offers neither auth nor"),
        ("auto", "", "no readable challenge"),
    ],
)
def test_unanswerable_challenges_say_why(method: str, header: str, note: str) -> None:
    auth, reason = answer_challenges(parse_challenges([header]).challenges, "u", "p", method)
    assert auth is None
    assert reason is not None and note in reason


def test_unknown_methods_are_our_error() -> None:
    with pytest.raises(ValueError, match="unknown auth method"):
        answer_challenges((), "u", "p", "kerberos")
    with pytest.raises(ValueError, match="basic, digest or auto"):
        Credentials("u", "p", "none")


def test_credentials_answer_then_renew_a_stale_nonce_then_give_up() -> None:
    credentials = Credentials("u", "p", "auto")
    assert credentials.header("GET", "/") is None
    retry, notes = credentials.answer(
        ['Digest realm="r", nonce="a", qop="auth"'], sent=False, answered=False
    )
    assert (retry, notes) == (True, ())
    assert credentials.digest is not None and credentials.digest.nonce == "a"
    stale = 'Digest realm="r", nonce="b", qop="auth", stale=true'
    assert credentials.answer([stale], sent=True, answered=True)[0] is True
    assert credentials.digest.nonce == "b"
    refused = credentials.answer(
        ['Digest realm="r", nonce="c", qop="auth"'], sent=True, answered=True
    )
    assert refused == (False, ())


def test_refused_basic_is_final_and_the_password_is_never_shown() -> None:
    credentials = Credentials("u", "secret", "basic")
    assert credentials.header("GET", "/") == BasicAuth("u", "secret").authorization("GET", "/")
    assert credentials.answer(['Basic realm="r"'], sent=True, answered=False) == (False, ())
    assert "secret" not in repr(credentials)


def test_a_cached_digest_answers_a_fresh_challenge_once() -> None:
    credentials = Credentials("u", "p", "digest")
    credentials.answer(['Digest realm="r", nonce="a"'], sent=False, answered=False)
    retry, _ = credentials.answer(['Digest realm="r", nonce="z"'], sent=True, answered=False)
    assert retry is True
    assert credentials.digest is not None and credentials.digest.nonce == "z"


def test_notes_from_a_malformed_challenge_are_returned() -> None:
    retry, notes = Credentials("u", "p", "auto").answer(
        ['Digest realm="x'], sent=False, answered=False
    )
    assert retry is False
    assert any("unterminated" in note for note in notes)
