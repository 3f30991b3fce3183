# SPDX-License-Identifier: AGPL-3.0-or-later
"""The `creneau` command. Each stage of the pipeline registers its own commands (see COMMAND_MODULES).

Errors the user can fix (a bad URL, a missing file, a bad setting) end as one line on stderr and exit
code 2, never as a traceback.
"""

from __future__ import annotations

import importlib
import sys
from typing import Protocol

import typer

from creneau.config import SettingsError

# Each module exposes `register(app: typer.Typer) -> None`. Order is the order of `creneau --help`.
COMMAND_MODULES = (
    "creneau.sources.cli",
    "creneau.sources.captcha_cli",
    "creneau.sim.cli",
    "creneau.catalog.cli",
    "creneau.store.cli",
    "creneau.pipeline_cli",
    "creneau.evidence.cli",
    "creneau.web.cli",
    "creneau.web.admin_cli",
    "creneau.demo",
)


class CliError(Exception):
    """A problem the user can fix; printed as one line, exit code 2."""


class _Registers(Protocol):
    def register(self, app: typer.Typer) -> None: ...


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="creneau",
        help="Watch French prefecture booking sites and get alerted when a slot opens. Notification only.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    for path in COMMAND_MODULES:
        module: _Registers = importlib.import_module(path)
        module.register(app)
    return app


def fail(message: str) -> CliError:
    """Build the error to raise for a user-fixable problem (keeps call sites short)."""
    return CliError(message)


def main(argv: list[str] | None = None) -> None:
    app = build_app()
    try:
        app(args=argv, standalone_mode=True)
    except (CliError, SettingsError, FileNotFoundError, PermissionError) as exc:
        message = str(exc) if not isinstance(exc, OSError) else f"{exc.strerror}: {exc.filename}"
        typer.echo(f"creneau: error: {message}", err=True)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    # `python -m creneau.cli`: this file runs as `__main__`, while the commands raise `creneau.cli.CliError`;
    # run the imported module's `main` so that it catches them.
    from creneau.cli import main as cli_main

    cli_main()
