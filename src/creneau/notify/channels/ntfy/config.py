# SPDX-License-Identifier: AGPL-3.0-or-later
"""An ntfy destination: a topic on an ntfy server.

Two uses: one public topic per target (`scope="target"`, named by `target_topic`; ntfy fans the message
out to every phone subscribed to it) and personal topics (`scope="user"`). Topics on a public server can
be read by anyone who knows the name, so personal topics should be long and random; a protected topic takes
an access token (`token`, kept secret).
"""

from __future__ import annotations

import hashlib
import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

from creneau.notify.base import DestinationConfig

_TOPIC = re.compile(r"^[-_A-Za-z0-9]{1,64}$")


def target_topic(prefix: str, target_id: str) -> str:
    """The public topic of one target: `prefix` + the target id made topic-safe (≤ 64 characters)."""
    safe = re.sub(r"[^-_A-Za-z0-9]+", "-", target_id).strip("-")
    topic = f"{prefix}{safe}"
    if len(topic) > 64 or not safe:
        topic = f"{prefix}{safe[:40]}-{hashlib.sha256(target_id.encode()).hexdigest()[:10]}"[-64:]
    return topic


class NtfyConfig(DestinationConfig):
    topic: str = Field(description="Topic name: 1 to 64 letters, digits, - or _.")
    server: str | None = Field(None, description="ntfy server URL; empty means the operator's default.")
    token: SecretStr | None = Field(None, description="Access token of a protected topic (sent as Bearer).")
    scope: Literal["user", "target"] = Field("user", description="user (a personal topic) or target (public).")
    priority: int = Field(4, ge=1, le=5, description="ntfy priority of alerts (1 min … 5 max); notices use 3.")

    @field_validator("topic")
    @classmethod
    def _topic(cls, value: str) -> str:
        if not _TOPIC.match(value):
            raise ValueError(f"invalid ntfy topic {value!r}: use 1 to 64 letters, digits, - or _")
        return value

    @field_validator("server")
    @classmethod
    def _server(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"invalid ntfy server {value!r}: expected an http(s) URL such as https://ntfy.sh")
        if parts.username or parts.password or parts.query or parts.fragment:
            raise ValueError("the ntfy server URL must not carry credentials, a query or a fragment (use token)")
        return value.rstrip("/")

    def destination_key(self) -> str:
        return f"ntfy:{self.server or ''}/{self.topic}"

    def is_broadcast(self) -> bool:
        return self.scope == "target"

    def redacted(self) -> str:
        shown = self.topic if self.scope == "target" else f"{self.topic[:4]}…"
        return f"ntfy {shown}" + (f" on {urlsplit(self.server).hostname}" if self.server else "")
