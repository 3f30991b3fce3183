# SPDX-License-Identifier: AGPL-3.0-or-later
"""Web benchmark: the status board and the public API with 2,000 targets on SQLite, 100 concurrent clients.

The store is a SQLite file seeded like a few days of service: 2,000 targets over the catalog's offices, a
history of checks per target (`--history`, with announced publications on some), openings with slot
lifetimes, and people watching some targets. While the load runs, checks keep being recorded
(`--checks-per-s`), so the board's rows change between snapshots as they do in service.

The app runs as `creneau web` in its own process (uvicorn + uvloop on a free port of 127.0.0.1); the load
generator is this process: `--clients` keep-alive browser connections (each keeps its cookies) asking for
a mix of board pages (first page, a département, a later page), target pages and API calls (status pages,
a département's status, targets, one target's detail, the openings feed). Target ids are drawn at random
over all 2,000, so most target pages and details are read from the store, not from a cache. Two phases:

- `closed`: every client asks again as soon as it has its answer (a stress test: the server sets the pace,
  and the latency is mostly waiting in line: about clients ÷ requests per second);
- `paced`: every client waits a random pause of mean `--think-s` between requests, like people reading.

With `--pin` (the default on a machine with 2 cores or more) the server runs on one core and the load
generator on another, so neither takes the other's CPU; the figures include the CPU each side used.
Goal: p95 ≤ 50 ms over every request. Per phase: requests/s, p50/p95/p99 overall and per route group, the
CPU of each side, and how old the board's snapshot was while the load ran (its freshness).

Run: `.venv/bin/python bench/web.py [--requests N] [--clients N] [--targets N] [--history N] [--no-pin]`.
The last stdout line is one JSON object (the top-level `p95_ms`/`goal_met` are the closed loop's).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import insert, update

from _harness import emit, percentile, person, progress, rounded
from _webload import CpuMeter, load, summarise, write_checks
from creneau.catalog.core import load_catalog
from creneau.catalog.urls import RDVPREF_HOST
from creneau.store import Store
from creneau.store import models as m
from creneau.target_ids import target_id
from creneau.types import Outcome, System, Target

GOAL_P95_MS = 50.0
OUTCOMES = [Outcome.NO_SLOTS] * 12 + [Outcome.SLOTS_AVAILABLE, Outcome.HUMAN_CHECK_REQUIRED, Outcome.BLOCKED]
CHUNK = 20_000


def _observation(t: Target, at: datetime, outcome: Outcome, announce: datetime | None) -> dict[str, Any]:
    notices = []
    if announce is not None and outcome is Outcome.NO_SLOTS:
        notices = [{"kind": "next_publication", "instant": announce.isoformat(), "week_of": None, "text": "bench"}]
    return {
        "target_id": t.id, "checked_at": at, "outcome": outcome.value, "evidence": "bench", "slots": [],
        "notices": notices, "http_status": 200, "duration_s": 0.3, "url": t.url, "page": "", "page_digest": None,
        "retry_after_s": None,
    }  # fmt: skip


async def seed(url: str, count: int, history: int) -> list[tuple[str, str]]:
    """`count` targets over the catalog's offices with `history` checks each, openings with slots and some
    watchers; returns (target id, département) of every target."""
    catalog = load_catalog()
    offices = sorted(catalog.offices.values(), key=lambda o: o.id)
    rng = random.Random(7)
    now = datetime.now(UTC)
    targets = [
        Target(
            id=target_id(System.RDVPREF, RDVPREF_HOST, 10_000 + n),
            system=System.RDVPREF,
            url=f"https://{RDVPREF_HOST}/rdvpref/reservation/demarche/{10_000 + n}/",
            office_id=offices[n % len(offices)].id,
            demarche_key=rng.choice(["sejour.first", "sejour.renewal", "sejour.other", "natz.declaration"]),
            demarche_id=10_000 + n,
            label=f"bench {n}",
        )
        for n in range(count)
    ]
    store = await Store.open(url)
    try:
        await store.targets.upsert_many(targets, now=now)
        observations: list[dict[str, Any]] = []
        async with store.write() as tx:
            for t in targets:
                announce = now + timedelta(days=rng.randint(1, 6)) if rng.random() < 0.3 else None
                at = now - timedelta(seconds=rng.randint(5, 600))
                outcome = rng.choice(OUTCOMES)
                await tx.conn.execute(
                    update(m.targets)
                    .where(m.targets.c.id == t.id)
                    .values(last_outcome=outcome.value, last_checked_at=at)
                )
                for k in range(history):
                    observations.append(_observation(t, at - timedelta(minutes=5 * k), outcome, announce))
                    outcome = rng.choice(OUTCOMES)
                if len(observations) >= CHUNK:
                    await tx.conn.execute(insert(m.observations), observations)
                    observations = []
            if observations:
                await tx.conn.execute(insert(m.observations), observations)
            await _openings(tx.conn, targets, now, rng)
        people = [person([t.id for t in targets[n : n + 2]], email=f"p{n}@bench.example") for n in range(0, count, 4)]
        await store.subscribers.import_subscriptions(people, now=now)
    finally:
        await store.close()
    return [(t.id, catalog.offices[t.office_id].departement) for t in targets]


async def _openings(conn: Any, targets: list[Target], now: datetime, rng: random.Random) -> None:
    """1 to 4 past openings on every third target, each with 1 to 3 slots and their lifetimes."""
    rows, slots = [], []
    opening_id = 0
    for t in targets[::3]:
        for seq in range(1, rng.randint(2, 5)):
            opening_id += 1
            started = now - timedelta(hours=rng.randint(1, 24 * 20), minutes=rng.randint(0, 59))
            ended = started + timedelta(minutes=rng.randint(1, 40))
            rows.append({"id": opening_id, "target_id": t.id, "seq": seq, "started_at": started, "ended_at": ended,
                         "reason": "slots", "first_slots": []})  # fmt: skip
            for s in range(rng.randint(1, 3)):
                start = started + timedelta(days=3, hours=s)
                slots.append({"opening_id": opening_id, "slot_key": f"{start.isoformat()}|G{s}", "start": start,
                              "guichet": f"G{s}", "guichet_label": None, "place": None, "ref": None,
                              "first_seen": started, "last_seen": ended, "gone_at": ended})  # fmt: skip
    await conn.execute(insert(m.openings), rows)
    await conn.execute(insert(m.opening_slots), slots)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def mix(targets: list[tuple[str, str]], rng: random.Random) -> list[tuple[str, str]]:
    """One round of the request mix: (group, path)."""
    depts = sorted({d for _, d in targets})
    dept = rng.choice(depts)
    return [
        ("board", "/status"),
        ("board", f"/status?dept={dept}"),
        ("board", f"/status?page={rng.randint(2, 20)}"),
        ("target_page", f"/targets/{rng.choice(targets)[0]}"),
        ("api_status", f"/api/v1/status?limit=100&offset={rng.randrange(0, 2000, 100)}"),
        ("api_status", f"/api/v1/status?departement={dept}"),
        ("api_targets", f"/api/v1/targets?departement={dept}"),
        ("api_target", f"/api/v1/targets/{rng.choice(targets)[0]}"),
        ("api_openings", "/api/v1/openings?limit=50"),
    ]


async def wait_ready(base: str, process: asyncio.subprocess.Process) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            if process.returncode is not None:
                raise SystemExit(f"creneau web exited with {process.returncode}")
            try:
                async with session.get(base + "/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("creneau web did not start")


def workload(targets: list[tuple[str, str]], total: int, seed_value: int) -> Iterator[tuple[str, str]]:
    rng = random.Random(seed_value)
    work: list[tuple[str, str]] = []
    while len(work) < total:
        work.extend(mix(targets, rng))
    rng.shuffle(work)
    return iter(work[:total])


async def phase(
    port: int, pid: int, targets: list[tuple[str, str]], args: argparse.Namespace, *, total: int, think_s: float
) -> dict[str, Any]:
    """One measured phase: `args.clients` browsers, closed loop (`think_s` 0) or paced."""
    meter = CpuMeter(pid)
    meter.start()
    done = asyncio.Event()
    ages = asyncio.create_task(snapshot_ages(port, done))
    try:
        timings, errors = await load(port, workload(targets, total, 11), args.clients, think_s=think_s, seed=13)
    finally:
        done.set()
    cpu = meter.stop()
    age = await ages
    summary = summarise(timings, percentile)
    count = summary["n"]
    return {
        "think_s": think_s,
        "requests": count,
        "errors": errors,
        "rps": round(count / cpu["elapsed_s"], 1),
        **{k: v for k, v in summary.items() if k != "groups"},
        **cpu,
        "server_cpu_ms_per_request": round(1000 * cpu.pop("server_cpu_s") / count, 3),
        "snapshot_age_s": {"p50": rounded(percentile(age, 50), 2), "max": rounded(max(age, default=None), 2)},
        "goal_met": summary["p95_ms"] is not None and summary["p95_ms"] <= GOAL_P95_MS and errors == 0,
        "groups": summary["groups"],
    }


async def snapshot_ages(port: int, done: asyncio.Event) -> list[float]:
    """How old the board's snapshot is, twice a second while the load runs (its freshness under load)."""
    ages: list[float] = []
    async with aiohttp.ClientSession() as session:
        while not done.is_set():
            async with session.get(f"http://127.0.0.1:{port}/api/v1/status?limit=1") as response:
                generated = datetime.fromisoformat((await response.json())["generated_at"])
            ages.append((datetime.now(UTC) - generated).total_seconds())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), 0.5)
    return ages


