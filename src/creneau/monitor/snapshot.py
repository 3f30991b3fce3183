# SPDX-License-Identifier: AGPL-3.0-or-later
"""What the scheduling policy learned, kept across restarts in `data_dir/monitor-policy.json`.

The store stays the source of truth for every target's schedule and health (next check, failures, backoff,
pause): a monitor rebuilds those from it. The snapshot only carries what the store has no column for: the
learned timing of each target (release windows, per-block intervals, duration statistics), the request
ledger and each host's politeness counters (so a restart does not reset a daily budget). A missing or
unreadable snapshot means starting to learn again, never a failure. Several monitor processes on one machine
share the file: the last to save wins, which only costs some learning.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

from creneau.monitor.policy import Policy, PolicySettings
from creneau.sources.captcha import write_private

log = logging.getLogger(__name__)

POLICY_FILE = "monitor-policy.json"


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


async def load_policy(path: Path, settings: PolicySettings) -> Policy:
    """The saved policy with today's `settings` (host limits, budget), or a fresh one."""
    try:
        text = await asyncio.to_thread(_read, path)
        if text is None:
            return Policy(settings)
        return Policy.from_dict(json.loads(text), settings)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("cannot read the monitor's saved policy %s (%s); learning again from scratch", path, exc)
        return Policy(settings)


async def save_policy(policy: Policy, path: Path) -> None:
    """Write the snapshot atomically (a crash mid-write leaves the previous one)."""
    data = json.dumps(policy.to_dict(), separators=(",", ":")).encode()
    await asyncio.to_thread(write_private, path, data)
