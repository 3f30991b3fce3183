# SPDX-License-Identifier: AGPL-3.0-or-later
"""From a slot published on the simulator to a message at the SMTP sink and at the fake Telegram, in real time.

    python bench/pipeline.py [--quick] [--seed N]

Real time, real HTTP, the real service (`Service`: monitor runner, detector, outbox, sender, transports) on
SQLite, the simulator and the fake providers on 127.0.0.1. Every watched target has one subscriber with an
e-mail and a Telegram chat; each publication must reach both. Two methods, measured apart:

- **forced** (legacy forms on distinct hosts and ANTS town halls): the moment a publication becomes
  visible, the benchmark moves its target's next check to now (`store.targets.reschedule`), so the figure is
  the pipeline's — check, detection, outbox, sender, transport — and not the 3-minute cadence. A legacy
  check walks several pages with the polite `legacy_request_gap_s` between them: its figures include that.
- **announced** (RDV Préfecture, not in `--quick`): the real policy alone. The pages show "Prochaine mise en
  ligne … à HH:MM" (whole minutes); the policy checks at those instants and every 10 s after, while each
  batch becomes visible 0–50 s after its instant (the backend's cache lag). The captchas are answered
  through the simulator's test hook, standing in for the person at the captcha desk.

Figures: `publish_to_inbox_p50_s` / `_p95_s` (publication visible → message at the sink), `detect_to_handoff_p95_s`
(the observation that saw the slots → the provider accepted the message; the sinks stamp what they accept;
goal ≤ 1 s), per system and per method. Final stdout line: one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import random
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

import _harness as h
from creneau.catalog.core import load_catalog
from creneau.demo import watch_targets
from creneau.monitor.runner import CheckReport
from creneau.notify.fakes.providers import FakeProviders
from creneau.service import Service
from creneau.sim.clock import SystemClock
from creneau.sim.model import Planning, Publication, SimTarget, World
from creneau.sim.server import SimServer
from creneau.sim.sites.ants import ANTS_HOST
from creneau.sim.sites.rdvpref import RDVPREF_HOST
from creneau.sources.captcha import FileCaptchaDesk
from creneau.store import Store
from creneau.types import PARIS, System

GOAL_DETECT_TO_HANDOFF_S = 1.0
LEGACY_HOSTS = ("www.essonne.gouv.fr", "www.val-doise.gouv.fr", "www.yvelines.gouv.fr", "www.hauts-de-seine.gouv.fr",
                "www.seine-saint-denis.gouv.fr", "www.val-de-marne.gouv.fr", "www.nord.gouv.fr", "www.rhone.gouv.fr")  # fmt: skip
TOWNS = ((44.84, -0.58, "Bordeaux"), (43.60, 1.44, "Toulouse"), (45.76, 4.84, "Lyon"), (47.22, -1.55, "Nantes"))
METHOD = (
    "forced: each publication's target is checked the moment the publication becomes visible (the pipeline, not "
    "the cadence); announced: the real policy checks RDV Préfecture at the instants its notices give, captchas "
    "answered through the simulator's test hook in the person's place"
)


@dataclass(frozen=True, slots=True)
class Shape:
    legacy: int
    ants: int
    rdvpref: int
    rounds: int  # forced publications per legacy/ANTS target


QUICK = Shape(legacy=3, ants=2, rdvpref=0, rounds=1)
FULL = Shape(legacy=8, ants=4, rdvpref=6, rounds=3)


@dataclass(frozen=True, slots=True)
class Pub:
    target_id: str
    system: System
    method: str
    visible: float  # wall clock
    label: str  # the slot's HH:MM (Paris), which the alert shows


def sim_targets(shape: Shape) -> list[SimTarget]:
    found = [SimTarget(f"leg{i}", System.LEGACY, LEGACY_HOSTS[i], 91000 + i, (Planning(str(92000 + i), "Guichet A"),),
                       name=f"Préfecture {LEGACY_HOSTS[i].split('.')[1]}") for i in range(shape.legacy)]  # fmt: skip
    found += [SimTarget(f"ants{i}", System.ANTS, ANTS_HOST, 93000 + i, name=f"Mairie de {TOWNS[i][2]}",
                        latitude=TOWNS[i][0], longitude=TOWNS[i][1], city=TOWNS[i][2]) for i in range(shape.ants)]  # fmt: skip
    found += [SimTarget(f"rdv{i}", System.RDVPREF, RDVPREF_HOST, 94000 + i, name=f"Démarche {94000 + i}")
              for i in range(shape.rdvpref)]  # fmt: skip
    return found


def plan(world: World, ids: dict[str, str], shape: Shape, rng: random.Random, base: float) -> list[Pub]:
    """Add the publications to the world: forced ones from `base` on, announced ones at whole minutes."""
    pubs: list[Pub] = []
    day = h.bookable_day(datetime.fromtimestamp(base, UTC))
    forced = [t for t in world.targets.values() if t.system is not System.RDVPREF]
    ants_seen = 0
    for rnd in range(shape.rounds):
        for i, target in enumerate(forced):
            offset = rnd * 25.0 + i * 1.5
            if target.system is System.ANTS:  # one ANTS host: its checks at least 3 s apart (politeness)
                offset = max(offset, ants_seen * 4.0)
                ants_seen += 1
            pubs.append(_publish(world, ids, target, "forced", base + offset, day + timedelta(minutes=15 * rnd)))
    rdv = [t for t in world.targets.values() if t.system is System.RDVPREF]
    first_minute = math.ceil((base + 40) / 60) * 60
    for i, target in enumerate(rdv):
        instant = datetime.fromtimestamp(first_minute + 60 * (i // 2), UTC)
        lag = rng.uniform(0, 50)
        pub = Publication(len(world.publications) + 1, target.id, instant, instant + timedelta(seconds=lag),
                          day.astimezone(PARIS).date(), announced_at=instant - timedelta(hours=1), size=1,
                          mode="scheduled")  # fmt: skip
        world.publications.append(pub)
        pubs.append(_publish(world, ids, target, "announced", instant.timestamp() + lag, day + timedelta(hours=i)))
    return pubs


def _publish(world: World, ids: dict[str, str], target: SimTarget, method: str, visible: float, start: datetime) -> Pub:
    planning = target.plannings[0].id if target.plannings else None
    slot_id = len(world.slots) + 1
    world.add_slots([h.slot(slot_id, target.id, start, datetime.fromtimestamp(visible, UTC), planning)])
    label = start.astimezone(PARIS).strftime("%H:%M")
    return Pub(ids[target.id], target.system, method, visible, label)


async def force_checks(store: Store, pubs: list[Pub], checked: dict[str, asyncio.Event]) -> None:
    """At each forced publication's visibility, check its target now (after its first check is recorded)."""
    for pub in sorted((p for p in pubs if p.method == "forced"), key=lambda p: p.visible):
        await h.sleep_until(pub.visible)
        await checked[pub.target_id].wait()
        await store.targets.reschedule(pub.target_id, datetime.now(UTC), only_earlier=True)


