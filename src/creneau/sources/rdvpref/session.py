# SPDX-License-Identifier: AGPL-3.0-or-later
"""The session vault: per target, the site cookies a human-answered captcha opened, reused until refused.

One answered captcha opens one site session (`JSESSIONID`); every later check of that target replays it
for as long as the site keeps it (the site decides: a bounce to `/cgu/` ends it). The monitor keeps the
vault in memory; the one-shot CLI uses the file-backed one so `creneau check` run twice reuses it. Cookie
values are secrets: they are never logged and never appear in a repr.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Protocol

from creneau.sources.captcha import StoredCookie, write_private


@dataclass(frozen=True, slots=True)
class SiteSession:
    target_id: str
    cookies: tuple[StoredCookie, ...]
    opened_at: datetime
    last_used_at: datetime


class SessionVault(Protocol):
    async def get(self, target_id: str) -> SiteSession | None: ...

    async def put(self, session: SiteSession) -> None:
        """Keep (or replace) the target's session."""

    async def drop(self, target_id: str) -> None:
        """Forget the target's session (the site refused it)."""


class MemorySessionVault:
    """The monitor's vault: sessions live as long as the process."""

    def __init__(self) -> None:
        self._sessions: dict[str, SiteSession] = {}

    async def get(self, target_id: str) -> SiteSession | None:
        return self._sessions.get(target_id)

    async def put(self, session: SiteSession) -> None:
        self._sessions[session.target_id] = session

    async def drop(self, target_id: str) -> None:
        self._sessions.pop(target_id, None)


class FileSessionVault:
    """One JSON file (0600) per target in `folder`, named by a hash of the target id."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, target_id: str) -> Path:
        return self.folder / f"{hashlib.sha256(target_id.encode()).hexdigest()[:24]}.json"

    async def get(self, target_id: str) -> SiteSession | None:
        return await asyncio.to_thread(self._get, target_id)

    async def put(self, session: SiteSession) -> None:
        await asyncio.to_thread(self._put, session)

    async def drop(self, target_id: str) -> None:
        await asyncio.to_thread(self._path(target_id).unlink, True)

    def _get(self, target_id: str) -> SiteSession | None:
        try:
            data = json.loads(self._path(target_id).read_text(encoding="utf-8"))
            if data["target_id"] != target_id:
                return None
            return SiteSession(
                target_id=target_id,
                cookies=tuple(StoredCookie(**c) for c in data["cookies"]),
                opened_at=datetime.fromisoformat(data["opened_at"]),
                last_used_at=datetime.fromisoformat(data["last_used_at"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _put(self, session: SiteSession) -> None:
        data = {
            "target_id": session.target_id,
            "cookies": [c.to_json() for c in session.cookies],
            "opened_at": session.opened_at.isoformat(),
            "last_used_at": session.last_used_at.isoformat(),
        }
        write_private(self._path(session.target_id), json.dumps(data).encode())


def touched(session: SiteSession, cookies: tuple[StoredCookie, ...], when: datetime) -> SiteSession:
    """The session after one more use (the site may have renewed its cookies)."""
    return replace(session, cookies=cookies or session.cookies, last_used_at=when)
