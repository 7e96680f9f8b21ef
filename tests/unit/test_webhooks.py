import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.webhooks import (
    InvalidSignature,
    SignatureMalformed,
    SignatureMissing,
    TimestampOutOfTolerance,
    compute_signature,
    sign,
    verify,
)

SECRET = "whsec_current"
BODY = b'{"event_id":"evt_1","status":"succeeded","amount":"10.00"}'
NOW = 1_800_000_000


def check(header: str | None, body: bytes = BODY, secrets=(SECRET,), now: float = NOW) -> None:
    verify(header=header, body=body, secrets=list(secrets), tolerance=300, now=now)


def test_a_valid_signature_verifies():
    check(sign(secret=SECRET, body=BODY, timestamp=NOW))


def test_a_tampered_body_fails():
    header = sign(secret=SECRET, body=BODY, timestamp=NOW)
    with pytest.raises(InvalidSignature) as caught:
        check(header, body=BODY.replace(b"10.00", b"1.00"))
    assert caught.value.code == "invalid_signature"


def test_a_tampered_timestamp_fails():
    signature = compute_signature(secret=SECRET, timestamp=NOW, body=BODY)
    with pytest.raises(InvalidSignature):
        check(f"t={NOW + 1},v1={signature}")


@pytest.mark.parametrize("offset", [-301, 301, -86_400, 86_400])
def test_stale_and_future_timestamps_fail(offset):
    header = sign(secret=SECRET, body=BODY, timestamp=NOW + offset)
    with pytest.raises(TimestampOutOfTolerance):
        check(header)


@pytest.mark.parametrize("offset", [-300, 0, 300])
def test_timestamps_within_tolerance_pass(offset):
    check(sign(secret=SECRET, body=BODY, timestamp=NOW + offset))


def test_the_wrong_secret_fails():
    with pytest.raises(InvalidSignature):
        check(sign(secret="whsec_attacker", body=BODY, timestamp=NOW))


def test_rotated_secrets_both_verify():
    old, new = "whsec_old", "whsec_new"
    check(sign(secret=old, body=BODY, timestamp=NOW), secrets=(new, old))
    check(sign(secret=new, body=BODY, timestamp=NOW), secrets=(new, old))
    # during rotation the provider may send both signatures at once
    both = (
        f"t={NOW},v1={compute_signature(secret=new, timestamp=NOW, body=BODY)},"
        f"v1={compute_signature(secret=old, timestamp=NOW, body=BODY)}"
    )
    check(both, secrets=(new,))
    with pytest.raises(InvalidSignature):
        check(sign(secret=old, body=BODY, timestamp=NOW), secrets=(new,))


@pytest.mark.parametrize("header", [None, ""])
def test_a_missing_header_fails(header):
    with pytest.raises(SignatureMissing):
        check(header)


@pytest.mark.parametrize(
    "header",
    ["garbage", "t=abc,v1=00", f"t={NOW}", "v1=deadbeef", f"t={NOW},t={NOW},v1=00", f"t=-{NOW},v1=00", ",,,"],
)
def test_a_garbage_header_fails(header):
    with pytest.raises(SignatureMalformed):
        check(header)


def test_the_real_clock_is_used_by_default():
    verify(header=sign(secret=SECRET, body=BODY), body=BODY, secrets=[SECRET], tolerance=300)
    with pytest.raises(TimestampOutOfTolerance):
        verify(
            header=sign(secret=SECRET, body=BODY, timestamp=int(time.time()) - 3600),
            body=BODY,
            secrets=[SECRET],
            tolerance=300,
        )


@settings(max_examples=300, deadline=None)
@given(body=st.binary(min_size=1, max_size=200), position=st.integers(min_value=0), flip=st.integers(1, 255))
def test_no_mutation_of_a_signed_body_verifies(body, position, flip):
    header = sign(secret=SECRET, body=body, timestamp=NOW)
    index = position % len(body)
    mutated = body[:index] + bytes([body[index] ^ flip]) + body[index + 1 :]
    with pytest.raises(InvalidSignature):
        check(header, body=mutated)


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=200), extra=st.binary(min_size=1, max_size=20))
def test_no_extension_or_truncation_of_a_signed_body_verifies(body, extra):
    header = sign(secret=SECRET, body=body, timestamp=NOW)
    with pytest.raises(InvalidSignature):
        check(header, body=body + extra)
    if body:
        with pytest.raises(InvalidSignature):
            check(header, body=body[:-1])
