# SPDX-License-Identifier: AGPL-3.0-or-later
"""A webhook destination: an http(s) URL and the shared secret that signs each request.

Syntax is checked here (scheme, host, no credentials in the URL, no fragment); whether the host is a
public address is the SSRF guard's job (`guard.check_destination` when adding, again at every connect).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

from creneau.notify.base import DestinationConfig


class WebhookConfig(DestinationConfig):
    url: str = Field(description="Where alerts are POSTed as JSON (https recommended).")
    secret: SecretStr = Field(description="Shared secret of the HMAC-SHA256 signature (16 characters or more).")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if len(value) > 2048 or any(c.isspace() for c in value):
            raise ValueError("invalid webhook URL: too long or contains spaces")
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError as exc:
            raise ValueError(f"invalid webhook URL {value!r}: {exc}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"invalid webhook URL {value!r}: expected http(s)://host/path")
        if parts.username or parts.password:
            raise ValueError("invalid webhook URL: credentials in the URL would leak into logs; use the secret")
        if parts.fragment:
            raise ValueError("invalid webhook URL: a fragment (#…) is never sent to the server")
        return value

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 16:
            raise ValueError("the webhook secret must be at least 16 characters long")
        return value

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    def destination_key(self) -> str:
        return f"webhook:{self.host}"

    def redacted(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}/…"
