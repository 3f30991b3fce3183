# SPDX-License-Identifier: AGPL-3.0-or-later
"""`creneau check URL` (one live check) and `creneau parse FILE` (classify a saved page or JSON answer).

Both print a Rich summary, or with `--json` exactly one JSON object (`Observation.summary()`: outcome,
evidence, slots as ISO date-times, notices…). A bad URL, system or file ends as one error line (exit 2).
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from creneau.cli import fail
from creneau.config import Settings, load_settings
from creneau.sources.base import Adapter, SourceDeps, adapter_for, detect_system
from creneau.sources.common import digest
from creneau.sources.errors import SourceError
from creneau.sources.http import Http
from creneau.types import PARIS, Observation, Outcome, System, Target

_SYSTEMS = ", ".join(s.value for s in System)
_SAVED_FROM = re.compile(rb"<!-- saved from url=\(\d+\)(\S+?) -->")
_COLOURS = {Outcome.SLOTS_AVAILABLE: "bold green", Outcome.NO_SLOTS: "cyan"}

SystemOption = Annotated[str | None, typer.Option("--system", help=f"Booking system: {_SYSTEMS}.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a summary.")]


def register(app: typer.Typer) -> None:
    app.command("check")(check)
    app.command("parse")(parse)


def check(
    url: Annotated[str, typer.Argument(help="Official booking URL (RDV Préfecture, legacy module or ANTS API).")],
    system: SystemOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run one check of a booking page, the way the monitor does, and say what it saw."""
    adapter, target = _target(url, system)
    settings = load_settings()
    try:
        observation = asyncio.run(_check(adapter, target, settings))
    except SourceError as exc:
        raise fail(str(exc)) from None
    _show(observation, as_json)


def parse(
    file: Annotated[Path, typer.Argument(help="A saved page (HTML) or API answer (JSON).")],
    system: SystemOption = None,
    page: Annotated[str | None, typer.Option("--page", help="Which page the file is, when it cannot tell.")] = None,
    url: Annotated[str, typer.Option("--url", help="The URL the file was fetched from, if known.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Classify a saved page offline: no network, same parser as the checks."""
    try:
        body = file.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read {file}: {exc.strerror or exc}") from None
    if not url:
        saved = _SAVED_FROM.search(body[:4096])
        url = saved.group(1).decode("ascii", "replace") if saved else ""
    if system is None and not url:
        raise fail(f"say which system saved {file} with --system ({_SYSTEMS}) or give its --url")
    chosen = _system(system) if system else _detect(url)
    try:
        result = adapter_for(chosen).parse(body, url=url, page=page)
    except SourceError as exc:
        raise fail(str(exc)) from None
    observation = Observation(
        target_id=str(file),
        checked_at=datetime.now(UTC),
        outcome=result.outcome,
        evidence=result.evidence,
        slots=result.slots if result.outcome is Outcome.SLOTS_AVAILABLE else (),
        notices=result.notices,
        url=url,
        page=result.page,
        page_digest=digest(body),
    )
    _show(observation, as_json)


def _system(name: str) -> System:
    try:
        return System(name.strip().lower())
    except ValueError:
        raise fail(f"unknown system {name!r}: use one of {_SYSTEMS}") from None


def _detect(url: str) -> System:
    try:
        return detect_system(url)
    except SourceError as exc:
        raise fail(f"{exc} (give --system {_SYSTEMS})") from None


def _target(url: str, system: str | None) -> tuple[Adapter, Target]:
    adapter = adapter_for(_system(system) if system else _detect(url))
    try:
        return adapter, adapter.target_from_url(url)
    except SourceError as exc:
        raise fail(str(exc)) from None


async def _check(adapter: Adapter, target: Target, settings: Settings) -> Observation:
    async with Http.from_settings(settings) as http:
        return await adapter.check(target, _deps(http, settings, target))


def _deps(http: Http, settings: Settings, target: Target) -> SourceDeps:
    """What a check needs. RDV Préfecture also files captchas in the CLI desk (`{data_dir}/captcha`, read
    by `creneau captcha list/solve`) and keeps the sessions they open in `{data_dir}/sessions`, so a
    second `creneau check` after `creneau captcha solve` goes through."""
    if target.system is not System.RDVPREF:
        return SourceDeps(http=http, settings=settings)
    from creneau.sources.captcha import FileCaptchaDesk
    from creneau.sources.rdvpref.session import FileSessionVault

    desk = FileCaptchaDesk(settings.data_dir / "captcha")
    return SourceDeps(
        http=http, settings=settings, captcha_desk=desk, sessions=FileSessionVault(settings.data_dir / "sessions")
    )


def _show(observation: Observation, as_json: bool) -> None:
    summary = observation.summary()
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False))
        return
    console = Console()
    colour = _COLOURS.get(observation.outcome, "yellow")
    console.print(
        f"[{colour}]{observation.outcome.value}[/] {escape(observation.target_id)}", highlight=False, soft_wrap=True
    )
    console.print(f"  evidence: {observation.evidence}", highlight=False, markup=False, soft_wrap=True)
    if observation.url:
        console.print(f"  url: {observation.url}", highlight=False, markup=False, soft_wrap=True)
    if observation.http_status is not None:
        console.print(
            f"  HTTP {observation.http_status} in {observation.duration_s:.2f} s", highlight=False, soft_wrap=True
        )
    if observation.slots:
        table = Table("start (Paris)", "guichet", "place", box=None, pad_edge=False)
        for slot in observation.slots:
            table.add_row(_paris(slot.start), slot.guichet_label or slot.guichet or "", slot.place or "")
        console.print(table)
    for notice in observation.notices:
        console.print(
            f"  {notice.kind.value}: {_paris(notice.instant)} {notice.text}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )


def _paris(when: datetime) -> str:
    return when.astimezone(PARIS).strftime("%a %d/%m/%Y %H:%M")
