# SPDX-License-Identifier: AGPL-3.0-or-later
"""Record the simulator's legacy and ANTS pages as replay fixtures.

    .venv/bin/python tests/sources/record_fixtures.py [--check]

Starts the simulator on a free port with a fixed world and clock (Monday 4 May 2026, 08:00 Paris),
walks it with creneau's own HTTP client like a browser and writes the pages the adapters' replay tests
use into tests/sources/{legacy,ants}/fixtures/. The output is deterministic: run it again after a
change of the simulator's pages and review the diff. `--check` only says whether the files are current.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from creneau.sim.clock import ManualClock
from creneau.sim.model import Planning, RateRules, SimSlot, SimTarget, World
from creneau.sim.server import SimServer
from creneau.sources.http import Http
from creneau.types import System

HERE = Path(__file__).parent
NOW = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)
SSD = "www.seine-saint-denis.gouv.fr"
PP = "pprdv.interieur.gouv.fr"
ANTS = "api.rendezvouspasseport.ants.gouv.fr"
GUICHETS = (
    ("17637", "Guichet 1 - Titres de séjour"),
    ("17638", "Guichet 2 - Titres de séjour"),
    ("17639", "Guichet 3"),
)
NO_RULES = RateRules(legacy_burst_rps=0, legacy_hourly_limit=0, rdvpref_challenge_per_min=0, ants_per_min=0)
# Free slots of guichet 17638, Paris times: two in this week, none the next, one the week after (the
# last bookable week). PP form 989: slots only at its second guichet.
SLOTS = ((1, 9, 0), (3, 14, 30), (15, 10, 20))


def world() -> World:
    targets = [
        SimTarget("ssd-9846", System.LEGACY, SSD, 9846, tuple(Planning(p, label) for p, label in GUICHETS), "Titres"),
        SimTarget("pp-989", System.LEGACY, PP, 989, (Planning("990", "Guichet 1"), Planning("1000", "Guichet 2"))),
        SimTarget("ants-vda", System.ANTS, ANTS, 1213, name="Mairie de Villeneuve-d'Ascq", latitude=50.6233,
                  longitude=3.1416, zip_code="59650", city="Villeneuve-d'Ascq"),
        SimTarget("ants-roubaix", System.ANTS, ANTS, 4410, name="Mairie de Roubaix", latitude=50.6903,
                  longitude=3.1746, zip_code="59100", city="Roubaix"),
    ]  # fmt: skip
    base = NOW.replace(hour=0)
    slots = [
        SimSlot(n, "ssd-9846", base + timedelta(days=d, hours=h - 2, minutes=m), NOW - timedelta(days=1), None, "17638")
        for n, (d, h, m) in enumerate(SLOTS, 1)
    ]
    slots.append(SimSlot(10, "pp-989", base + timedelta(days=2, hours=7), NOW - timedelta(days=1), None, "1000"))
    slots += [
        SimSlot(20, "ants-vda", base + timedelta(days=29, hours=8, minutes=20), NOW - timedelta(days=1), None),
        SimSlot(21, "ants-vda", base + timedelta(days=29, hours=8, minutes=40), NOW - timedelta(days=1), None),
        SimSlot(22, "ants-roubaix", base + timedelta(days=42, hours=12), NOW - timedelta(days=1), None),
    ]
    # Seed 3 gives form 9846 the optional "Descriptif" step 3.
    return World({t.id: t for t in targets}, slots, rules=NO_RULES, seed=3)


async def record() -> dict[str, bytes]:
    pages: dict[str, bytes] = {}
    async with (
        SimServer(world(), ManualClock(NOW)) as sim,
        Http(user_agent="creneau-fixtures", route_overrides=sim.route_overrides) as http,
    ):
        form = f"https://{SSD}/booking/create/9846"
        flow = http.flow()
        pages["legacy/terms.html"] = (await flow.get(f"{form}/0")).body
        accept = {"condition": "on", "nextButton": "Effectuer une demande de rendez-vous"}
        pages["legacy/plannings-3-guichets.html"] = (await flow.post(f"{form}/0", accept)).body
        choose = {"nextButton": "Etape suivante"}
        pages["legacy/no-slot-step2.html"] = (await flow.post(f"{form}/1", {"planning": "17637", **choose})).body
        step3 = await flow.post(f"{form}/1", {"planning": "17638", **choose})
        assert step3.path.endswith("/3"), f"form 9846 has no step 3 with this seed: {step3.url}"
        pages["legacy/description-step3.html"] = step3.body
        pages["legacy/calendar-step4.html"] = (await flow.post(f"{form}/3", choose)).body
        week = f"https://{SSD}/ezjscore/call/bookingserver::planning::assign::9846::17638::"
        pages["legacy/week-with-free-cells.html"] = (await flow.get(f"{week}0")).body
        pages["legacy/week-without-free-cell.html"] = (await flow.get(f"{week}7")).body
        pages["legacy/week-last-bookable.html"] = (await flow.get(f"{week}14")).body
        pp = f"https://{PP}/booking/create/989"
        flow = http.flow()
        await flow.get(f"{pp}/0")
        await flow.post(f"{pp}/0", accept)
        pages["legacy/pp-step1-no-slot.html"] = (await flow.post(f"{pp}/1", {"planning": "990", **choose})).body
        search = (
            f"https://{ANTS}/api/SlotsFromPosition?longitude=3.0586&latitude=50.6292&start_date=2026-05-04"
            "&end_date=2026-07-03&radius_km=20&reason=CNI-PASSPORT&documents_number=1"
        )
        pages["ants/slots-from-position-with-slots.json"] = (await http.flow().get(search)).body
        far = search.replace("longitude=3.0586&latitude=50.6292", "longitude=2.3522&latitude=48.8566")
        pages["ants/slots-from-position-empty.json"] = (await http.flow().get(far)).body
    return pages


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report fixtures that differ")
    args = parser.parse_args()
    stale = []
    for name, body in asyncio.run(record()).items():
        path = HERE / name.split("/")[0] / "fixtures" / name.split("/")[1]
        if path.exists() and path.read_bytes() == body:
            continue
        stale.append(name)
        if not args.check:
            path.write_bytes(body)
    print(("stale: " if args.check else "written: ") + (", ".join(stale) or "none"))
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
