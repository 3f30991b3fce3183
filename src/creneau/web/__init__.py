# SPDX-License-Identifier: AGPL-3.0-or-later
"""The web app: public pages, status board, JSON API and accounts. Build it with `create_app` (see app.py
and docs/web.md)."""

from creneau.web.app import create_app

__all__ = ["create_app"]
