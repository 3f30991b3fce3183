# SPDX-License-Identifier: AGPL-3.0-or-later
"""`kill -9` in the middle of a fan-out loses nothing: after a restart every delivery completes.

A duplicate may only come from the window between a provider's acceptance and our commit.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from creneau.store import DeliveryStatus, Store

from .builders import T0, later, make_target, opened

CHILD = Path(__file__).with_name("crash_sender.py")
DELIVERIES = 40
LEASE_S = 60


async def _fan_out(store: Store) -> None:
    await store.targets.upsert(make_target("t1"), now=T0)
    subscriber = await store.subscribers.add_subscriber("crowd@example.org", now=T0)
    for i in range(DELIVERIES):
        await store.subscribers.add_channel(subscriber.id, "email", f"person{i}@example.org", {}, now=T0)
    await store.subscribers.add_watch(subscriber.id, ["t1"], now=T0)
    assert (await store.outbox.open_opening_and_enqueue(opened("t1"), now=T0)).deliveries == DELIVERIES


async def _run_child_until_paused(db_url: str, mode: str, pause_after: int) -> tuple[list[int], str]:
    """Start the sender, read its hand-offs until it pauses, SIGKILL it; (handed-off ids, backend pid)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(CHILD),
        db_url,
        T0.isoformat(),
        str(pause_after),
        mode,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    handed_off: list[int] = []
    pid = "-"
    try:
        while True:
            line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode().split()
            if not line:
                errors = (await proc.stderr.read()).decode()
                pytest.fail(f"the sender ended before pausing: {errors[-2000:]}")
            if line[0] == "sent":
                handed_off.append(int(line[1]))
            elif line[0] == "paused":
                pid = line[1]
                break
    finally:
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
    assert proc.returncode == -signal.SIGKILL
    return handed_off, pid


@pytest.mark.parametrize(
    ("mode", "pause_after", "window"),
    [
        pytest.param("handoff", 15, 1, id="after-handoff-before-commit"),
        pytest.param("transaction", 15, 10, id="inside-uncommitted-transaction"),
    ],
)
async def test_fan_out_completes_every_delivery_when_sender_is_killed_mid_way(
    store: Store, db_url: str, mode: str, pause_after: int, window: int
) -> None:
    await _fan_out(store)
    handed_off, pid = await _run_child_until_paused(db_url, mode, pause_after)
    if store.is_postgres and pid != "-":
        async with store.read() as conn:  # the server notices the dead client by itself; this only waits for it
            await conn.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": int(pid)})

    counts = await store.outbox.counts()
    assert counts[DeliveryStatus.SENT] == len(handed_off) - window
    assert counts[DeliveryStatus.LEASED] > 0
    assert counts[DeliveryStatus.LEASED] + counts[DeliveryStatus.PENDING] == DELIVERIES - counts[DeliveryStatus.SENT]

    early = await store.outbox.lease_deliveries("restarted", later(LEASE_S - 1), 50, LEASE_S)
    assert len(early) == counts[DeliveryStatus.PENDING], "the dead sender's leases come back only when they expire"
    await store.outbox.mark_sent_many([(d, None) for d in early], now=later(LEASE_S - 1))
    resent = [d.id for d in early]
    while batch := await store.outbox.lease_deliveries("restarted", later(LEASE_S), 7, LEASE_S):
        resent.extend(d.id for d in batch)
        assert await store.outbox.mark_sent_many([(d, None) for d in batch], now=later(LEASE_S)) == {
            d.id for d in batch
        }

    assert (await store.outbox.counts())[DeliveryStatus.SENT] == DELIVERIES
    assert len(set(handed_off) | set(resent)) == DELIVERIES, "a delivery was lost"
    assert len(resent) == len(set(resent))
    assert len(set(handed_off) & set(resent)) == window, "duplicates only for hand-offs whose commit was lost"
