# SPDX-License-Identifier: AGPL-3.0-or-later
"""`creneau evidence …`, `creneau capture …`, `creneau profile …`, `creneau keys rotate`: evidence mode,
captures, the applicant's data, the reminders worker and key rotation (operator commands)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from creneau.cli import fail
from creneau.config import load_settings
from creneau.evidence.capture import render_pending
from creneau.evidence.cli import WatchOption, run
from creneau.evidence.service import Evidence
from creneau.pipeline_admin import parse_day

evidence_app = typer.Typer(help="Evidence mode per watch, and the evidence worker.", no_args_is_help=True)
capture_app = typer.Typer(help="Captures: screenshots of the recorded pages.", no_args_is_help=True)
profile_app = typer.Typer(help="The applicant's data used by letters and dossiers.", no_args_is_help=True)
keys_app = typer.Typer(help="The evidence encryption key.", no_args_is_help=True)

SubscriberOption = Annotated[int, typer.Option("--subscriber", help="The subscriber (person) id.")]


def register(app: typer.Typer) -> None:
    app.add_typer(evidence_app, name="evidence")
    app.add_typer(capture_app, name="capture")
    app.add_typer(profile_app, name="profile")
    app.add_typer(keys_app, name="keys")


@evidence_app.command("on")
def evidence_on(watch: WatchOption) -> None:
    """Switch evidence mode on: every check of the watch's targets is logged, one capture a day."""
    info = run(lambda ev: ev.repo.enable(watch, now=datetime.now(UTC)))
    typer.echo(f"evidence mode on for watch {watch} (chain {info.chain_id}, {info.head_seq} entries so far)")


@evidence_app.command("off")
def evidence_off(watch: WatchOption) -> None:
    """Stop logging (what is logged stays and can still be exported)."""
    if not run(lambda ev: ev.repo.disable(watch, now=datetime.now(UTC))):
        raise fail(f"watch {watch} keeps no evidence")
    typer.echo(f"evidence mode off for watch {watch}")


@evidence_app.command("status")
def evidence_status(watch: WatchOption) -> None:
    info = run(lambda ev: ev.repo.chain_info(watch))
    if info is None:
        typer.echo(f"watch {watch}: evidence mode never switched on")
        return
    state = "on" if info.enabled else "off"
    typer.echo(
        f"watch {watch}: evidence mode {state}{' (automatic)' if info.auto else ''}, chain {info.chain_id}, "
        f"{info.head_seq} entries, head {info.head_hash}"
    )


@evidence_app.command("run")
def evidence_run(
    once: Annotated[bool, typer.Option("--once", help="One round, then exit.")] = False,
    every: Annotated[float, typer.Option("--every", help="Seconds between rounds.")] = 300.0,
) -> None:
    """The evidence worker: reminders, automatic evidence mode, ANEF guidance, captures, clean-up."""
    import aiohttp

    from creneau.evidence.worker import EvidenceWorker
    from creneau.notify.registry import Transports
    from creneau.sim.clock import SystemClock

    settings = load_settings()

    async def work(ev: Evidence) -> str:
        async with aiohttp.ClientSession(headers={"User-Agent": settings.resolved_user_agent()}) as session:
            transports = Transports(settings, session)
            worker = EvidenceWorker(
                ev.repo,
                ev.profiles,
                transports=transports,
                clock=SystemClock(),
                chromium=settings.evidence_chromium,
                capture_timeout_s=settings.evidence_capture_timeout_s,
            )
            try:
                if once:
                    done = await worker.run_once()
                    return (
                        f"reminders planned {done.planned}, sent {done.sent}, retried {done.retried}, dropped "
                        f"{done.dropped}; evidence mode switched on for {done.auto_enabled} watches; guidance "
                        f"{done.guidance}; captures rendered {done.rendered}"
                        + (f" (not rendered: {done.capture_problem})" if done.capture_problem else "")
                    )
                await worker.run(every_s=every)
                return "stopped"
            finally:
                await transports.close()

    typer.echo(run(work))