async def play_human(desk: FileCaptchaDesk, hook_base: str) -> None:
    """Answer each captcha the way a person at the desk would, reading the code from the test hook."""
    async with aiohttp.ClientSession() as session:
        while True:
            for challenge in await desk.pending(datetime.now(UTC)):
                async with session.get(f"{hook_base}/__sim__/captcha/{challenge.captcha_id}") as answer:
                    if answer.status == 200:
                        await desk.answer(challenge.id, await answer.text(), datetime.now(UTC))
            await asyncio.sleep(0.2)


def received(
    fakes: FakeProviders, email_of: dict[str, str], chat_of: dict[str, str]
) -> list[tuple[str, str, float, str]]:
    """(target id, sink, arrival wall time, text) of every message the two sinks accepted."""
    by_email = {v: k for k, v in email_of.items()}
    by_chat = {v: k for k, v in chat_of.items()}
    found = []
    for mail, at in zip(fakes.smtp.messages, h.arrivals(fakes.smtp.messages), strict=True):
        body = mail.message.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        found.append((by_email.get(mail.rcpt_tos[0], "?"), "email", at, text))
    for sent, at in zip(fakes.telegram.messages, h.arrivals(fakes.telegram.messages), strict=True):
        found.append((by_chat.get(str(sent.chat_id), "?"), "telegram", at, sent.plain))
    return found


