# SPDX-License-Identifier: AGPL-3.0-or-later
"""One opening to 10,000 e-mail and 10,000 Telegram subscribers and one Telegram channel post.

    python bench/fanout.py [--quick] [--postgres] [--window S] [--complete]

The real service on real ports: the monitor checks one ANTS town hall on the simulator and sees a slot; the
detector opens an opening; `complete_check` writes it and one outbox row per (watch, channel) in one
transaction; the sender leases, renders and sends through the real transports. The providers run in a
separate process (`--fakes-child`: SMTP sink, fake Telegram Bot API enforcing its 30 messages/s), as real
providers would, so `peak_rss_mb` is the service's own. `--quick`: 1,000 of each.

The fake Telegram accepts 30 messages/s: 10,000 chats take 333 s, the cap. The benchmark measures the rate
over a window (`--window`, 60 s; 15 s with `--quick`) after the opening and stops there unless
`--complete`; the Telegram messages still queued then are reported as `telegram_pending` (they stay in the
outbox), never as lost; so is the channel post when its turn has not come (`channel_post_s` null). `lost`
counts outbox rows marked sent that no sink received, plus e-mails that never arrived; `duplicates` counts
messages a destination received more than once. `telegram_rate_vs_cap` is the steady rate (past the first
2 s, while the buckets empty) over the fake's 30 messages/s.

`--postgres` then runs the same on PostgreSQL (a private schema) with the monitor here and 3 sender
processes (`--sender-child`), each taking 1/3 of every provider's rate; it is skipped, with the reason,
when no PostgreSQL server is reachable. Goals: `email_last_handoff_s` ≤ 30 s on 2 cores,
`telegram_rate_vs_cap` ≥ 0.95, `channel_post_s` ≤ 2 s, `peak_rss_mb` ≤ 300, `lost` = `duplicates` = 0.
Final stdout line: one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

import _harness as h
from creneau.catalog.core import load_catalog
from creneau.config import load_settings
from creneau.demo import watch_targets
from creneau.monitor.runner import CheckReport
from creneau.notify.fakes.providers import FakeProviders
from creneau.service import Role, Service
from creneau.sim.clock import SystemClock
from creneau.sim.model import SimTarget, World
from creneau.sim.server import SimServer
from creneau.sim.sites.ants import ANTS_HOST
from creneau.store import DeliveryStatus, Store
from creneau.store import models as m
from creneau.types import System

CHANNEL = "@creneau_fanout"
TELEGRAM_CAP = 30.0
SENDERS_ON_POSTGRES = 3
CHILD = [sys.executable, str(Path(__file__).resolve())]


@dataclass(frozen=True, slots=True)
class Run:
    engine: str
    n: int
    window_s: float
    complete: bool
    quick: bool


# --- the providers, in their own process -----------------------------------------------------------------
async def fakes_child(emails: int) -> dict[str, Any]:
    """Serve the fakes; print their settings, then events; on stdin EOF, return what arrived."""
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    async with FakeProviders() as fakes:
        h.stamp(fakes)
        channel_id = fakes.telegram.add_channel(CHANNEL)
        print(json.dumps(fakes.settings_overrides()), flush=True)
        watch = asyncio.create_task(_milestones(fakes, emails, channel_id))
        await stdin.read()  # until the parent closes our stdin
        watch.cancel()
        smtp, telegram = fakes.smtp.messages, fakes.telegram.messages
        return {
            "email": [[at, mail.rcpt_tos[0]] for mail, at in zip(smtp, h.arrivals(smtp), strict=True)],
            "telegram": [[at, str(msg.chat_id)] for msg, at in zip(telegram, h.arrivals(telegram), strict=True)],
            "channel_id": str(channel_id),
        }


async def _milestones(fakes: FakeProviders, emails: int, channel_id: int) -> None:
    """Print `emails_done` when every e-mail arrived and `channel_posted` when the channel post did."""
    seen = 0
    posted = done = False
    while not (posted and done):
        messages = fakes.telegram.messages
        if not posted and any(msg.chat_id == channel_id for msg in messages[seen:]):
            posted = True
            print(json.dumps({"event": "channel_posted"}), flush=True)
        seen = len(messages)
        if not done and len(fakes.smtp.messages) >= emails:
            done = True
            print(json.dumps({"event": "emails_done"}), flush=True)
        await asyncio.sleep(0.05)


async def sender_child() -> None:
    """One sender process (role "sender") built from the CRENEAU_* environment, until SIGTERM."""
    settings = load_settings()
    async with Service(settings, role="sender") as service:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, service.stop)
        print("ready", flush=True)
        await service.run()
    print(json.dumps({"peak_rss_mb": round(h.peak_rss_mb(), 1)}), flush=True)


# --- one run ---------------------------------------------------------------------------------------------
class Child:
    """A child process speaking JSON lines on stdout."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.events: set[str] = set()

    @classmethod
    async def start(cls, *args: str, env: dict[str, str] | None = None) -> Child:
        proc = await asyncio.create_subprocess_exec(
            *CHILD, *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env
        )
        return cls(proc)

    async def line(self) -> str:
        assert self.proc.stdout is not None
        raw = await self.proc.stdout.readline()
        if not raw:
            raise RuntimeError(f"child {self.proc.pid} ended early (exit {await self.proc.wait()})")
        return raw.decode().strip()

    async def until(self, event: str) -> None:
        """Wait for an event line (events seen earlier count)."""
        while event not in self.events:
            self.events.add(json.loads(await self.line()).get("event"))


