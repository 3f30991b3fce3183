# SPDX-License-Identifier: AGPL-3.0-or-later
"""The contract between the outbox and a channel: destination config, limits, transport, receipt.

A channel is a folder `channels/<kind>/` whose `__init__.py` exposes `SPEC: ChannelSpec`. The outbox:

1. parses the stored destination with `spec.parse_config(data)` (a pydantic model; secrets are `SecretStr`);
2. takes a token with `limiter.take(config.destination_key(), spec.destination_rate(config))` before any
   network call (`RateLimiter(spec.limits.global_rate, clock)`, one per kind);
3. calls `await transport.send(message, config, locale=...)` once, and records the `Receipt`, or handles a
   `TransientError` (retry later, at least `retry_after_s`) / `PermanentError` (give up; disable the
   channel when `disable_channel`). Transports never retry in a loop.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from creneau.notify.ratelimit import Rate

if TYPE_CHECKING:
    import aiohttp

    from creneau.config import Settings
    from creneau.notify.message import Message

Locale = Literal["fr", "en"]
LOCALES: tuple[Locale, ...] = ("fr", "en")


class DestinationConfig(BaseModel):
    """Where one channel delivers. Subclasses say how to name the destination without its secrets."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    def destination_key(self) -> str:
        """A stable, secret-free identity of the destination (per-destination rate limit, logs)."""
        raise NotImplementedError

    def redacted(self) -> str:
        """What logs, notices and admin pages show of the destination."""
        return self.destination_key()

    def is_broadcast(self) -> bool:
        """True for a destination many people read at once (a public channel, a per-target topic): the
        sender serves those before personal destinations, since one message reaches all their readers."""
        return False

    def stored(self) -> dict[str, Any]:
        """The config as the store keeps it, secrets in clear (`repr` and `model_dump_json` mask them)."""
        return {k: v.get_secret_value() if isinstance(v, SecretStr) else v for k, v in self.model_dump().items()}


@dataclass(frozen=True, slots=True)
class Limits:
    """What a channel accepts and how fast. `None` rates mean "no limit of ours"."""

    title_max: int
    body_max: int
    global_rate: Rate | None
    destination_rate: Rate | None


@dataclass(frozen=True, slots=True)
class Receipt:
    """Proof a provider accepted one message: its own id when it gives one (SMTP Message-ID, Telegram
    message_id, ntfy id, webhook response header) and the HTTP/SMTP status."""

    channel: str
    provider_id: str | None
    status: int | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


class Transport(Protocol):
    async def send(self, message: Message, config: Any, *, locale: Locale) -> Receipt: ...

    async def close(self) -> None: ...


class ConfigError(ValueError):
    """A destination config is invalid; the message is one line meant for the person who typed it."""


@dataclass(frozen=True, slots=True)
class ChannelSpec:
    """A channel's declaration. `open` builds its transport from the settings and the shared HTTP session
    (the caller closes it with `await transport.close()`)."""

    kind: str
    config_model: type[DestinationConfig]
    limits: Limits
    open: Callable[[Settings, aiohttp.ClientSession], Awaitable[Transport]]
    rate_for: Callable[[Any], Rate | None] | None = None

    def parse_config(self, data: Mapping[str, Any]) -> DestinationConfig:
        """Validate a stored or typed destination; raise `ConfigError` with one readable line."""
        try:
            return self.config_model.model_validate(dict(data))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or self.kind
            message = str(first["msg"]).removeprefix("Value error, ")
            raise ConfigError(f"{self.kind} {where}: {message}") from None

    def destination_rate(self, config: DestinationConfig) -> Rate | None:
        return self.rate_for(config) if self.rate_for else self.limits.destination_rate