def score(
    pubs: list[Pub], messages: list[tuple[str, str, float, str]], checks: list[tuple[float, CheckReport]]
) -> dict[str, Any]:
    """Match each publication with its first message at each sink (the alert names the slot's HH:MM)."""
    alerting: dict[str, list[float]] = defaultdict(list)
    for report in checks:
        if any(t.alerts for t in report.transitions):
            alerting[report.target_id].append(report.observation.checked_at.timestamp())
    inbox: dict[str, list[float]] = defaultdict(list)
    handoff: dict[str, list[float]] = defaultdict(list)
    missed: list[str] = []
    for pub in pubs:
        for sink in ("email", "telegram"):
            times = [at for tid, s, at, text in messages if tid == pub.target_id and s == sink and pub.label in text]
            if not times:
                missed.append(f"{pub.method} {pub.target_id} {pub.label} {sink}")
                continue
            arrival = min(times)
            inbox[pub.method].append(arrival - pub.visible)
            inbox[pub.system.value].append(arrival - pub.visible)
            detected = [t for t in alerting[pub.target_id] if pub.visible <= t <= arrival]
            if detected:
                handoff[pub.method].append(arrival - max(detected))
    forced_inbox, forced_handoff = inbox["forced"], handoff["forced"]
    every_handoff = handoff["forced"] + handoff["announced"]
    figures: dict[str, Any] = {
        "publish_to_inbox_p50_s": h.rounded(h.percentile(forced_inbox, 50)),
        "publish_to_inbox_p95_s": h.rounded(h.percentile(forced_inbox, 95)),
        "detect_to_handoff_p50_s": h.rounded(h.percentile(every_handoff, 50)),
        "detect_to_handoff_p95_s": h.rounded(h.percentile(every_handoff, 95)),
        "detect_to_handoff_goal_s": GOAL_DETECT_TO_HANDOFF_S,
        "forced_detect_to_handoff_p95_s": h.rounded(h.percentile(forced_handoff, 95)),
        "announced_publish_to_inbox_p50_s": h.rounded(h.percentile(inbox["announced"], 50)),
        "announced_publish_to_inbox_p95_s": h.rounded(h.percentile(inbox["announced"], 95)),
        "announced_detect_to_handoff_p95_s": h.rounded(h.percentile(handoff["announced"], 95)),
        "by_system": {
            system.value: {
                "publish_to_inbox_p50_s": h.rounded(h.percentile(inbox[system.value], 50)),
                "publish_to_inbox_p95_s": h.rounded(h.percentile(inbox[system.value], 95)),
                "messages": len(inbox[system.value]),
            }
            for system in System
            if inbox[system.value]
        },
        "publications": len(pubs),
        "messages_expected": 2 * len(pubs),
        "messages_matched": sum(len(v) for k, v in inbox.items() if k in ("forced", "announced")),
        "missed": len(missed),
        "missed_messages": missed,
    }
    return figures


async def run(shape: Shape, seed: int, timer: h.Timer) -> dict[str, Any]:
    preload = h.preload_transports()
    world = World({t.id: t for t in sim_targets(shape)}, rules=h.NO_RULES, seed=seed, start=datetime.now(UTC))
    catalog = load_catalog()
    ids = {sim.id: target.id for target, sim in watch_targets(world, catalog).values()}
    targets = [target for target, _ in watch_targets(world, catalog).values()]
    email_of = {tid: f"t{i}@bench.example.org" for i, tid in enumerate(sorted(ids.values()))}
    chat_of = {tid: str(800_000 + i) for i, tid in enumerate(sorted(ids.values()))}
    clock = SystemClock()
    checks: list[CheckReport] = []
    checked = {tid: asyncio.Event() for tid in ids.values()}

    def on_check(report: CheckReport) -> None:
        checks.append(report)
        checked[report.target_id].set()

    with tempfile.TemporaryDirectory(prefix="creneau-bench-") as tmp:
        folder = Path(tmp)
        async with (
            SimServer(world, clock, test_hooks=True) as sim,
            FakeProviders() as fakes,
            h.store_url("sqlite", folder) as url,
        ):
            assert url is not None
            h.stamp(fakes)
            settings = h.bench_settings(url, folder, fakes, route_overrides=sim.route_overrides, poll_s=1.0)
            async with Service(settings, clock=clock, catalog=catalog, on_check=on_check) as service:
                store = service.store
                assert store is not None
                now = datetime.now(UTC)
                await store.targets.upsert_many(targets, now=now)
                people = [h.person([tid], email=email_of[tid], chat=chat_of[tid]) for tid in ids.values()]
                await store.subscribers.import_subscriptions(people, now=now)
                pubs = plan(world, ids, shape, random.Random(seed), time.time() + 6.0)
                last = max(p.visible for p in pubs)
                h.progress(f"{len(pubs)} publications over {last - time.time():.0f} s (set-up {timer.elapsed:.1f} s, "
                           f"transports imported in {preload:.1f} s)")  # fmt: skip
                helpers = [
                    asyncio.create_task(force_checks(store, pubs, checked)),
                    asyncio.create_task(play_human(FileCaptchaDesk(folder / "captcha"), sim.base_url)),
                ]
                running = asyncio.create_task(service.run())
                # Announced batches: the policy's dense checks go on until 180 s after the instant.
                wait_s = last - time.time() + (20.0 if shape is QUICK else 180.0)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait_s):
                        await fakes.smtp.messages.wait_for(len(pubs), timeout_s=wait_s)
                        await fakes.telegram.messages.wait_for(len(pubs), timeout_s=wait_s)
                service.stop()
                await running
                for task in helpers:
                    task.cancel()
                await asyncio.gather(*helpers, return_exceptions=True)
            figures = score(pubs, received(fakes, email_of, chat_of), checks)
    figures.update(method=METHOD, quick=shape is QUICK, elapsed_s=round(timer.elapsed, 1),
                   peak_rss_mb=round(h.peak_rss_mb(), 1), checks=len(checks))  # fmt: skip
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer publications, forced method only (< 45 s)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    timer = h.Timer()
    h.quiet_logs()
    h.emit(asyncio.run(run(QUICK if args.quick else FULL, args.seed, timer)))


if __name__ == "__main__":
    main()
