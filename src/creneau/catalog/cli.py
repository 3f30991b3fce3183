# SPDX-License-Identifier: AGPL-3.0-or-later
"""Catalog commands: `find`, `portal`, `offices`, `demarches`, plus the `target` and `catalog` groups.

Rich tables for people; `--json` prints exactly one JSON document. Every user-fixable problem (unknown
démarche or office, bad URL, bad file) ends as one `creneau: error: …` line with exit code 2.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from creneau.catalog.core import Catalog, load_catalog
from creneau.catalog.model import DemarcheInfo
from creneau.catalog.portal import guide
from creneau.catalog.records import CatalogDataError
from creneau.catalog.render import found_json, offices_table, show_found
from creneau.catalog.resolver import Resolver
from creneau.cli import fail
from creneau.config import load_settings
from creneau.types import PARIS

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of tables.")]
DEFAULT_DEMARCHE = "sejour.first"


def register(app: typer.Typer) -> None:
    """Add this stage's commands to the main app."""
    from creneau.catalog.cli_admin import catalog_app, target_app

    app.command("find")(find)
    app.command("portal")(portal)
    app.command("offices")(offices)
    app.command("demarches")(demarches)
    app.add_typer(target_app, name="target")
    app.add_typer(catalog_app, name="catalog")


def open_catalog() -> Catalog:
    """The shipped catalog merged with this instance's overlay (Settings.data_dir)."""
    settings = load_settings()
    try:
        return load_catalog(settings.data_dir)
    except CatalogDataError as exc:
        raise fail(f"catalog data: {exc}") from None


def demarche_or_fail(catalog: Catalog, key: str) -> DemarcheInfo:
    demarche = catalog.demarches.get(key)
    if demarche is None:
        raise fail(f"unknown démarche {key!r}; known: {', '.join(catalog.demarches)}")
    return demarche


def emit(doc: object) -> None:
    typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))


def today() -> date:
    return datetime.now(PARIS).date()


def find(
    query: Annotated[str, typer.Argument(help='INSEE code, postcode or commune name ("Paris 15e", "St-Denis 93").')],
    demarche: Annotated[
        str, typer.Option("--demarche", "-d", help=f"Démarche key (default {DEFAULT_DEMARCHE}).")
    ] = DEFAULT_DEMARCHE,
    as_json: JsonOption = False,
) -> None:
    """Which office handles a démarche for someone living in a commune, why, and what creneau can watch."""
    catalog = open_catalog()
    info = demarche_or_fail(catalog, demarche)
    if not query.strip():
        raise fail("empty query: give an INSEE code, a postcode or a commune name")
    located, found = Resolver(catalog).find(query, info)
    if as_json:
        emit(found_json(catalog, located, found, info.key))
        return
    if found is None and not located.communes and not located.suggestions:
        raise fail(f"no commune matches {query!r} ({located.how})")
    show_found(Console(), catalog, located, found)


def portal(
    key: Annotated[str, typer.Argument(help="Démarche key, e.g. sejour.renewal (see `creneau demarches`).")],
    on: Annotated[str | None, typer.Option("--on", help="Show the fees in force on this date (YYYY-MM-DD).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Where to go for a démarche, what to prepare, its official fees, and whether creneau can watch it."""
    catalog = open_catalog()
    info = demarche_or_fail(catalog, key)
    try:
        day = date.fromisoformat(on) if on else today()
    except ValueError:
        raise fail(f"--on must be a date like 2026-05-01, not {on!r}") from None
    doc = guide(catalog, info, day)
    if as_json:
        emit(doc)
        return
    console = Console()
    console.print(f"[bold]{escape(info.name_en)}[/] — {escape(info.name_fr)} [dim]({info.key})[/]")
    if info.note_en:
        console.print(escape(info.note_en))
    table = Table("portal", "role", "url", title="Where")
    for p in info.portals:
        item = catalog.portals[p]
        table.add_row(escape(item.name_en), item.role, escape(item.url or "(the office's own page)"))
    console.print(table)
    if info.prepare_en:
        console.print("[bold]Prepare:[/] " + escape("; ".join(info.prepare_en)))
    fees = [f for f in catalog.fees if info.key in f.demarches]
    for fee in fees:
        state = "in force" if fee.valid_on(day) else "not in force"
        console.print(
            f"[bold]Fee:[/] {fee.amount_eur:g} € — {escape(fee.label_en)} (since {fee.valid_from.isoformat()}, "
            f"{state} on {day.isoformat()})"
        )
    if not fees:
        console.print("[bold]Fee:[/] none recorded in the catalog (check service-public.fr)")
    watch = "yes" if info.watchable else "no"
    console.print(f"[bold]creneau can watch it:[/] {watch}")
    console.print(f"[green]{escape(catalog.notice.get('free_en', ''))}[/]")


def offices(
    dept: Annotated[str | None, typer.Option("--dept", help="Only this département (e.g. 91, 2A, 974).")] = None,
    as_json: JsonOption = False,
) -> None:
    """List prefectures, sub-prefectures and the other offices in the catalog."""
    catalog = open_catalog()
    if dept is not None:
        code = dept.strip().upper()
        if code not in catalog.geography.departements:
            raise fail(f"unknown département {dept!r}")
        selected = catalog.offices_in(code)
    else:
        selected = sorted(catalog.offices.values(), key=lambda o: (o.departement, o.kind.value, o.id))
    if as_json:
        emit([o.to_json() for o in selected])
        return
    Console().print(offices_table(selected, title=f"{len(selected)} offices"))


def demarches(as_json: JsonOption = False) -> None:
    """List the démarches, the portal that handles each, and whether creneau can watch it."""
    catalog = open_catalog()
    items = list(catalog.demarches.values())
    if as_json:
        emit(
            [
                {
                    "key": d.key,
                    "name_fr": d.name_fr,
                    "name_en": d.name_en,
                    "category": d.category,
                    "competence": d.competence.value,
                    "portals": list(d.portals),
                    "watchable": d.watchable,
                }
                for d in items
            ]
        )
        return
    table = Table("key", "English", "français", "portals", "watchable")
    for d in items:
        table.add_row(d.key, escape(d.name_en), escape(d.name_fr), ", ".join(d.portals), "yes" if d.watchable else "no")
    Console().print(table)
