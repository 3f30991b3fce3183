# SPDX-License-Identifier: AGPL-3.0-or-later
"""VAPID (RFC 8292): the application server's P-256 key pair, and the signed JWT each push request carries.

The key is `CRENEAU_WEBPUSH_VAPID_KEY` when set (PEM, or the raw 32-byte private scalar in base64url), else
it is generated on first use and kept in `DATA_DIR/vapid_private.pem` (mode 0600). The web app hands the
public half to browsers when they subscribe; a push signed with another key is refused by the push service,
so every web and sender process must share it (set the variable when they run on several machines).
File access is blocking: call `load_or_create` in a thread.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from creneau.config import Settings
from creneau.notify.channels.webpush.config import b64url, b64url_decode

KEY_FILE = "vapid_private.pem"
JWT_TTL_S = 12 * 3600  # RFC 8292 allows at most 24 h


@dataclass(frozen=True, slots=True)
class VapidKey:
    private_key: ec.EllipticCurvePrivateKey

    @property
    def public_key(self) -> str:
        """The application server key browsers subscribe with (uncompressed point, base64url)."""
        raw = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(raw)

    def authorization(self, endpoint: str, *, subject: str, now_s: float) -> str:
        """The `Authorization: vapid t=…, k=…` header value for one push to `endpoint`."""
        parts = urlsplit(endpoint)
        claims = {"aud": f"{parts.scheme}://{parts.netloc}", "exp": int(now_s) + JWT_TTL_S, "sub": subject}
        signing_input = f"{_segment({'typ': 'JWT', 'alg': 'ES256'})}.{_segment(claims)}"
        r, s = decode_dss_signature(self.private_key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        signature = b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
        return f"vapid t={signing_input}.{signature}, k={self.public_key}"


def _segment(data: dict[str, object]) -> str:
    return b64url(json.dumps(data, separators=(",", ":")).encode())


def verify_authorization(header: str, *, audience: str, now_s: float) -> dict[str, object] | None:
    """The JWT claims when `header` is a valid VAPID authorization for `audience`, else None (push services
    and the fake push service check this; also handy to debug a subscription)."""
    fields = dict(item.strip().split("=", 1) for item in header.removeprefix("vapid ").split(",") if "=" in item)
    token, key = fields.get("t", ""), fields.get("k", "")
    try:
        head, body, signature = token.split(".")
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(key))
        raw = b64url_decode(signature)
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        public.verify(der, f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256()))
        claims: dict[str, object] = json.loads(b64url_decode(body))
    except (ValueError, TypeError, InvalidSignature):
        return None
    expires = claims.get("exp")
    if claims.get("aud") != audience or not isinstance(expires, int) or not now_s < expires <= now_s + 86_400:
        return None
    return claims


def subject(settings: Settings) -> str:
    """The `sub` claim: how the push service reaches the operator (a mailto: or https: URL)."""
    contact = settings.operator_contact.strip()
    if contact.startswith(("mailto:", "https:")):
        return contact
    return f"mailto:{contact}" if "@" in contact else "mailto:admin@localhost"


def parse_private_key(text: str) -> ec.EllipticCurvePrivateKey:
    """A P-256 private key from PEM or from its raw 32-byte scalar in base64url; raises ValueError."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(text.encode(), password=None)
    else:
        key = ec.derive_private_key(int.from_bytes(b64url_decode(text), "big"), ec.SECP256R1())
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("the VAPID key must be a P-256 (prime256v1) private key")
    return key


def load_or_create(settings: Settings) -> VapidKey:
    """The instance's VAPID key (see the module docstring); raises ValueError for an unreadable one."""
    configured = settings.webpush_vapid_key.get_secret_value()
    if configured:
        return VapidKey(parse_private_key(configured))
    path = settings.data_dir / KEY_FILE
    if not path.exists():
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first: use theirs
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
            return VapidKey(key)
    return VapidKey(parse_private_key(path.read_text(encoding="ascii")))
