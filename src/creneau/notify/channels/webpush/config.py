# SPDX-License-Identifier: AGPL-3.0-or-later
"""A web push destination: the browser's `PushSubscription` (endpoint URL and its two keys).

The endpoint is a capability URL (whoever knows it can push to that browser), so logs show only its host.
`p256dh` is the browser's P-256 public key (65 bytes, uncompressed) and `auth` its 16-byte secret, both
base64url as `PushSubscription.toJSON()` gives them; they are checked here so a bad subscription is refused
when it is saved, not at the first alert.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import Field, SecretStr, field_validator

from creneau.notify.base import DestinationConfig


def b64url_decode(value: str) -> bytes:
    """Decode base64url with or without padding; raises ValueError."""
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class WebPushConfig(DestinationConfig):
    endpoint: str = Field(description="The push service URL of one browser subscription.")
    p256dh: str = Field(description="The browser's P-256 public key, base64url (65 bytes uncompressed).")
    auth: SecretStr = Field(description="The subscription's 16-byte authentication secret, base64url.")

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        if len(value) > 2048 or any(c.isspace() for c in value):
            raise ValueError("invalid push endpoint: too long or contains spaces")
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
            raise ValueError("invalid push endpoint: expected https://host/path without credentials")
        return value

    @field_validator("p256dh")
    @classmethod
    def _p256dh(cls, value: str) -> str:
        raw = b64url_decode(value)
        if len(raw) != 65 or raw[0] != 4:
            raise ValueError("invalid push key: expected an uncompressed P-256 point (65 bytes)")
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
        except ValueError:
            raise ValueError("invalid push key: not a point of P-256") from None
        return value

    @field_validator("auth")
    @classmethod
    def _auth(cls, value: SecretStr) -> SecretStr:
        if len(b64url_decode(value.get_secret_value())) != 16:
            raise ValueError("invalid push auth secret: expected 16 bytes")
        return value

    @property
    def host(self) -> str:
        return urlsplit(self.endpoint).hostname or ""

    def destination_key(self) -> str:
        return f"webpush:{self.host}/{hashlib.sha256(self.endpoint.encode()).hexdigest()[:12]}"

    def redacted(self) -> str:
        return f"push via {self.host}"
