# SPDX-License-Identifier: AGPL-3.0-or-later
"""`creneau demo`: the whole service on one machine, against the simulator, with a live view.

Everything runs on 127.0.0.1 and nothing reaches the real sites:

- the simulator plays a scenario (default `sim/scenarios/demo.yaml`, starting now) on a `ScenarioClock`
  running `--speed` times faster than real time;
- the fake providers: SMTP sink, Telegram Bot API, ntfy and webhook sinks;
- the service (monitor + sender, `creneau.service.Service`) on SQLite in `--data-dir` (default
  `./var/demo`, emptied at start), its HTTP client sending the official URLs to the simulator
  (`route_overrides`, as `CRENEAU_ROUTE_OVERRIDES` would);
- the web app on `--web-port` (`--no-web` to skip it).

The simulator's targets become watchable targets under their official URLs (the catalog's own record when
it has one for that URL, so alerts carry the catalog's names). Three demo subscribers watch them on every
channel kind. RDV Préfecture targets sit behind a captcha: creneau never solves one, so the demo shows
"needs a human check" and lets the person answer it (`demo_terminal`), or from another terminal with
`creneau captcha solve`.

`run_demo(options, console=…)` is the whole demo as a coroutine (the CLI and the tests call it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import signal
import socket
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from creneau.catalog.core import Catalog
from creneau.cli import fail
from creneau.config import Settings, load_settings
from creneau.demo_view import DemoView
from creneau.notify.fakes.providers import FakeProviders
from creneau.sim.model import SimTarget, World
from creneau.store import Store
from creneau.types import AntsCriteria, System, Target

DEFAULT_SCENARIO = Path(__file__).parent / "sim" / "scenarios" / "demo.yaml"
DEFAULT_DATA_DIR = Path("var/demo")
MARKER = ".creneau-demo"  # marks a folder the demo made, so it may empty it at the next start
WEBHOOK_SECRET = "creneau-demo-webhook-secret"  # noqa: S105 - the local webhook sink's, nothing else
ANTS_RADIUS_KM = 5.0
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DemoOptions:
    """`duration_s` None: until Ctrl-C. `web_port` None: no web app. `live` None: a live screen when the
    output is a terminal, one line per event otherwise."""

    scenario: Path = DEFAULT_SCENARIO
    speed: float = 1.0
    duration_s: float | None = None
    web_port: int | None = 8000
    data_dir: Path = DEFAULT_DATA_DIR
    live: bool | None = None
    log_file: bool = False  # the service's logs go to `<data dir>/demo.log` (the view owns the terminal)


@dataclass(frozen=True, slots=True)
class DemoPerson:
    """A demo subscriber; `systems` narrows the watch to those booking systems (empty: every target)."""

    name: str
    email: str
    locale: str
    telegram: str | None = None
    ntfy: str | None = None
    webhook_path: str | None = None
    systems: tuple[System, ...] = ()


PEOPLE = (
    DemoPerson("Camille", "camille@example.org", "fr", "424242", "camille-creneau-demo", "/camille"),
    DemoPerson("Alex", "alex@example.org", "en", "515151", systems=(System.LEGACY, System.ANTS)),
    DemoPerson("Canal @creneau_demo", "canal@example.org", "fr", "@creneau_demo"),
)


@dataclass(frozen=True, slots=True)
class DemoResult:
    """What happened, counted by the view and the sinks (`received`: messages that reached each sink)."""

    checks: int
    by_outcome: Mapping[str, int]
    openings: int
    alerts: int
    sent: Mapping[str, int]
    received: Mapping[str, int]
    captchas: int


# --- set-up ----------------------------------------------------------------------------------------------
def load_world(path: Path, now: datetime) -> World:
    """The scenario's world, `start: now` meaning `now`. Raises CliError (one line) on a bad file."""
    from creneau.sim.scenario import ScenarioError, load_scenario

    if not path.is_file():
        raise fail(f"scenario file not found: {path}")
    try:
        return load_scenario(path, now=now)
    except ScenarioError as exc:
        raise fail(str(exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read {path}: {exc}") from None


def watch_targets(world: World, catalog: Catalog) -> dict[str, tuple[Target, SimTarget]]:
    """Each simulated target as the `Target` creneau watches, under its official URL and the id any other
    part of creneau gives that page (`target_ids.target_id`), by target id. The catalog's own record wins
    when it has one for that URL, so alerts carry the catalog's names."""
    from creneau.sources.ants.urls import API_HOST, search_url
    from creneau.target_ids import target_id

    by_url = {target.url: target for target in catalog.watch_targets()}
    found: dict[str, tuple[Target, SimTarget]] = {}
    for sim in world.targets.values():
        label = sim.name or sim.id
        if sim.system is System.ANTS:
            criteria = AntsCriteria(sim.longitude, sim.latitude, radius_km=ANTS_RADIUS_KM)
            tid = target_id(System.ANTS, API_HOST, None, criteria)
            target = Target(tid, System.ANTS, search_url(criteria), demarche_key=criteria.reason, ants=criteria,
                            label=label)  # fmt: skip
        else:
            guichets = {p.id: p.label for p in sim.plannings}
            tid = target_id(sim.system, sim.host, sim.demarche_id)
            target = by_url.get(sim.url) or Target(
                tid, sim.system, sim.url, demarche_id=sim.demarche_id, guichets=guichets, label=label
            )
        found[target.id] = (target, sim)
    return found


def prepare_data_dir(path: Path) -> Path:
    """An empty folder for this run: a new one, or one an earlier demo made (emptied). Raises CliError for
    a folder with other content, which the demo must not delete."""
    if path.exists():
        if not path.is_dir():
            raise fail(f"--data-dir {path} is a file, not a folder")
        if any(path.iterdir()) and not (path / MARKER).exists():
            raise fail(f"--data-dir {path} is not empty and was not made by creneau demo; choose another folder")
        try:
            shutil.rmtree(path)
        except OSError as exc:
            raise fail(f"cannot empty {path}: {exc.strerror or exc}") from None
    try:
        path.mkdir(parents=True)
        (path / MARKER).write_text("made by `creneau demo`; emptied at each start\n", encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot create {path}: {exc.strerror or exc}") from None
    return path


def demo_settings(
    data_dir: Path, sim_overrides: dict[str, str], fakes: FakeProviders, speed: float, web_port: int = 8000
) -> Settings:
    """SQLite in `data_dir`, official URLs routed to the simulator, every channel to the fakes.

    The service measures leases with the scenario clock but sleeps and sends in real time: leases are
    lengthened by `speed` (a send must not outlive its lease) and the legacy request gap shortened by it
    (the simulated sites see the default spacing in their own time).
    """
    legacy_gap_s = Settings.model_fields["legacy_request_gap_s"].default
    return load_settings(
        data_dir=data_dir,
        database_url=f"sqlite+aiosqlite:///{(data_dir / 'creneau.sqlite3').as_posix()}",
        route_overrides=sim_overrides,
        legacy_request_gap_s=legacy_gap_s / speed,
        poll_s=max(0.1, min(5.0, 5.0 / speed)),
        monitor_lease_s=300.0 * max(1.0, speed),
        sender_lease_s=120.0 * max(1.0, speed),
        shutdown_grace_s=3.0,
        web_host="127.0.0.1",
        web_port=web_port,
        **fakes.settings_overrides(),
    )


async def enrol_people(
    store: Store, fakes: FakeProviders, targets: Mapping[str, tuple[Target, SimTarget]], now: datetime
) -> int:
    """Put the demo targets in the store and the demo subscribers with their watches; returns how many
    watches were added."""
    from creneau.pipeline_admin import ChannelInput, enrol, validate_channels

    await store.targets.upsert_many([target for target, _ in targets.values()], now=now)
    fakes.telegram.add_channel("@creneau_demo")
    watches = 0
    for person in PEOPLE:
        webhook = fakes.webhook.endpoint(person.webhook_path) if person.webhook_path else None
        wanted = ChannelInput(person.email, person.telegram, person.ntfy, webhook, WEBHOOK_SECRET if webhook else None)
        channels = await validate_channels(wanted, allow_private=True)
        subscriber = await enrol(store, channels, locale=person.locale, name=person.name, now=now)
        ids = [tid for tid, (t, _) in targets.items() if not person.systems or t.system in person.systems]
        if ids:
            await store.subscribers.add_watch(subscriber, ids, now=now, label="demo")
            watches += 1
    return watches


def sink_counts(fakes: FakeProviders) -> dict[str, int]:
    return {
        "email": len(fakes.smtp.messages),
        "telegram": len(fakes.telegram.messages),
        "ntfy": len(fakes.ntfy.messages),
        "webhook": len(fakes.webhook.received),
    }


# --- the run ---------------------------------------------------------------------------------------------
async def run_demo(
    options: DemoOptions,
    *,
    console: Console | None = None,
    stop: asyncio.Event | None = None,
) -> DemoResult:
    """Run the demo until `stop` is set (Ctrl-C) or `options.duration_s` has passed.

    Raises CliError (one line) for a bad scenario, data folder or busy web port.
    """
    from creneau.demo_session import bind_web

    console = console or Console()
    stop = stop or asyncio.Event()
    now = datetime.now(UTC)
    world = load_world(options.scenario, now)
    data_dir = prepare_data_dir(options.data_dir)
    web_socket = bind_web(options.web_port) if options.web_port is not None else None
    try:
        with _log_to(data_dir / "demo.log") if options.log_file else contextlib.nullcontext():
            return await _play(options, world, now, data_dir, web_socket, console, stop)
    finally:
        if web_socket is not None:
            web_socket.close()


async def _play(
    options: DemoOptions,
    world: World,
    now: datetime,
    data_dir: Path,
    web_socket: socket.socket | None,
    console: Console,
    stop: asyncio.Event,
) -> DemoResult:
    from creneau.catalog.core import load_catalog
    from creneau.demo_session import DemoSession
    from creneau.service import Service
    from creneau.sim.clock import ScenarioClock
    from creneau.sim.server import SimServer

    catalog = load_catalog(data_dir)
    targets = watch_targets(world, catalog)
    clock = ScenarioClock(world.start or now, speed=options.speed)
    async with SimServer(world, clock) as sim, FakeProviders(webhook_secret=WEBHOOK_SECRET) as fakes:
        web_port = web_socket.getsockname()[1] if web_socket is not None else 8000
        settings = demo_settings(data_dir, sim.route_overrides, fakes, options.speed, web_port)
        live = console.is_terminal if options.live is None else options.live
        names = {tid: (sim_target.name or target.label, target.system.value)
                 for tid, (target, sim_target) in targets.items()}  # fmt: skip
        view = DemoView(console, clock, names, lambda: sink_counts(fakes), live=live)
        view.header = [
            f"simulator {sim.base_url} · scenario {options.scenario.name} at ×{options.speed:g} · "
            f"data {data_dir} · fakes: SMTP :{fakes.smtp.port}, Telegram {fakes.telegram.api_base}",
            "each target is checked about every 3 scenario minutes, more often around announced publications",
        ]
        service = Service(settings, clock=clock, catalog=catalog, on_check=view.on_check, on_delivery=view.on_delivery)
        async with service:
            assert service.store is not None
            await enrol_people(service.store, fakes, targets, clock.now())
            await DemoSession(service, view, settings, web_socket, catalog, stop=stop).run(options.duration_s)
        result = _result(view)
        console.print(view.summary(result.received), soft_wrap=True)
        return result


@contextlib.contextmanager
def _log_to(path: Path) -> Iterator[None]:
    """Send the service's logs to a file while the demo runs (the view owns the terminal)."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
        handler.close()


def _result(view: DemoView) -> DemoResult:
    totals = view.totals
    return DemoResult(
        checks=totals.checks,
        by_outcome=dict(totals.by_outcome),
        openings=totals.openings,
        alerts=totals.alerts,
        sent=dict(totals.sent),
        received=dict(view.received()),
        captchas=len(totals.captchas),
    )


# --- the command -----------------------------------------------------------------------------------------
def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    scenario: Annotated[
        Path | None,
        typer.Option("--scenario", help="Scenario file (YAML, docs/scenarios.md); default: the shipped demo.yaml."),
    ] = None,
    speed: Annotated[float, typer.Option("--speed", help="Scenario seconds per real second.")] = 1.0,
    duration: Annotated[
        float | None, typer.Option("--duration", help="Stop by itself after this many seconds (default: Ctrl-C).")
    ] = None,
    web_port: Annotated[int, typer.Option("--web-port", help="Port of the web app on 127.0.0.1.")] = 8000,
    no_web: Annotated[bool, typer.Option("--no-web", help="Do not start the web app.")] = False,
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="Folder for the demo's database and captchas (emptied at start).")
    ] = DEFAULT_DATA_DIR,
) -> None:
    """Run creneau against the booking-site simulator and local fake providers, with a live view."""
    if not 0 < speed <= 1000:
        raise fail("--speed must be above 0 and at most 1000")
    if duration is not None and not duration > 0:
        raise fail("--duration must be a positive number of seconds")
    if not 0 <= web_port <= 65535:
        raise fail("--web-port must be between 0 and 65535")
    web = None if no_web else web_port
    options = DemoOptions(scenario or DEFAULT_SCENARIO, speed, duration, web, data_dir, log_file=True)
    asyncio.run(_main(options))


async def _main(options: DemoOptions) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    main = asyncio.current_task()

    def on_signal() -> None:
        if stop.is_set() and main is not None:
            main.cancel()  # a second Ctrl-C: stop waiting for in-flight work
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, on_signal)
    try:
        await run_demo(options, stop=stop)
    except asyncio.CancelledError:
        typer.echo("creneau demo: stopped before in-flight work finished", err=True)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)
    sys.stdout.flush()
