# SPDX-License-Identifier: AGPL-3.0-or-later
"""`creneau target add|list|remove` (the operator's overlay) and `creneau catalog refresh|check`."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from creneau.catalog.annuaire import AnnuaireError
from creneau.catalog.cli import JsonOption, emit, open_catalog, today
from creneau.catalog.cogimport import CogError
from creneau.catalog.core import shipped_data_dir
from creneau.catalog.integrity import all_problems
from creneau.catalog.overlay import OverlayError, add_target, overlay_path, remove_target
from creneau.catalog.refresh import apply_refresh, plan_refresh
from creneau.catalog.render import show_targets
from creneau.cli import fail
from creneau.config import load_settings

target_app = typer.Typer(help="Booking targets: the shipped ones and this instance's own.", no_args_is_help=True)
catalog_app = typer.Typer(
    help="Maintain the catalog data (refresh from official exports, check).", no_args_is_help=True
)


@target_app.command("add")
def target_add(
    url: Annotated[str, typer.Argument(help="Official booking URL (RDV Préfecture, /booking/create/<id>, ANTS).")],
    office: Annotated[str, typer.Option("--office", help="Office id (see `creneau offices`).")],
    demarche: Annotated[str, typer.Option("--demarche", help="Démarche key (see `creneau demarches`).")],
    label: Annotated[str, typer.Option("--label", help="Display label (default: office — démarche).")] = "",
) -> None:
    """Add a booking page to watch; the system and ids are read from the URL. Nothing is written on error."""
    catalog = open_catalog()
    data_dir = load_settings().data_dir
    try:
        item = add_target(catalog, data_dir, url, office, demarche, today=today(), label=label)
    except OverlayError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"added {item.id} ({item.target.system.value}) to {overlay_path(data_dir)}")


@target_app.command("list")
def target_list(
    office: Annotated[str | None, typer.Option("--office", help="Only this office's targets.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List booking targets (shipped and added on this instance)."""
    catalog = open_catalog()
    if office is not None and office not in catalog.offices:
        raise fail(f"unknown office {office!r} (see `creneau offices`)")
    items = [t for t in catalog.targets.values() if office is None or t.target.office_id == office]
    if as_json:
        emit([t.to_json() for t in items])
        return
    if not items:
        typer.echo("no booking target")
        return
    show_targets(Console(), items, f"{len(items)} booking targets")


@target_app.command("remove")
def target_remove(target_id: Annotated[str, typer.Argument(help="Target id (see `creneau target list`).")]) -> None:
    """Remove a target added on this instance."""
    catalog = open_catalog()
    try:
        item = remove_target(catalog, load_settings().data_dir, target_id)
    except OverlayError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"removed {item.id}")


@catalog_app.command("refresh")
def catalog_refresh(
    cog: Annotated[
        Path | None, typer.Option("--cog", help="decoupage-administratif data folder, JSON file or .tgz.")
    ] = None,
    annuaire: Annotated[
        Path | None, typer.Option("--annuaire", help="Service-Public annuaire export (tab-separated).")
    ] = None,
    annuaire_date: Annotated[
        str | None, typer.Option("--annuaire-date", help="Date of the annuaire export (default today).")
    ] = None,
    into: Annotated[Path | None, typer.Option("--into", help="Data folder to update (default: the package's).")] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Write without asking.")] = False,
) -> None:
    """Import newer COG / annuaire exports: print every difference first, write only after confirmation."""
    if cog is None and annuaire is None:
        raise fail("give --cog FILE and/or --annuaire FILE")
    try:
        day = date.fromisoformat(annuaire_date) if annuaire_date else today()
    except ValueError:
        raise fail(f"--annuaire-date must be a date like 2026-11-23, not {annuaire_date!r}") from None
    folder = into or shipped_data_dir()
    if not folder.is_dir():
        raise fail(f"{folder}: not a folder")
    catalog = open_catalog()
    try:
        plan = plan_refresh(catalog, cog, annuaire, day)
    except (CogError, AnnuaireError) as exc:
        raise fail(str(exc)) from None
    console = Console()
    for line in plan.notes:
        console.print(f"[dim]note: {escape(line)}[/]")
    for line in plan.warnings:
        console.print(f"[yellow]warning: {escape(line)}[/]")
    if plan.empty:
        typer.echo("no difference: nothing to write")
        return
    for line in plan.changes:
        console.print(escape(line))
    typer.echo(f"{len(plan.changes)} differences")
    if not yes and not typer.confirm(f"Write them into {folder}?", default=False):
        typer.echo("nothing written")
        return
    written = apply_refresh(plan, folder)
    typer.echo(f"wrote {', '.join(written)}; run `creneau catalog check`")


@catalog_app.command("check")
def catalog_check(as_json: JsonOption = False) -> None:
    """Run the catalog's integrity checks (shipped data plus this instance's targets)."""
    problems = all_problems(open_catalog())
    if as_json:
        emit({"ok": not problems, "problems": problems})
    else:
        for problem in problems:
            typer.echo(problem)
        typer.echo("catalog OK" if not problems else f"{len(problems)} problems")
    if problems:
        raise typer.Exit(1)
