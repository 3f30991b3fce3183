# SPDX-License-Identifier: AGPL-3.0-or-later
"""Parser throughput: pages parsed per second per adapter on one core, and the simulator's requests/s.

Pages are the replay fixtures (real legacy captures, pages recorded from the simulator), each grown to
~100 KB with a copy of its own site chrome so every HTML page weighs what a heavy real one does; the ANTS
answer is a realistic search result (40 town halls, 25 slots each, ~115 KB of JSON). Each adapter parses
its pages round-robin for `--seconds`, in this process, single-threaded, and the rate is pages per
CPU second of this process (so a busy machine does not lower it). Goals: ≥ 500 pages/s per HTML
adapter; simulator ≥ 1,000 requests/s (measured by `bench/sim_rps.py` in a child process on one core).

Run: `.venv/bin/python bench/parse.py [--seconds S] [--no-sim]`. The last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from creneau.sources.base import adapter_for
from creneau.types import Outcome, System

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "sources"
TARGET_BYTES = 100_000
GOAL_PAGES_PER_S = 500
GOAL_SIM_RPS = 1000
URLS = {
    System.LEGACY: "https://www.val-doise.gouv.fr/booking/create/11343/2",
    System.RDVPREF: "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/3762/creneau/",
    System.ANTS: "https://api.rendezvouspasseport.ants.gouv.fr/api/SlotsFromPosition",
}


def grown(body: bytes, size: int = TARGET_BYTES) -> bytes:
    """The page with a copy of its own body markup (menus, footer…) inserted until it weighs ~`size`."""
    start = body.find(b">", body.find(b"<body")) + 1
    if start <= 0 or len(body) >= size:
        return body
    chunk = body[start : start + size - len(body)]
    chunk = chunk[: chunk.rfind(b">") + 1]  # end on a tag boundary
    return body[:start] + chunk + body[start:]


def html_pages(system: System) -> list[tuple[str, bytes]]:
    folder = FIXTURES / system.value / "fixtures"
    pages = []
    for path in sorted(folder.glob("*.htm*")):
        body = path.read_bytes()
        if len(body) >= 40_000:  # whole pages; fragments and tiny error pages are not the heavy case
            pages.append((path.name, grown(body)))
    return pages


def ants_answer(points: int = 40, slots: int = 25) -> bytes:
    first = datetime(2026, 6, 1, 7, 0, tzinfo=UTC)
    answer = []
    for i in range(points):
        answer.append(
            {
                "id": str(1000 + i),
                "name": f"Mairie de Commune {i}",
                "longitude": 3.0 + i / 100,
                "latitude": 50.6 + i / 100,
                "public_entry_address": f"{i} place de la Mairie",
                "zip_code": f"59{i:03d}",
                "city_name": f"Commune {i}",
                "website": f"https://www.commune-{i}.fr",
                "city_logo": f"https://www.commune-{i}.fr/logo.png",
                "distance_km": round(i * 0.7, 2),
                "available_slots": [
                    {
                        "datetime": (start := first + timedelta(days=j, minutes=20 * i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "callback_url": f"https://rdv.example-editeur.fr/{1000 + i}/{start:%Y%m%d%H%M}",
                    }
                    for j in range(slots)
                ],
            }
        )
    return json.dumps(answer, ensure_ascii=False).encode()


def rate(system: System, pages: list[tuple[str, bytes]], seconds: float) -> dict[str, object]:
    adapter = adapter_for(system)
    url = URLS[system]
    outcomes: dict[str, int] = {}
    for _, body in pages:  # warm-up, and what each page says
        outcome = adapter.parse(body, url=url).outcome
        outcomes[outcome.value] = outcomes.get(outcome.value, 0) + 1
    done = 0
    # CPU time of this process, not wall time: the figure is per core even on a busy machine.
    started = time.process_time()
    stop_at = time.perf_counter() + seconds
    while time.perf_counter() < stop_at:
        for _, body in pages:
            adapter.parse(body, url=url)
        done += len(pages)
    elapsed = time.process_time() - started
    return {
        "pages_per_s": round(done / elapsed, 1),
        "pages": len(pages),
        "mean_kb": round(sum(len(b) for _, b in pages) / len(pages) / 1024, 1),
        "outcomes": dict(sorted(outcomes.items())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time spent on each adapter")
    parser.add_argument("--no-sim", action="store_true", help="skip the simulator measurement")
    args = parser.parse_args()
    results: dict[str, dict[str, object]] = {}
    for system in (System.LEGACY, System.RDVPREF):
        results[system.value] = rate(system, html_pages(system), args.seconds)
    results["ants"] = rate(System.ANTS, [("search", ants_answer())], args.seconds)
    assert results["ants"]["outcomes"] == {Outcome.SLOTS_AVAILABLE.value: 1}
    for name, figures in results.items():
        print(f"{name:8} {figures['pages_per_s']:>9} pages/s  ({figures['pages']} pages, {figures['mean_kb']} KB)")
    sim: dict[str, object] = {}
    if not args.no_sim:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from sim_rps import measure_sim_rps

        sim = asyncio.run(measure_sim_rps())
        print(f"simulator {sim['sim_rps']} requests/s ({sim['sim_rps_per_cpu_second']} per CPU second)")
    html_rates = [float(str(results[s]["pages_per_s"])) for s in ("legacy", "rdvpref")]
    summary = {
        "legacy_pages_per_s": results["legacy"]["pages_per_s"],
        "rdvpref_pages_per_s": results["rdvpref"]["pages_per_s"],
        "ants_pages_per_s": results["ants"]["pages_per_s"],
        "sim_requests_per_s": sim.get("sim_rps"),
        "sim_requests_per_cpu_s": sim.get("sim_rps_per_cpu_second"),
        "goal_pages_per_s": GOAL_PAGES_PER_S,
        "goal_sim_requests_per_s": GOAL_SIM_RPS,
        "ok": min(html_rates) >= GOAL_PAGES_PER_S and (not sim or bool(sim.get("ok"))),
        "details": results,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