async def one_run(run: Run, folder: Path, url: str) -> dict[str, Any]:
    ants = SimTarget(
        "ants-fanout", System.ANTS, ANTS_HOST, 95000, name="Mairie de Lille", latitude=50.63, longitude=3.06
    )
    now = datetime.now(UTC)
    world = World({ants.id: ants}, rules=h.NO_RULES, seed=3, start=now)
    world.add_slots([h.slot(1, ants.id, h.bookable_day(now), now)])
    catalog = load_catalog()
    ((target, _),) = watch_targets(world, catalog).values()
    records = folder / f"received-{run.engine}.json"
    fakes = await Child.start("--fakes-child", str(records), str(run.n))
    spawned = [fakes]
    try:
        overrides = json.loads(await fakes.line())
        postgres = run.engine == "postgresql"
        senders = SENDERS_ON_POSTGRES if postgres else 1
        opened: asyncio.Future[tuple[float, float]] = asyncio.get_running_loop().create_future()

        def on_check(report: CheckReport) -> None:
            if any(t.alerts for t in report.transitions) and not opened.done():
                opened.set_result((report.observation.checked_at.timestamp(), time.time()))

        async with SimServer(world, SystemClock()) as sim:
            settings = load_settings(database_url=url, data_dir=folder, route_overrides=sim.route_overrides,
                                     sender_processes=senders, log_level="WARNING", **overrides)  # fmt: skip
            role: Role = "monitor" if postgres else "all"
            async with Service(settings, role=role, catalog=catalog, on_check=on_check) as service:
                assert service.store is not None
                await service.store.targets.upsert_many([target], now=datetime.now(UTC))
                imported = await _subscribe(service.store, target.id, run.n)
                children = []
                if postgres:
                    env = h.env_for_child(settings)
                    children = [await Child.start("--sender-child", env=env) for _ in range(senders)]
                    spawned += children
                    for child in children:
                        assert await child.line() == "ready"
                h.progress(f"{run.engine}: {2 * run.n + 1} subscribers imported in {imported:.1f} s; opening now")
                running = asyncio.create_task(service.run())
                detected, recorded = await asyncio.wait_for(opened, 60)
                await asyncio.wait_for(fakes.until("emails_done"), 300)
                h.progress(f"{run.engine}: every e-mail received {time.time() - detected:.1f} s after the detection")
                # The post waits its turn among the Telegram deliveries: at most until the window's end
                # (quick), or until every Telegram message could have gone (full: 1.2 × n / 30 s).
                post_by = detected + (run.window_s if run.quick else max(run.window_s, 1.2 * run.n / TELEGRAM_CAP))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(fakes.until("channel_posted"), max(0.1, post_by - time.time()))
                if run.complete:
                    await _sent_everything(service.store, 2 * run.n + 1)
                else:
                    await h.sleep_until(detected + run.window_s)
                for child in children:
                    child.proc.send_signal(signal.SIGTERM)
                child_rss = [json.loads(await child.line())["peak_rss_mb"] for child in children]
                service.stop()
                await running
                rows = await _outbox(service.store)
        assert fakes.proc.stdin is not None
        fakes.proc.stdin.close()
        await fakes.proc.wait()
        got = json.loads(await asyncio.to_thread(records.read_text, encoding="utf-8"))
    finally:
        for child in spawned:
            if child.proc.returncode is None:
                child.proc.kill()
                await child.proc.wait()
    figures = _score(run, got, rows, detected)
    figures.update(enqueue_s=round(recorded - detected, 3), import_s=round(imported, 2), sender_processes=senders,
                   peak_rss_mb=round(max([h.peak_rss_mb(), *child_rss]), 1))  # fmt: skip
    return figures


async def _subscribe(store: Store, target_id: str, n: int) -> float:
    started = time.perf_counter()
    people = [h.person([target_id], email=f"e{i}@fanout.example.org") for i in range(n)]
    people += [h.person([target_id], chat=str(1_000_000 + i)) for i in range(n)]
    people.append(h.person([target_id], chat=CHANNEL))
    for batch in h.chunks(people, 5000):
        await store.subscribers.import_subscriptions(batch, now=datetime.now(UTC))
    return time.perf_counter() - started


