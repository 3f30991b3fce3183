# SPDX-License-Identifier: AGPL-3.0-or-later
"""Subscriber and watch management behind the CLI (and later the web app): validate first, then write once.

Every check that can fail (address syntax, chat id, webhook URL and its SSRF guard, unknown target, bad
date) runs before the store is touched; `enrol` then writes the subscriber and all their channels in ONE
transaction, so a refused value leaves nothing behind. Errors are `CliError` lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from creneau.cli import fail
from creneau.notify.base import ConfigError, DestinationConfig
from creneau.notify.channels.telegram.config import CHANNEL_ID_MAX
from creneau.notify.registry import parse_destination
from creneau.store import NotFound, Store, WatchRecord
from creneau.store import models as m

_FRENCH_DAY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


@dataclass(frozen=True, slots=True)
class ChannelInput:
    """What was typed on the command line (or in a form)."""

    email: str
    telegram: str | None = None
    ntfy: str | None = None
    webhook: str | None = None
    webhook_secret: str | None = None


@dataclass(frozen=True, slots=True)
class ValidChannel:
    kind: str
    address: str
    config: DestinationConfig


def _parse(kind: str, data: dict[str, Any]) -> DestinationConfig:
    try:
        return parse_destination(kind, data)
    except ConfigError as exc:
        raise fail(str(exc)) from None


def _telegram_kind(chat: str) -> str:
    text = chat.strip()
    if text.startswith("@"):
        return "channel"
    if re.fullmatch(r"-\d+", text) and int(text) <= CHANNEL_ID_MAX:
        return "channel"
    return "chat"


async def validate_channels(wanted: ChannelInput, *, allow_private: bool) -> list[ValidChannel]:
    """Every channel of `wanted`, validated; raises `CliError` naming the first bad value."""
    from creneau.notify.channels.webhook.guard import check_destination

    email = _parse("email", {"address": wanted.email})
    channels = [ValidChannel("email", str(email.stored()["address"]), email)]
    if wanted.telegram is not None:
        config = _parse("telegram", {"chat": wanted.telegram, "kind": _telegram_kind(wanted.telegram)})
        channels.append(ValidChannel("telegram", str(config.stored()["chat"]), config))
    if wanted.ntfy is not None:
        config = _parse("ntfy", {"topic": wanted.ntfy})
        channels.append(ValidChannel("ntfy", wanted.ntfy, config))
    if wanted.webhook is not None:
        config = _parse("webhook", {"url": wanted.webhook, "secret": wanted.webhook_secret or ""})
        try:
            await check_destination(wanted.webhook, allow_private=allow_private)
        except OSError as exc:  # RefusedDestination (SSRF guard) or a name that does not resolve
            raise fail(f"webhook {config.redacted()}: {exc.strerror or exc}") from None
        channels.append(ValidChannel("webhook", wanted.webhook, config))
    return channels


async def enrol(store: Store, channels: Sequence[ValidChannel], *, locale: str, name: str, now: datetime) -> int:
    """Write the subscriber (e-mail = their first channel's address) and every channel in one transaction."""
    s, c = m.subscribers, m.channels
    email = channels[0].address
    try:
        async with store.write() as tx:
            inserted = await tx.conn.execute(
                s.insert().values(email=email, locale=locale, name=name, created_at=now).returning(s.c.id)
            )
            subscriber_id = int(inserted.scalar_one())
            rows = [
                {
                    "subscriber_id": subscriber_id,
                    "kind": ch.kind,
                    "address": ch.address,
                    "config": ch.config.stored(),
                    "status": "active",
                    "created_at": now,
                }
                for ch in channels
            ]
            await tx.conn.execute(c.insert(), rows)
    except IntegrityError:
        raise fail(f"a subscriber with e-mail {email} already exists") from None
    return subscriber_id


def parse_day(text: str, option: str) -> date:
    """`2026-06-01` or `01/06/2026`; raises `CliError` naming the option."""
    value = text.strip()
    try:
        if match := _FRENCH_DAY.match(value):
            return date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
        return date.fromisoformat(value)
    except ValueError:
        raise fail(f"{option}: {text!r} is not a date (YYYY-MM-DD or DD/MM/YYYY)") from None


async def resolve_targets(store: Store, data_dir: Path, wanted: Iterable[str], *, now: datetime) -> list[str]:
    """The ids of `wanted`, each known to the store or to the catalog (catalog ones are loaded into the
    store); raises `CliError` for the first unknown id before writing anything."""
    from creneau.catalog.core import load_catalog
    from creneau.catalog.records import CatalogDataError

    ids = list(dict.fromkeys(t.strip() for t in wanted if t.strip()))
    if not ids:
        raise fail("--target: give at least one target id (see `creneau target list`)")
    missing = []
    for target_id in ids:
        try:
            await store.targets.get(target_id)
        except NotFound:
            missing.append(target_id)
    if missing:
        try:
            catalog = load_catalog(data_dir)
        except CatalogDataError as exc:
            raise fail(str(exc)) from None
        unknown = [t for t in missing if t not in catalog.targets]
        if unknown:
            raise fail(f"unknown target {unknown[0]!r} (see `creneau target list`)")
        await store.targets.upsert_many([catalog.targets[t].target for t in missing], now=now)
    return ids


async def subscriber_rows(store: Store) -> list[dict[str, Any]]:
    """Subscribers with redacted channels and their number of watches, JSON-ready."""
    subscribers = await store.subscribers.list_subscribers()
    channels = await store.subscribers.list_channels()
    watches = await store.subscribers.list_watches()
    rows = []
    for sub in subscribers:
        own = [ch for ch in channels if ch.subscriber_id == sub.id]
        rows.append(
            {
                "id": sub.id,
                "email": sub.email,
                "locale": sub.locale,
                "name": sub.name,
                "created_at": sub.created_at.isoformat(),
                "watches": sum(1 for w in watches if w.subscriber_id == sub.id),
                "channels": [
                    {
                        "id": ch.id,
                        "kind": ch.kind,
                        "destination": _redacted(ch.kind, ch.config),
                        "status": ch.status.value,
                        "reason": ch.disabled_reason,
                    }
                    for ch in own
                ],
            }
        )
    return rows


def _redacted(kind: str, config: Any) -> str:
    try:
        return parse_destination(kind, config).redacted()
    except ConfigError:
        return f"{kind} (invalid stored destination)"


def watch_rows(watches: Iterable[WatchRecord]) -> list[dict[str, Any]]:
    return [
        {
            "id": w.id,
            "subscriber_id": w.subscriber_id,
            "targets": list(w.target_ids),
            "filters": w.filters.to_dict(),
            "label": w.label,
            "status": w.status.value,
            "created_at": w.created_at.isoformat(),
        }
        for w in watches
    ]
