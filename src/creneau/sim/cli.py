# SPDX-License-Identifier: AGPL-3.0-or-later
"""Commands of creneau.sim: `creneau sim` runs the booking-site simulator on a real port."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from creneau.sim.model import World


def register(app: typer.Typer) -> None:
    """Add this stage's commands to the main app."""
    app.command("sim")(sim)


def sim(
    scenario: Annotated[Path, typer.Option("--scenario", help="Scenario file (YAML), see docs/scenarios.md.")],
    port: Annotated[int, typer.Option("--port", help="TCP port to listen on (0: any free port).")] = 8950,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    truth: Annotated[
        Path | None, typer.Option("--truth", help="Write the ground-truth log (JSON lines) to this file.")
    ] = None,
    speed: Annotated[float, typer.Option("--speed", help="Scenario seconds per real second.")] = 1.0,
    test_hooks: Annotated[
        bool, typer.Option("--test-hooks", help="Enable /__sim__/ hooks (captcha answers). For tests only.")
    ] = False,
) -> None:
    """Run the booking-site simulator: RDV Préfecture, the legacy booking module and ANTS, on one port."""
    from creneau.cli import fail

    if not speed > 0:
        raise fail("--speed must be a positive number")
    if not 0 <= port <= 65535:
        raise fail("--port must be between 0 and 65535")
    world = _load(scenario)
    if truth is not None:
        _write_truth(world, truth)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(world, host=host, port=port, speed=speed, test_hooks=test_hooks))


def _load(path: Path) -> World:
    from creneau.cli import fail
    from creneau.sim.scenario import ScenarioError, load_scenario

    if not path.is_file():
        raise fail(f"scenario file not found: {path}")
    try:
        return load_scenario(path)
    except ScenarioError as exc:
        raise fail(str(exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read {path}: {exc}") from None


def _write_truth(world: World, path: Path) -> None:
    from creneau.cli import fail
    from creneau.sim.truth import write_truth

    try:
        write_truth(world, path)
    except OSError as exc:
        raise fail(f"cannot write {path}: {exc.strerror}") from None


async def _serve(world: World, *, host: str, port: int, speed: float, test_hooks: bool) -> None:
    from creneau.cli import fail
    from creneau.sim.clock import ScenarioClock
    from creneau.sim.server import SimServer
    from creneau.types import System

    clock = ScenarioClock(world.start or datetime.now(UTC), speed=speed)
    server = SimServer(world, clock, host=host, port=port, test_hooks=test_hooks)
    try:
        await server.start()
    except OSError as exc:
        raise fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    counts = ", ".join(f"{system.value} {len(world.targets_of(system))}" for system in System)
    typer.echo(f"creneau sim: {len(world.targets)} targets ({counts}) at {server.base_url}")
    typer.echo(f"scenario time {clock.now().isoformat()}, speed ×{speed:g}" + (", test hooks ON" if test_hooks else ""))
    typer.echo(f"export CRENEAU_ROUTE_OVERRIDES='{server.route_overrides_json()}'")
    typer.echo("Press Ctrl-C to stop.")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop()