async def _sent_everything(store: Store, total: int) -> None:
    while True:
        counts = await store.outbox.counts()
        if counts[DeliveryStatus.SENT] + counts[DeliveryStatus.DEAD] >= total:
            return
        await asyncio.sleep(1.0)


async def _outbox(store: Store) -> list[tuple[str, str, str]]:
    """(kind, destination, status) of every delivery."""
    d, c = m.deliveries, m.channels
    async with store.read() as conn:
        rows = await conn.execute(select(c.c.kind, c.c.address, d.c.status).join(c, c.c.id == d.c.channel_id))
        return [(str(kind), str(address), str(status)) for kind, address, status in rows]


def _score(run: Run, got: dict[str, Any], rows: list[tuple[str, str, str]], detected: float) -> dict[str, Any]:
    channel_id = got["channel_id"]
    emails = [(float(at), rcpt) for at, rcpt in got["email"]]
    chats = [(float(at), chat) for at, chat in got["telegram"] if chat != channel_id]
    posts = [float(at) for at, chat in got["telegram"] if chat == channel_id]
    received = Counter([("email", rcpt) for _, rcpt in emails] + [("telegram", chat) for _, chat in chats])
    received.update(("telegram", CHANNEL) for _ in posts)
    duplicates = sum(count - 1 for count in received.values())
    marked = {(kind, address) for kind, address, status in rows if status == "sent"}
    emails_expected = {(kind, address) for kind, address, _ in rows if kind == "email"}
    lost = len({key for key in marked | emails_expected if key not in received})
    times = sorted(at for at, _ in chats)
    # Steady state: past the first 2 s (the buckets start full), messages per second between arrivals.
    steady = [at for at in times if at >= times[0] + 2.0] if times else []
    span = steady[-1] - steady[0] if len(steady) > 1 else 0.0
    rate = (len(steady) - 1) / span if span > 0 else None
    pending = sum(1 for kind, address, status in rows if kind == "telegram" and status != "sent" and address != CHANNEL)
    email_times = sorted(at for at, _ in emails)
    return {
        "engine": run.engine,
        "subscribers": {"email": run.n, "telegram": run.n, "telegram_channel": 1},
        "email_first_handoff_s": h.rounded(email_times[0] - detected) if email_times else None,
        "email_last_handoff_s": h.rounded(email_times[-1] - detected) if email_times else None,
        "email_per_s": round(len(email_times) / (email_times[-1] - detected), 1) if email_times else None,
        "channel_post_s": h.rounded(min(posts) - detected) if posts else None,  # None: not posted when stopped
        "telegram_rate_per_s": h.rounded(rate, 2),
        "telegram_rate_vs_cap": h.rounded(rate / TELEGRAM_CAP) if rate else None,
        "telegram_measured_s": h.rounded(span, 1),
        "telegram_received": len(chats),
        "telegram_pending": pending,
        "lost": lost,
        "duplicates": duplicates,
    }


async def main_async(args: argparse.Namespace, timer: h.Timer) -> dict[str, Any]:
    preload = h.preload_transports()
    n = 1000 if args.quick else 10_000
    window = args.window or (15.0 if args.quick else 60.0)
    engines = ["sqlite", "postgresql"] if args.postgres else ["sqlite"]
    results: dict[str, Any] = {}
    for engine in engines:
        with tempfile.TemporaryDirectory(prefix="creneau-fanout-") as tmp:
            async with h.store_url(engine, Path(tmp)) as url:
                if url is None:
                    results[engine] = {"skipped": "PostgreSQL not reachable"}
                    continue
                results[engine] = await one_run(Run(engine, n, window, args.complete, args.quick), Path(tmp), url)
    figures = dict(results["sqlite"])
    if args.postgres:
        figures["postgresql"] = results["postgresql"]
    figures.update(quick=args.quick, transports_import_s=round(preload, 1), elapsed_s=round(timer.elapsed, 1))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 of each (< 45 s)")
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL with 3 sender processes")
    parser.add_argument("--window", type=float, default=0.0, help="seconds of Telegram sending to measure")
    parser.add_argument("--complete", action="store_true", help="wait for every Telegram message (333 s for 10,000)")
    parser.add_argument("--fakes-child", nargs=2, metavar=("OUT", "EMAILS"), help=argparse.SUPPRESS)
    parser.add_argument("--sender-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fakes_child:
        got = asyncio.run(fakes_child(int(args.fakes_child[1])))
        Path(args.fakes_child[0]).write_text(json.dumps(got), encoding="utf-8")
        return
    if args.sender_child:
        h.quiet_logs()
        asyncio.run(sender_child())
        return
    timer = h.Timer()
    h.quiet_logs()
    with contextlib.suppress(KeyboardInterrupt):
        h.emit(asyncio.run(main_async(args, timer)))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
