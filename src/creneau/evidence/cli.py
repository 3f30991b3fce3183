# SPDX-License-Identifier: AGPL-3.0-or-later
"""`creneau dossier …` and `creneau letter …`: export and check evidence dossiers, draft and export letters.

These are the operator's commands (the web app gives each person their own). Reading someone's evidence
is logged with `--request`, the reference of the documented request it answers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from creneau.cli import fail
from creneau.config import Settings, load_settings
from creneau.evidence import dossier, letters
from creneau.evidence.crypto import CryptoError, Keyring, key_file, load_keyring
from creneau.evidence.dossier_data import NoEvidence
from creneau.evidence.letters import LetterKind, MissingFacts
from creneau.evidence.service import Evidence
from creneau.pipeline_admin import parse_day
from creneau.store import Store
from creneau.store.errors import NotFound

log = logging.getLogger(__name__)
T = TypeVar("T")

dossier_app = typer.Typer(help="Evidence dossiers: export one (PDF), check one.", no_args_is_help=True)
letter_app = typer.Typer(
    help="Letters to the prefecture, the LRAR, the Défenseur des droits, the lawyer pack.", no_args_is_help=True
)

WatchOption = Annotated[int, typer.Option("--watch", help="The watch whose evidence to use.")]
FromOption = Annotated[str, typer.Option("--from", help="First day of the period (YYYY-MM-DD or DD/MM/YYYY).")]
ToOption = Annotated[str, typer.Option("--to", help="Last day of the period, included.")]
LangOption = Annotated[str, typer.Option("--lang", help="fr (default) or en.")]
RequestOption = Annotated[
    str, typer.Option("--request", help="Reference of the documented request this export answers (logged).")
]


def register(app: typer.Typer) -> None:
    """Add this stage's commands to the main app."""
    from creneau.evidence import cli_admin

    app.add_typer(dossier_app, name="dossier")
    app.add_typer(letter_app, name="letter")
    cli_admin.register(app)


def period(first: str, last: str) -> tuple[date, date]:
    start, end = parse_day(first, "--from"), parse_day(last, "--to")
    if end < start:
        raise fail("--to: the period ends before it starts")
    return start, end


@asynccontextmanager
async def opened(settings: Settings) -> AsyncIterator[Evidence]:
    from creneau.catalog.core import load_catalog

    store = await Store.open(settings.resolved_database_url())
    try:
        yield Evidence(store, load_keyring(settings), settings, load_catalog(settings.data_dir))
    finally:
        await store.close()


def run(work: Callable[[Evidence], Awaitable[T]]) -> T:
    """Run `work` with the evidence objects; known problems become one error line."""
    settings = load_settings()

    async def go() -> T:
        async with opened(settings) as evidence:
            return await work(evidence)

    try:
        return asyncio.run(go())
    except (NotFound, NoEvidence, MissingFacts, CryptoError) as exc:
        raise fail(str(exc).strip("'\"")) from None


def _write(path: Path, data: bytes) -> None:
    if path.parent and not path.parent.exists():
        raise fail(f"--out: folder {path.parent} does not exist")
    path.write_bytes(data)


@dossier_app.command("export")
def export(
    watch: WatchOption,
    first: FromOption,
    last: ToOption,
    out: Annotated[Path, typer.Option("--out", help="Where to write the PDF.")],
    lang: LangOption = "fr",
    request: RequestOption = "",
) -> None:
    """Write the evidence dossier of a watch for a period as a PDF (the chain attached as chain.jsonl)."""
    if lang not in ("fr", "en"):
        raise fail("--lang: fr or en")
    start, end = period(first, last)
    now = datetime.now(UTC)
    made = run(lambda ev: ev.export(watch, start, end, lang=lang, now=now))
    _write(out, made.pdf)
    log.info("dossier of watch %s exported by the operator (request: %s)", watch, request or "-")
    d = made.data
    typer.echo(
        f"{out}: {d.attempts} attempts over {d.days_covered}/{d.days_total} days, {len(d.captures)} captures, "
        f"{d.entries} chain entries, final hash {d.final_hash}"
    )