@capture_app.command("render")
def capture_render() -> None:
    """Render every pending capture in Chromium (kept pending, with the raw page, when it is absent)."""
    settings = load_settings()

    async def work(ev: Evidence) -> str:
        done = await render_pending(
            ev.repo,
            executable=settings.evidence_chromium,
            now=datetime.now(UTC),
            timeout_s=settings.evidence_capture_timeout_s,
        )
        if done.skipped_reason:
            return f"no capture rendered: {done.skipped_reason}"
        slowest = max(done.seconds, default=0.0)
        return f"rendered {done.rendered}, failed {done.failed} (slowest {slowest:.2f} s)"

    typer.echo(run(work))


@capture_app.command("take")
def capture_take(target: Annotated[str, typer.Option("--target", help="The target to capture now.")]) -> None:
    """An on-demand capture of the target's latest recorded page, rendered at once when Chromium is here."""
    settings = load_settings()

    async def work(ev: Evidence) -> str:
        capture_id = await ev.recorder.capture_now(target, now=datetime.now(UTC))
        done = await render_pending(
            ev.repo,
            executable=settings.evidence_chromium,
            now=datetime.now(UTC),
            timeout_s=settings.evidence_capture_timeout_s,
        )
        state = "rendered" if done.rendered else f"pending ({done.skipped_reason or 'render failed'})"
        return f"capture {capture_id} of {target}: {state}"

    typer.echo(run(work))


@profile_app.command("set")
def profile_set(
    subscriber: SubscriberOption,
    name: Annotated[str | None, typer.Option("--name", help="Full name as on the permit.")] = None,
    address: Annotated[str | None, typer.Option("--address", help="Postal address (use \\n between lines).")] = None,
    numero: Annotated[str | None, typer.Option("--numero-etranger", help="Numéro étranger (stored encrypted).")] = None,
    expiry: Annotated[
        str | None, typer.Option("--expiry", help="Permit expiry date (reminders, evidence mode).")
    ] = None,
    birth: Annotated[str | None, typer.Option("--birth-date", help="Date of birth.")] = None,
    nationality: Annotated[str | None, typer.Option("--nationality", help="Nationality.")] = None,
) -> None:
    """Set the applicant's data (only the options given change)."""
    changes: dict[str, object] = {}
    if name is not None:
        changes["full_name"] = name.strip()
    if address is not None:
        changes["postal_address"] = address.replace("\\n", "\n").strip()
    if numero is not None:
        changes["numero_etranger"] = numero.strip()
    if expiry is not None:
        changes["permit_expiry"] = parse_day(expiry, "--expiry") if expiry else None
    if birth is not None:
        changes["birth_date"] = parse_day(birth, "--birth-date") if birth else None
    if nationality is not None:
        changes["nationality"] = nationality.strip()

    async def work(ev: Evidence) -> None:
        await ev.store.subscribers.get_subscriber(subscriber)
        await ev.profiles.update(subscriber, now=datetime.now(UTC), **changes)

    run(work)
    typer.echo(f"profile of subscriber {subscriber} saved ({', '.join(sorted(changes)) or 'nothing changed'})")


@profile_app.command("show")
def profile_show(subscriber: SubscriberOption) -> None:
    """Show the profile; the numéro étranger is masked."""
    profile = run(lambda ev: ev.profiles.get(subscriber))
    numero = profile.numero_etranger
    masked = ("•" * max(0, len(numero) - 3) + numero[-3:]) if numero else "-"
    typer.echo(f"name: {profile.full_name or '-'}")
    typer.echo(f"address: {profile.postal_address.replace(chr(10), ', ') or '-'}")
    typer.echo(f"numéro étranger: {masked}")
    typer.echo(f"permit expiry: {profile.permit_expiry or '-'}")


@profile_app.command("calendar")
def profile_calendar(subscriber: SubscriberOption) -> None:
    """Make a new private calendar feed URL (the previous one stops working)."""
    settings = load_settings()
    token = run(lambda ev: ev.profiles.new_ics_token(subscriber, now=datetime.now(UTC)))
    base = (settings.web_base_url or f"http://{settings.web_host}:{settings.web_port}").rstrip("/")
    typer.echo(f"{base}/calendar/{token}.ics")


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Re-encrypt every identifier and letter with CRENEAU_EVIDENCE_KEY (old keys in CRENEAU_EVIDENCE_OLD_KEYS)."""
    changed = run(lambda ev: ev.profiles.rotate())
    typer.echo(f"re-encrypted {changed} values with the current key; the old keys can now be removed")
