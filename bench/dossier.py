# SPDX-License-Identifier: AGPL-3.0-or-later
"""Benchmark: a 90-day evidence dossier with 90 captures, and the time of one capture.

    python bench/dossier.py [--days 90] [--per-day 480] [--lang fr]

Seeds a SQLite store with one watch's chain (`--per-day` checks a day, the monitor's 3-minute cadence,
plus one capture a day), renders real captures of a recorded "no slot" page in Chromium (cold: browser
start + render; warm: render only), then builds the dossier PDF in a child process so that its peak
memory (max RSS) is measured alone, and verifies it. Goals: dossier ≤ 20 s and ≤ 400 MB, one capture
≤ 3 s with the browser running (the cold figure adds starting Chromium). The last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from creneau.evidence import chain, dossier, dossier_data
from creneau.evidence.capture import Banner, Renderer, chromium_problem, jpeg_preview
from creneau.evidence.crypto import Keyring
from creneau.evidence.recorder import utc_text
from creneau.evidence.records import Profile
from creneau.evidence.repo import EvidenceRepo, PageCopy, keep_page
from creneau.store import Store
from creneau.store.evidence import captures, chains, entries
from creneau.types import PARIS, System, Target

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "tests" / "sources" / "rdvpref" / "fixtures" / "creneau_empty.html"
URL = "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/4243/creneau/"
KEY = "bench-evidence-key"
START = date(2026, 2, 1)
CHROMIUM = "/usr/bin/chromium"


async def render_samples(
    raw: bytes, count: int
) -> tuple[list[tuple[bytes, bytes, int, int]], float | None, float | None]:
    """`count` real captures; (shots, cold seconds for the first incl. browser start, warm median)."""
    banner = Banner(datetime(2026, 2, 1, 7, tzinfo=UTC), "Préfecture de Police", "Titre de séjour", URL, "0" * 64)
    shots = []
    warm: list[float] = []
    started = time.perf_counter()
    cold = None
    async with Renderer(CHROMIUM) as renderer:
        for i in range(count):
            t = time.perf_counter()
            shot = await renderer.render(raw, url=URL, banner=banner)
            preview = jpeg_preview(shot.png)
            if i == 0:
                cold = time.perf_counter() - started
            else:
                warm.append(time.perf_counter() - t)
            shots.append((shot.png, preview, shot.width, shot.height))
    return shots, cold, sorted(warm)[len(warm) // 2] if warm else None


async def seed(db: Path, days: int, per_day: int, shots: list[tuple[bytes, bytes, int, int]]) -> int:
    store = await Store.open(f"sqlite+aiosqlite:///{db}")
    t0 = datetime.combine(START, datetime.min.time(), tzinfo=PARIS).astimezone(UTC)
    target = Target("bench-pp", System.RDVPREF, URL, office_id="pref-75", demarche_key="titre-sejour")
    await store.targets.upsert(target, now=t0)
    subscriber = await store.subscribers.add_subscriber("bench@example.org", now=t0)
    watch = await store.subscribers.add_watch(subscriber.id, [target.id], now=t0)
    repo = EvidenceRepo(store)
    info = await repo.enable(watch.id, now=t0)
    raw = PAGE.read_bytes()
    page = PageCopy.of(raw)
    prev, seq = info.head_hash, 0
    async with store.write() as tx:
        await keep_page(tx.conn, page, t0)
        for day in range(days):
            rows = []
            for k in range(per_day):
                at = t0 + timedelta(days=day, seconds=k * 86_400 // per_day + 7)
                seq += 1
                body = {
                    "kind": "attempt",
                    "at": utc_text(at),
                    "at_paris": at.astimezone(PARIS).isoformat(),
                    "target": target.id,
                    "office": "Préfecture de Police",
                    "demarche": "Titre de séjour",
                    "url": URL,
                    "outcome": "no_slots",
                    "http_status": 200,
                    "page_sha256": page.digest,
                    "slots": 0,
                }
                entry = chain.append(prev, seq, body)
                prev = entry.hash
                rows.append(_row(watch.id, entry, at, target.id, "no_slots", page.digest, None))
                if k == 0:
                    png, preview, width, height = shots[day % len(shots)]
                    capture_id = (
                        await tx.conn.execute(
                            captures.insert()
                            .values(
                                target_id=target.id,
                                day=at.astimezone(PARIS).date(),
                                on_demand=False,
                                taken_at=at,
                                url=URL,
                                office="Préfecture de Police",
                                demarche="Titre de séjour",
                                page_digest=page.digest,
                                status="rendered",
                                png=png,
                                png_sha256=hashlib.sha256(png).hexdigest(),
                                preview=preview,
                                width=width,
                                height=height,
                                rendered_at=at,
                            )
                            .returning(captures.c.id)
                        )
                    ).scalar_one()
                    seq += 1
                    capture = chain.append(prev, seq, {"kind": "capture", "capture": capture_id, "at": utc_text(at)})
                    prev = capture.hash
                    rows.append(_row(watch.id, capture, at, target.id, "", page.digest, capture_id))
            await tx.conn.execute(entries.insert(), rows)
        await tx.conn.execute(chains.update().where(chains.c.watch_id == watch.id).values(head_seq=seq, head_hash=prev))
    await store.close()
    return watch.id


def _row(
    watch_id: int, entry: chain.Entry, at: datetime, target: str, outcome: str, digest: str, capture: int | None
) -> dict[str, object]:
    return {
        "watch_id": watch_id,
        "seq": entry.seq,
        "kind": "capture" if capture else "attempt",
        "at": at,
        "target_id": target,
        "outcome": outcome,
        "page_digest": digest,
        "capture_id": capture,
        "prev": entry.prev,
        "hash": entry.hash,
        "body": entry.body_text,
    }


async def build(db: Path, watch_id: int, days: int, lang: str, out: Path) -> dict[str, object]:
    """The measured part (run in a child process): gather, lay out, write, verify."""
    started = time.perf_counter()
    cpu = time.process_time()
    store = await Store.open(f"sqlite+aiosqlite:///{db}")
    repo = EvidenceRepo(store)
    keyring = Keyring(KEY)
    last = START + timedelta(days=days - 1)
    now = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=PARIS)
    profile = Profile(1, full_name="Amina Diallo", numero_etranger="7501234567")
    data = await dossier_data.gather(repo, profile, watch_id, START, last, keyring=keyring, now=now)
    images = await dossier.load_images(data, repo.capture_preview)
    await store.close()
    gathered = time.perf_counter() - started
    rss_gathered = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pdf = dossier.build_pdf(data, lang, images)
    built = time.perf_counter() - started
    built_cpu = time.process_time() - cpu
    rss_built = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    await asyncio.to_thread(out.write_bytes, pdf)
    verdict = dossier.verify_bytes(pdf, check_seal=keyring.check_seal)
    from pypdf import PdfReader

    pages = len(PdfReader(out).pages)
    return {
        "gather_s": round(gathered, 2),
        "dossier_s": round(built, 2),
        "dossier_cpu_s": round(built_cpu, 2),
        "verify_s": round(time.perf_counter() - started - built, 2),
        "attempts": data.attempts,
        "captures": len(data.captures),
        "pages": pages,
        "pdf_mb": round(len(pdf) / 1e6, 2),
        "verified": verdict.ok,
        "peak_mb": round(rss_built, 1),
        "peak_gather_mb": round(rss_gathered, 1),
        "peak_with_verify_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--per-day", type=int, default=480)
    parser.add_argument("--lang", default="fr")
    parser.add_argument("--child", nargs=2, metavar=("DB", "WATCH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        db, watch = Path(args.child[0]), int(args.child[1])
        result = asyncio.run(build(db, watch, args.days, args.lang, db.with_suffix(".pdf")))
        print(json.dumps(result))
        return
    raw = PAGE.read_bytes()
    problem = chromium_problem(CHROMIUM)
    cold = warm = None
    if problem is None:
        shots, cold, warm = asyncio.run(render_samples(raw, 4))
    else:
        print(f"captures not rendered: {problem}; using a tiny PNG", file=sys.stderr)
        from creneau.evidence.capture import jpeg_preview as _jp

        tiny = _tiny_png()
        shots = [(tiny, _jp(tiny), 1, 1)]
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.sqlite3"
        t = time.perf_counter()
        watch_id = asyncio.run(seed(db, args.days, args.per_day, shots))
        seeded = time.perf_counter() - t
        child = subprocess.run(
            [
                sys.executable,
                __file__,
                "--days",
                str(args.days),
                "--lang",
                args.lang,
                "--child",
                str(db),
                str(watch_id),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(child.stdout.strip().splitlines()[-1])
    result.update(
        days=args.days,
        per_day=args.per_day,
        seed_s=round(seeded, 1),
        capture_cold_s=round(cold, 2) if cold is not None else None,
        capture_warm_s=round(warm, 2) if warm is not None else None,
        capture_skipped=problem,
        goal_dossier_s=20,
        goal_peak_mb=400,
        goal_capture_s=3,
    )
    result["ok"] = bool(
        result["verified"] and result["dossier_s"] <= 20 and result["peak_mb"] <= 400 and (warm is None or warm <= 3)
    )
    print(json.dumps(result))


def _tiny_png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(out, format="PNG")
    return out.getvalue()


if __name__ == "__main__":
    main()
