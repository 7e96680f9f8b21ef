"""Signed payment-provider callbacks, verified the way Stripe's are.

Header: `X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`.
Several `v1` values may be present and several secrets configured, so secrets can
be rotated without a window in which valid callbacks are refused.
"""

import hashlib
import hmac
import time
from collections.abc import Sequence

from services.exceptions import InvalidRequest

SIGNATURE_HEADER = "X-Signature"
SCHEME = "v1"


class InvalidSignature(InvalidRequest):
    code = "invalid_signature"
    message = "The signature does not match the body."


class SignatureMissing(InvalidSignature):
    code = "signature_missing"
    message = f"The {SIGNATURE_HEADER} header is missing."


class SignatureMalformed(InvalidSignature):
    code = "signature_malformed"
    message = f"The {SIGNATURE_HEADER} header must look like t=<unix seconds>,v1=<hex digest>."


class TimestampOutOfTolerance(InvalidSignature):
    code = "timestamp_out_of_tolerance"
    message = "The signature's timestamp is too far from now (replayed or clock skew)."


def compute_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign(*, secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value a provider would send for `body` (for simulations and tests)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},{SCHEME}={compute_signature(secret=secret, timestamp=timestamp, body=body)}"


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            raise SignatureMalformed(field=SIGNATURE_HEADER)
        if key == "t":
            if not value.isdigit() or timestamp is not None:
                raise SignatureMalformed(field=SIGNATURE_HEADER)
            timestamp = int(value)
        elif key == SCHEME:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureMalformed(field=SIGNATURE_HEADER)
    return timestamp, signatures


def verify(
    *, header: str | None, body: bytes, secrets: Sequence[str], tolerance: int, now: float | None = None
) -> None:
    """Raise an InvalidSignature unless one `v1` signature of `body` matches one of `secrets`
    and the timestamp is within `tolerance` seconds of now (either way)."""
    if not header:
        raise SignatureMissing(field=SIGNATURE_HEADER)
    timestamp, signatures = _parse(header)
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise TimestampOutOfTolerance(field=SIGNATURE_HEADER)
    expected = [compute_signature(secret=secret, timestamp=timestamp, body=body) for secret in secrets]
    # compare_digest in every combination: no early exit that leaks which one matched.
    matches = [hmac.compare_digest(e, s) for e in expected for s in signatures]
    if not any(matches):
        raise InvalidSignature(field=SIGNATURE_HEADER)
