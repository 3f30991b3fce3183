# SPDX-License-Identifier: AGPL-3.0-or-later
"""The one list of channel kinds: kind → module path, imported only when that kind is used.

A new channel adds its folder `channels/<kind>/` (whose `__init__.py` defines `SPEC`) and one line here;
nothing in `store/` or the outbox changes. Built-in channels go through this registry too.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from creneau.notify.base import ChannelSpec, ConfigError, DestinationConfig, Transport
from creneau.notify.render import precompile

if TYPE_CHECKING:
    import aiohttp

    from creneau.config import Settings

CHANNEL_MODULES: dict[str, str] = {
    "email": "creneau.notify.channels.email",
    "telegram": "creneau.notify.channels.telegram",
    "ntfy": "creneau.notify.channels.ntfy",
    "webhook": "creneau.notify.channels.webhook",
    "webpush": "creneau.notify.channels.webpush",
}


def kinds() -> tuple[str, ...]:
    return tuple(CHANNEL_MODULES)


def channel_spec(kind: str) -> ChannelSpec:
    """The declaration of one channel kind; raises `ConfigError` for a kind nobody registered."""
    try:
        path = CHANNEL_MODULES[kind]
    except KeyError:
        raise ConfigError(f"unknown channel kind {kind!r} (known: {', '.join(CHANNEL_MODULES)})") from None
    spec = importlib.import_module(path).SPEC
    if not isinstance(spec, ChannelSpec) or spec.kind != kind:
        raise TypeError(f"{path}.SPEC is not the ChannelSpec of {kind!r}")
    return spec


def templates_of(kind: str) -> Path:
    """The channel's `templates/` folder (beside its `__init__.py`)."""
    origin = importlib.import_module(CHANNEL_MODULES[kind]).__file__
    return Path(origin or ".").resolve().parent / "templates"


def parse_destination(kind: str, data: Mapping[str, Any]) -> DestinationConfig:
    """Validate a destination of `kind` (CLI input or a stored row); raises `ConfigError` with one line."""
    return channel_spec(kind).parse_config(data)


class Transports:
    """Opens each kind's transport on first use and closes them all at shutdown.

    `session` is the process's aiohttp session (Telegram and ntfy ride on it); the e-mail pool and the
    webhook's guarded session are created and owned by their transports.
    """

    def __init__(self, settings: Settings, session: aiohttp.ClientSession) -> None:
        self._settings = settings
        self._session = session
        self._open: dict[str, Transport] = {}
        self._lock = asyncio.Lock()

    async def get(self, kind: str) -> Transport:
        """The transport of `kind`, opened once even when many senders ask at the same moment."""
        if kind not in self._open:
            async with self._lock:
                if kind not in self._open:
                    self._open[kind] = await channel_spec(kind).open(self._settings, self._session)
                    precompile(templates_of(kind))
        return self._open[kind]

    async def close(self) -> None:
        opened, self._open = self._open, {}
        for transport in opened.values():
            await transport.close()
