# SPDX-License-Identifier: AGPL-3.0-or-later
"""Simulator throughput: requests per second the booking-site simulator serves on one core.

The server runs alone in a child process (pinned to one CPU when the OS allows it) on a mid-sized world
(RDV Préfecture, legacy and ANTS targets with slots, rate rules off); this process drives it with 32
concurrent keep-alive connections and a realistic mix: RDV Préfecture slot pages with live sessions (half),
legacy terms pages and week fragments, ANTS searches. Goal: ≥ 1,000 requests/s.

Run: `.venv/bin/python bench/sim_rps.py`. The last stdout line is one JSON object.
`bench/parse.py` imports `measure_sim_rps`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import re
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from creneau.sim.clock import ManualClock
from creneau.sim.model import Planning, RateRules, SimSlot, SimTarget, World
from creneau.sim.server import SimServer
from creneau.types import System

GOAL_RPS = 1000
CONCURRENCY = 32
T0 = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)
RDV = "www.rdv-prefecture.interieur.gouv.fr"
ANTS = "api.rendezvouspasseport.ants.gouv.fr"
LEGACY_HOSTS = ("www.essonne.gouv.fr", "www.val-doise.gouv.fr", "pprdv.interieur.gouv.fr")
HERE = str(Path(__file__).resolve().parent)
_CHILD = "import asyncio, sys; sys.path.insert(0, {folder!r}); import sim_rps; asyncio.run(sim_rps.serve_forever())"


def bench_world(seed: int = 1) -> World:
    """50 RDV Préfecture démarches, 30 legacy forms (3 guichets), 20 town halls; 20–60 free slots each."""
    rng = random.Random(seed)
    targets: dict[str, SimTarget] = {}
    for i in range(50):
        targets[f"r{i}"] = SimTarget(f"r{i}", System.RDVPREF, RDV, 3000 + i, name="Titre de séjour", city="Ville")
    for i in range(30):
        plannings = tuple(Planning(str(20000 + 10 * i + k), f"Guichet {k + 1}") for k in range(3))
        host = LEGACY_HOSTS[i % len(LEGACY_HOSTS)]
        targets[f"l{i}"] = SimTarget(f"l{i}", System.LEGACY, host, 10000 + i, plannings=plannings, name="Accueil")
    for i in range(20):
        lat, lon = 50.6 + rng.uniform(-0.1, 0.1), 3.05 + rng.uniform(-0.1, 0.1)
        targets[f"a{i}"] = SimTarget(
            f"a{i}", System.ANTS, ANTS, 500 + i, latitude=lat, longitude=lon, city=f"Commune {i}"
        )
    slots: list[SimSlot] = []
    for target in targets.values():
        for _ in range(rng.randint(20, 60)):
            start = T0 + timedelta(days=rng.randint(1, 40), minutes=rng.choice(range(480, 960, 20)) - 480)
            planning = rng.choice(target.plannings).id if target.plannings else None
            slots.append(SimSlot(len(slots) + 1, target.id, start, T0 - timedelta(days=1), None, planning_id=planning))
    rules = RateRules(legacy_burst_rps=0, legacy_hourly_limit=0, rdvpref_challenge_per_min=0, ants_per_min=0)
    return World(targets, slots, rules=rules, seed=seed, session_lifetime_s=10**9, captcha_ttl_s=10**9)


async def serve_forever() -> None:
    """Child process: serve the bench world, print the port, run until killed."""
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[-1]})
    server = SimServer(bench_world(), ManualClock(T0), test_hooks=True)
    await server.start()
    print(server.port, flush=True)
    await asyncio.Event().wait()


async def _open_session(http: aiohttp.ClientSession, base: str, demarche_id: int) -> str:
    """Pass the captcha gate once (as the human would, through the test hook); return the Cookie header."""
    page = f"/rdvpref/reservation/demarche/{demarche_id}/"
    async with http.get(base + page + "cgu/", headers={"Host": RDV}) as r:
        cookie = r.cookies["JSESSIONID"].value
        token = re.search(r'token="([^"]+)"', await r.text())
    assert token is not None
    headers = {"Host": "api.piste.gouv.fr", "Authorization": f"Bearer {token.group(1)}"}
    async with http.get(base + "/piste/captcha/simple-captcha-endpoint?get=html&c=captchaFR", headers=headers) as r:
        found = re.search(r'BDC_VCID_captchaFR" value="([0-9a-f]+)"', await r.text())
    assert found is not None
    async with http.get(f"{base}/__sim__/captcha/{found.group(1)}") as r:
        code = await r.text()
    form = {"captchaId": found.group(1), "captchaUsercode": code}
    headers = {"Host": RDV, "Cookie": f"JSESSIONID={cookie}"}
    async with http.post(base + page + "_validerCaptcha", data=form, headers=headers, allow_redirects=False) as r:
        assert r.headers["Location"].endswith("/creneau/")
    return f"JSESSIONID={cookie}"


async def _requests(http: aiohttp.ClientSession, base: str) -> list[tuple[str, str, dict[str, str]]]:
    """The request mix as (kind, url, headers)."""
    mix: list[tuple[str, str, dict[str, str]]] = []
    for i in range(10):
        cookie = await _open_session(http, base, 3000 + i)
        for week in ("", "?premierJour=18/05/2026"):
            url = f"{base}/rdvpref/reservation/demarche/{3000 + i}/creneau/{week}"
            mix += [("rdvpref_slot_page", url, {"Host": RDV, "Cookie": cookie})] * 5
    for i in range(10):
        host = LEGACY_HOSTS[i % len(LEGACY_HOSTS)]
        mix.append(("legacy_terms_page", f"{base}/booking/create/{10000 + i}/0", {"Host": host}))
        for offset in (0, 7, 14):
            ajax = f"/ezjscore/call/bookingserver::planning::assign::{10000 + i}::{20000 + 10 * i}::{offset}"
            mix.append(("legacy_week_fragment", base + ajax, {"Host": host}))
    query = "longitude=3.05&latitude=50.6&start_date=2026-05-04&end_date=2026-06-30&radius_km=10&reason=CNI&documents_number=1"
    mix += [("ants_search", f"{base}/api/SlotsFromPosition?{query}", {"Host": ANTS})] * 10
    return mix


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux /proc), None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure_sim_rps(seconds: float = 3.0) -> dict[str, object]:
    """Serve the bench world in a child process and measure requests/s over `seconds` (after a warm-up)."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _CHILD.format(folder=HERE),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert child.stdout is not None
        port = int((await asyncio.wait_for(child.stdout.readline(), timeout=60)).decode())
        base = f"http://127.0.0.1:{port}"
        connector = aiohttp.TCPConnector(limit=CONCURRENCY)
        async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar()) as http:
            mix = await _requests(http, base)
            counts: dict[str, int] = {}
            size = errors = 0
            stop_at = 0.0

            async def worker(n: int) -> None:
                nonlocal size, errors
                rng = random.Random(n)
                while time.perf_counter() < stop_at:
                    kind, url, headers = rng.choice(mix)
                    async with http.get(url, headers=headers, allow_redirects=False) as r:
                        body = await r.read()
                    if r.status != 200:
                        errors += 1
                        continue
                    counts[kind] = counts.get(kind, 0) + 1
                    size += len(body)

            stop_at = time.perf_counter() + min(1.0, seconds / 3)  # warm-up: templates, caches, connections
            await asyncio.gather(*(worker(n) for n in range(CONCURRENCY)))
            counts.clear()
            size = errors = 0
            cpu_before = _cpu_seconds(child.pid)
            started = time.perf_counter()
            stop_at = started + seconds
            await asyncio.gather(*(worker(n) for n in range(CONCURRENCY)))
            elapsed = time.perf_counter() - started
            cpu_after = _cpu_seconds(child.pid)
    finally:
        child.kill()
        await child.wait()
    done = sum(counts.values())
    cpu = cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else None
    per_cpu = round(done / cpu, 1) if cpu else None
    return {
        "sim_rps": round(done / elapsed, 1),
        "sim_rps_per_cpu_second": per_cpu,
        "server_cpu_share": round(cpu / elapsed, 2) if cpu else None,
        "goal_rps": GOAL_RPS,
        "ok": (per_cpu or done / elapsed) >= GOAL_RPS,
        "requests": done,
        "errors": errors,
        "seconds": round(elapsed, 2),
        "mean_page_kb": round(size / max(done, 1) / 1024, 1),
        "by_kind": dict(sorted(counts.items())),
    }


def main() -> None:
    print(json.dumps(asyncio.run(measure_sim_rps())))


if __name__ == "__main__":
    main()
