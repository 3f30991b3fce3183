# SPDX-License-Identifier: AGPL-3.0-or-later
"""Encryption at rest of identifiers, and the seal of exported chains.

One secret (`CRENEAU_EVIDENCE_KEY`, or a random one kept in `DATA_DIR/evidence_key`) gives two keys by
HKDF-SHA256: one for AES-256-GCM encryption of identifiers (numéro étranger, letter texts), one for the
HMAC-SHA256 seal of exported chains. Values are stored as `enc1:<kid>:<base64url(nonce ‖ ciphertext)>`,
where `kid` names the secret (the first 8 hex digits of its SHA-256) and the column name is the
associated data, so a value copied into another column does not decrypt.

Rotation: put the new secret in `CRENEAU_EVIDENCE_KEY` and the old one in `CRENEAU_EVIDENCE_OLD_KEYS`,
run `creneau keys rotate` (re-encrypts every value with the new key), then drop the old key. Seals made
with an old key are still checked while that key is listed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

if TYPE_CHECKING:
    from creneau.config import Settings

PREFIX = "enc1"
SEAL_ALG = "HMAC-SHA256"


class CryptoError(Exception):
    """A value cannot be decrypted: unknown key (not in the keyring) or altered ciphertext."""


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"creneau-evidence", info=purpose).derive(secret)


@dataclass(frozen=True, slots=True)
class _Key:
    kid: str
    enc: AESGCM
    seal: bytes


def _key(secret: str) -> _Key:
    raw = secret.encode()
    kid = hashlib.sha256(raw).hexdigest()[:8]
    return _Key(kid, AESGCM(_derive(raw, b"encrypt")), _derive(raw, b"seal"))


class Keyring:
    """The current key (encrypts, seals) and older ones (decrypt, check seals) until rotation is done."""

    def __init__(self, current: str, old: Sequence[str] = ()) -> None:
        if not current:
            raise ValueError("the evidence key must not be empty")
        self._current = _key(current)
        self._by_kid = {k.kid: k for k in (_key(s) for s in old if s)}
        self._by_kid[self._current.kid] = self._current

    @property
    def kid(self) -> str:
        return self._current.kid

    def encrypt(self, plaintext: str, context: str) -> str:
        """Encrypt `plaintext` for the column `context`; the empty string stays empty (nothing to hide)."""
        if not plaintext:
            return ""
        nonce = secrets.token_bytes(12)
        sealed = self._current.enc.encrypt(nonce, plaintext.encode(), context.encode())
        return f"{PREFIX}:{self._current.kid}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, context: str) -> str:
        """The plaintext of `token`; raises `CryptoError` for an unknown key or an altered value."""
        if not token:
            return ""
        prefix, _, rest = token.partition(":")
        kid, _, data = rest.partition(":")
        if prefix != PREFIX or not data:
            raise CryptoError("not an encrypted value")
        key = self._by_kid.get(kid)
        if key is None:
            raise CryptoError(f"value encrypted with key {kid}, which is not configured (CRENEAU_EVIDENCE_OLD_KEYS)")
        blob = base64.urlsafe_b64decode(data.encode())
        try:
            return key.enc.decrypt(blob[:12], blob[12:], context.encode()).decode()
        except InvalidTag:
            raise CryptoError("encrypted value was altered or belongs to another field") from None

    def needs_rotation(self, token: str) -> bool:
        return bool(token) and not token.startswith(f"{PREFIX}:{self._current.kid}:")

    def seal(self, data: bytes) -> dict[str, str]:
        mac = hmac.new(self._current.seal, data, hashlib.sha256).hexdigest()
        return {"alg": SEAL_ALG, "kid": self._current.kid, "mac": mac}

    def check_seal(self, data: bytes, seal: dict[str, str]) -> bool | None:
        """True/False when the seal's key is known, None when it is not (cannot tell)."""
        key = self._by_kid.get(seal.get("kid", ""))
        if key is None or seal.get("alg") != SEAL_ALG:
            return None
        expected = hmac.new(key.seal, data, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, seal.get("mac", ""))


def key_file(data_dir: Path) -> Path:
    return data_dir / "evidence_key"


def load_keyring(settings: Settings) -> Keyring:
    """The keyring from the settings; without `CRENEAU_EVIDENCE_KEY`, a random key generated once and kept
    with mode 0600 in `DATA_DIR/evidence_key` (call at start-up: it may touch the file system)."""
    configured = settings.evidence_key.get_secret_value()
    old = [k.get_secret_value() for k in settings.evidence_old_keys]
    if configured:
        return Keyring(configured, old)
    path = key_file(settings.data_dir)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
    return Keyring(path.read_text().strip(), old)