async def measure(port: int, pid: int, targets: list[tuple[str, str]], args: argparse.Namespace) -> dict[str, Any]:
    await load(port, workload(targets, min(1000, args.requests), 3), args.clients)  # warm-up
    progress(f"closed loop: {args.clients} clients, {args.requests} requests")
    phases = {"closed": await phase(port, pid, targets, args, total=args.requests, think_s=0.0)}
    if args.paced_requests:
        progress(f"paced: {args.clients} clients, one request every {args.think_s} s on average each")
        phases["paced"] = await phase(port, pid, targets, args, total=args.paced_requests, think_s=args.think_s)
    return phases


async def run(args: argparse.Namespace) -> dict[str, object]:
    folder = Path(tempfile.mkdtemp(prefix="creneau-bench-web-"))
    url = f"sqlite+aiosqlite:///{folder / 'creneau.sqlite3'}"
    started = time.perf_counter()
    targets = await seed(url, args.targets, args.history)
    seed_s = time.perf_counter() - started
    progress(f"seeded {args.targets} targets × {args.history} checks in {seed_s:.1f} s")
    port = free_port()
    env = os.environ | {
        "CRENEAU_DATA_DIR": str(folder), "CRENEAU_DATABASE_URL": url, "CRENEAU_WEB_SECRET": "b" * 40,
        "CRENEAU_LOG_LEVEL": "WARNING",
    }  # fmt: skip
    cores = sorted(os.sched_getaffinity(0))
    pin = args.pin and len(cores) >= 2
    cmd = [sys.executable, "-m", "creneau.cli", "web", "--port", str(port)]
    if pin:
        cmd = ["taskset", "-c", str(cores[0]), *cmd]
        os.sched_setaffinity(0, {cores[1]})
    process = await asyncio.create_subprocess_exec(
        *cmd, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    stop = asyncio.Event()
    async with asyncio.TaskGroup() as group:
        writer = group.create_task(write_checks(url, [t for t, _ in targets], args.checks_per_s, stop))
        try:
            await wait_ready(f"http://127.0.0.1:{port}", process)
            phases = await measure(port, process.pid, targets, args)
        finally:
            stop.set()
            process.terminate()
            await asyncio.wait_for(process.wait(), 30)
    checks = writer.result()
    closed = phases["closed"]
    return {
        "bench": "web",
        "targets": args.targets,
        "history": args.history,
        "clients": args.clients,
        "seed_s": round(seed_s, 2),
        "pinned": pin,
        "checks_written": checks,
        "goal_p95_ms": GOAL_P95_MS,
        "rps": closed["rps"],
        "p95_ms": closed["p95_ms"],
        "goal_met": closed["goal_met"],
        "paced_goal_met": phases["paced"]["goal_met"] if "paced" in phases else None,
        **phases,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--targets", type=int, default=2000)
    parser.add_argument("--history", type=int, default=100, help="checks kept per target")
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--requests", type=int, default=10_000, help="closed-loop requests")
    parser.add_argument("--paced-requests", type=int, default=3_000, help="paced requests (0: no paced phase)")
    parser.add_argument("--think-s", type=float, default=1.0, help="mean pause between a paced client's requests")
    parser.add_argument("--checks-per-s", type=float, default=10.0, help="checks recorded while the load runs")
    parser.add_argument("--pin", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    emit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
