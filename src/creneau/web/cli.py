# SPDX-License-Identifier: AGPL-3.0-or-later
"""`creneau web [--host H] [--port N]`: the web app alone, i.e. `creneau serve --role web`.

The pipeline (`creneau serve --role monitor|sender`) may run in other processes on the same database; the
board shows what they record.
"""

from __future__ import annotations

import typer

from creneau.serve_cli import HostOption, PortOption, serve


def register(app: typer.Typer) -> None:
    app.command("web")(web)


def web(host: HostOption = None, port: PortOption = None) -> None:
    """Serve the web app alone (same as `creneau serve --role web`; default 127.0.0.1:8000)."""
    serve(role="web", host=host, port=port, no_web=False, once=False)
