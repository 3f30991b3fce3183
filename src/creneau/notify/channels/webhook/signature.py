# SPDX-License-Identifier: AGPL-3.0-or-later
"""Webhook signatures: `X-Creneau-Signature: sha256=<hex>` over `<timestamp>.<raw body>`.

The timestamp (`X-Creneau-Timestamp`, Unix seconds) is inside the signed bytes, so a captured request
cannot be replayed later with a fresh timestamp; receivers refuse timestamps older than a few minutes and
drop repeated `Idempotency-Key`s. Receivers must verify over the raw body bytes, before any JSON parsing.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Creneau-Signature"
TIMESTAMP_HEADER = "X-Creneau-Timestamp"
TOLERANCE_S = 300


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The signature header value for `body` sent at `timestamp`."""
    digest = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(
    secret: bytes,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    *,
    now: float,
    tolerance_s: float = TOLERANCE_S,
) -> bool:
    """True when `signature` signs `body` at `timestamp` and the timestamp is within `tolerance_s` of `now`."""
    if not timestamp or not signature or not timestamp.isdigit():
        return False
    if abs(now - int(timestamp)) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature.strip())
