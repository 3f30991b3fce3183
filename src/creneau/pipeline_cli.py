# SPDX-License-Identifier: AGPL-3.0-or-later
"""`creneau subscriber add|list|remove` and `creneau watch add|list|remove` (`creneau serve`: serve_cli.py).

Subscribers and watches are checked completely before anything is written (addresses, chat ids, webhook
URLs through the SSRF guard, targets, dates), then written in one transaction: a bad value ends as one
error line and leaves the store as it was.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import typer

from creneau.cli import fail
from creneau.config import Settings, load_settings
from creneau.pipeline_admin import (
    ChannelInput,
    enrol,
    parse_day,
    resolve_targets,
    subscriber_rows,
    validate_channels,
    watch_rows,
)
from creneau.store import NotFound, Store

T = TypeVar("T")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def register(app: typer.Typer) -> None:
    from creneau.serve_cli import serve

    app.command("serve")(serve)
    subscriber = typer.Typer(help="People who get alerts, and the channels they get them on.", no_args_is_help=True)
    subscriber.command("add")(subscriber_add)
    subscriber.command("list")(subscriber_list)
    subscriber.command("remove")(subscriber_remove)
    app.add_typer(subscriber, name="subscriber")
    watch = typer.Typer(help="Which targets each subscriber watches, with optional filters.", no_args_is_help=True)
    watch.command("add")(watch_add)
    watch.command("list")(watch_list)
    watch.command("remove")(watch_remove)
    app.add_typer(watch, name="watch")


# --- store access ---------------------------------------------------------------------------------------
def _with_store(settings: Settings, work: Callable[[Store], Awaitable[T]]) -> T:
    async def run() -> T:
        store = await Store.open(settings.resolved_database_url())
        try:
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(run())


def _remove(what: str, item_id: int, remove: Callable[[Store], Awaitable[bool]]) -> None:
    if not _with_store(load_settings(), remove):
        raise fail(f"no {what} {item_id}")
    typer.echo(f"{what} {item_id} removed")


def _print(rows: list[dict[str, Any]], as_json: bool, line: Callable[[dict[str, Any]], str]) -> None:
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    for row in rows:
        typer.echo(line(row))
    if not rows:
        typer.echo("(none)")


# --- subscribers ---------------------------------------------------------------------------------------
def subscriber_add(
    email: Annotated[str, typer.Option("--email", help="E-mail address (alerts and account).")],
    telegram: Annotated[
        str | None, typer.Option("--telegram", help="Telegram chat id, or @channel / -100… id of a public channel.")
    ] = None,
    ntfy: Annotated[str | None, typer.Option("--ntfy", help="ntfy topic (on CRENEAU_NTFY_SERVER_URL).")] = None,
    webhook: Annotated[str | None, typer.Option("--webhook", help="Webhook URL alerts are POSTed to.")] = None,
    webhook_secret: Annotated[
        str | None, typer.Option("--webhook-secret", help="Shared secret signing webhook requests (16+ characters).")
    ] = None,
    locale: Annotated[str, typer.Option("--locale", help="Language of the messages: fr or en.")] = "fr",
    name: Annotated[str, typer.Option("--name", help="A name to recognise the subscriber by.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Add a subscriber with an e-mail channel and, optionally, Telegram, ntfy and webhook channels."""
    if locale not in ("fr", "en"):
        raise fail(f"--locale must be fr or en, not {locale!r}")
    if (webhook is None) != (webhook_secret is None):
        raise fail("--webhook and --webhook-secret go together")
    settings = load_settings()
    wanted = ChannelInput(email=email, telegram=telegram, ntfy=ntfy, webhook=webhook, webhook_secret=webhook_secret)
    channels = asyncio.run(validate_channels(wanted, allow_private=settings.webhook_allow_private))
    now = datetime.now(UTC)
    subscriber_id = _with_store(settings, lambda store: enrol(store, channels, locale=locale, name=name, now=now))
    if as_json:
        typer.echo(json.dumps({"id": subscriber_id, "channels": [c.kind for c in channels]}))
    else:
        typer.echo(f"subscriber {subscriber_id} added with {', '.join(c.kind for c in channels)}")


