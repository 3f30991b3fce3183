# SPDX-License-Identifier: AGPL-3.0-or-later
"""Which links an alert may carry, and the signed token of one-click unsubscribe links.

An alert links only to an official booking site: the catalogue's allowlist (`catalog.official`: `https://`
on `gouv.fr` or one of its subdomains, strict about lookalikes) decides, and a message refuses to exist
with any other link.
"""

from __future__ import annotations

import hashlib
import hmac

from creneau.catalog.official import is_official_url

__all__ = ["UnofficialLinkError", "check_unsubscribe_token", "is_official_url", "require_official", "unsubscribe_token"]


class UnofficialLinkError(ValueError):
    """An alert was about to link somewhere other than an official booking site."""


def require_official(url: str) -> str:
    """Return `url` unchanged, or raise `UnofficialLinkError` when it is not an official link."""
    if not is_official_url(url):
        raise UnofficialLinkError(f"not an official booking link (gouv.fr only): {url!r}")
    return url


def unsubscribe_token(secret: bytes, channel_id: str) -> str:
    """The token of the one-click unsubscribe link of one channel (HMAC-SHA256, 32 hex chars)."""
    return hmac.new(secret, f"unsubscribe|{channel_id}".encode(), hashlib.sha256).hexdigest()[:32]


def check_unsubscribe_token(secret: bytes, channel_id: str, token: str) -> bool:
    return hmac.compare_digest(unsubscribe_token(secret, channel_id), token)
