# SPDX-License-Identifier: AGPL-3.0-or-later
"""Child process of test_crash: a sender that is SIGKILLed mid-way through a fan-out.

Usage: crash_sender.py URL NOW PAUSE_AFTER MODE. It leases deliveries in batches of 10 at NOW (ISO) and
"sends" each one by printing `sent <id>` (the provider accepted it) before marking it sent. After
PAUSE_AFTER hand-offs it prints `paused <backend pid or ->` and waits forever, to be killed:
- MODE handoff: right after a hand-off, before that delivery's mark_sent;
- MODE transaction: inside an uncommitted write transaction that marks its whole batch sent.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime

from sqlalchemy import text, update

from creneau.store import Store
from creneau.store.models import deliveries


async def pause_forever(pid: str) -> None:
    print(f"paused {pid}", flush=True)
    await asyncio.Event().wait()


async def main(url: str, now: datetime, pause_after: int, mode: str) -> None:
    store = await Store.open(url, migrate_to=None)
    handed_off = 0
    while batch := await store.outbox.lease_deliveries("child", now, 10, 60):
        if mode == "handoff":
            for delivery in batch:
                print(f"sent {delivery.id}", flush=True)
                handed_off += 1
                if handed_off == pause_after:
                    await pause_forever("-")
                await store.outbox.mark_sent(delivery, now=now)
            continue
        for delivery in batch:
            print(f"sent {delivery.id}", flush=True)
        handed_off += len(batch)
        if handed_off >= pause_after:
            async with store.write() as tx:
                ids = [d.id for d in batch]
                await tx.conn.execute(update(deliveries).where(deliveries.c.id.in_(ids)).values(status="sent"))
                pid = "-"
                if store.is_postgres:
                    pid = str((await tx.conn.execute(text("SELECT pg_backend_pid()"))).scalar())
                await pause_forever(pid)
        await store.outbox.mark_sent_many([(d, None) for d in batch], now=now)
    print("finished", flush=True)
    await store.close()


if __name__ == "__main__":
    url, now, pause_after, mode = sys.argv[1:5]
    asyncio.run(main(url, datetime.fromisoformat(now), int(pause_after), mode))