def subscriber_list(as_json: JsonOption = False) -> None:
    """List subscribers with their channels (destinations redacted) and how many watches they have."""
    rows = _with_store(load_settings(), subscriber_rows)

    def line(row: dict[str, Any]) -> str:
        shown = ", ".join(
            f"{c['kind']} {c['destination']}" + ("" if c["status"] == "active" else f" (disabled: {c['reason']})")
            for c in row["channels"]
        )
        return f"{row['id']}  {row['email'] or '-'}  [{row['locale']}]  {row['watches']} watch(es)  {shown}"

    _print(rows, as_json, line)


def subscriber_remove(subscriber_id: Annotated[int, typer.Argument(help="Subscriber id.")]) -> None:
    """Erase a subscriber with their channels, watches and pending deliveries."""
    _remove("subscriber", subscriber_id, lambda store: store.subscribers.delete_subscriber(subscriber_id))


# --- watches ---------------------------------------------------------------------------------------------
def watch_add(
    subscriber: Annotated[int, typer.Option("--subscriber", help="Subscriber id (see `creneau subscriber list`).")],
    target: Annotated[list[str], typer.Option("--target", help="Target id (repeat for several).")],
    before: Annotated[
        str | None, typer.Option("--before", help="Only slots before this day (YYYY-MM-DD or DD/MM/YYYY).")
    ] = None,
    guichet: Annotated[
        list[str] | None, typer.Option("--guichet", help="Only slots at this guichet (id or label; repeatable).")
    ] = None,
    place: Annotated[list[str] | None, typer.Option("--place", help="Only slots at this place (repeatable).")] = None,
    label: Annotated[str, typer.Option("--label", help="A name for the watch.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Watch one or more targets for a subscriber; the monitor starts checking them at once."""
    from creneau.detector import WatchFilter

    day = parse_day(before, "--before") if before else None
    filters = WatchFilter.build(before=day, guichets=guichet or (), places=place or ())
    settings = load_settings()

    async def add(store: Store) -> dict[str, Any]:
        try:
            await store.subscribers.get_subscriber(subscriber)
        except NotFound:
            raise fail(f"no subscriber {subscriber} (see `creneau subscriber list`)") from None
        ids = await resolve_targets(store, settings.data_dir, target, now=datetime.now(UTC))
        watch = await store.subscribers.add_watch(subscriber, ids, now=datetime.now(UTC), filters=filters, label=label)
        return watch_rows([watch])[0]

    row = _with_store(settings, add)
    if as_json:
        typer.echo(json.dumps(row, ensure_ascii=False))
    else:
        typer.echo(f"watch {row['id']} added: subscriber {subscriber} → {', '.join(row['targets'])}{_filters(row)}")


def _filters(row: dict[str, Any]) -> str:
    parts = []
    if row["filters"]["before"]:
        parts.append(f"slots before {row['filters']['before']}")
    if row["filters"]["guichets"]:
        parts.append("guichets " + ", ".join(row["filters"]["guichets"]))
    if row["filters"]["places"]:
        parts.append("places " + ", ".join(row["filters"]["places"]))
    return "; " + "; ".join(parts) if parts else ""


def watch_list(
    subscriber: Annotated[int | None, typer.Option("--subscriber", help="Only this subscriber's watches.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List watches: id, subscriber, targets, filters."""
    settings = load_settings()
    watches = _with_store(settings, lambda store: store.subscribers.list_watches(subscriber_id=subscriber))
    rows = watch_rows(watches)

    def line(row: dict[str, Any]) -> str:
        status = "" if row["status"] == "active" else f" ({row['status']})"
        return f"{row['id']}  subscriber {row['subscriber_id']}  {', '.join(row['targets'])}{_filters(row)}{status}"

    _print(rows, as_json, line)


def watch_remove(watch_id: Annotated[int, typer.Argument(help="Watch id.")]) -> None:
    """Stop a watch (a target nobody watches any more is no longer checked)."""
    _remove("watch", watch_id, lambda store: store.subscribers.remove_watch(watch_id))