def _keyring_for_checks(settings: Settings) -> Keyring | None:
    """The configured keyring, without creating a key file just to check a seal."""
    if settings.evidence_key.get_secret_value() or key_file(settings.data_dir).exists():
        return load_keyring(settings)
    return None


@dossier_app.command("verify")
def verify(file: Annotated[Path, typer.Argument(help="A dossier PDF or a chain.jsonl export.")]) -> None:
    """Check a dossier or chain: every hash, every link, the count and the final hash. Exit code 1 when
    anything was changed, removed or reordered."""
    data = file.read_bytes()
    keyring = _keyring_for_checks(load_settings())
    try:
        result = dossier.verify_bytes(data, check_seal=keyring.check_seal if keyring else None)
    except ValueError as exc:
        raise fail(f"{file}: {exc}") from None
    for line in result.lines():
        typer.echo(line)
    if not result.ok:
        raise typer.Exit(1)


KindOption = Annotated[LetterKind, typer.Option("--kind", help="email, lrar or ddd.")]


@letter_app.command("draft")
def draft(
    watch: WatchOption,
    kind: KindOption,
    first: FromOption,
    last: ToOption,
    out: Annotated[Path | None, typer.Option("--out", help="Write the French text here (default: print it).")] = None,
) -> None:
    """The letter in French (the person's saved version if any), then what it is for, in English."""
    start, end = period(first, last)
    now = datetime.now(UTC)
    text, note = run(lambda ev: ev.letter(watch, kind, start, end, now=now))
    if out is not None:
        _write(out, text.encode())
        typer.echo(note)
        return
    typer.echo(text)
    typer.echo("---\n" + note)


@letter_app.command("save")
def save(
    watch: WatchOption,
    kind: KindOption,
    file: Annotated[Path, typer.Option("--file", help="The edited letter (UTF-8 text).")],
) -> None:
    """Keep an edited letter (encrypted) in place of the draft; refused while a blank is left."""
    text = file.read_text(encoding="utf-8")
    try:
        letters.ready(text)
    except ValueError as exc:
        raise fail(str(exc)) from None
    now = datetime.now(UTC)

    async def work(ev: Evidence) -> None:
        await ev.profiles.save_letter(await ev.owner(watch), watch, kind.value, text, now=now)

    run(work)
    typer.echo(f"saved the {kind.value} letter of watch {watch}")


@letter_app.command("export")
def export_letter(
    watch: WatchOption,
    kind: KindOption,
    first: FromOption,
    last: ToOption,
    out: Annotated[Path, typer.Option("--out", help="FILE.pdf or FILE.txt.")],
) -> None:
    """Write the letter as PDF or plain text (refused while a blank is left)."""
    start, end = period(first, last)
    now = datetime.now(UTC)
    text, _ = run(lambda ev: ev.letter(watch, kind, start, end, now=now))
    try:
        data = (
            letters.letter_pdf(text, title=letters.TITLES[kind][0])
            if out.suffix == ".pdf"
            else letters.ready(text).encode()
        )
    except ValueError as exc:
        raise fail(str(exc)) from None
    _write(out, data)
    typer.echo(f"{out}: {letters.TITLES[kind][0]}")


@letter_app.command("pack")
def pack(
    watch: WatchOption,
    first: FromOption,
    last: ToOption,
    out: Annotated[Path, typer.Option("--out", help="Where to write the zip.")],
    request: RequestOption = "",
) -> None:
    """The lawyer pack: dossiers (FR, EN), the three letters (text and PDF), timeline, chain."""
    start, end = period(first, last)
    now = datetime.now(UTC)
    try:
        data = run(lambda ev: ev.pack(watch, start, end, now=now))
    except ValueError as exc:
        raise fail(str(exc)) from None
    _write(out, data)
    log.info("lawyer pack of watch %s exported by the operator (request: %s)", watch, request or "-")
    typer.echo(f"{out}: lawyer pack written")
