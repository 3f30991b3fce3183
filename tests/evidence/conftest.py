# SPDX-License-Identifier: AGPL-3.0-or-later
"""Evidence fixtures: the pipeline kit's migrated store on SQLite and PostgreSQL, a keyring, and a
watched target with evidence mode on (`world`)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.pipeline_kit import db_url, pg_url  # noqa: F401  (shared store fixtures)
from tests.pipeline_kit import migrated_sqlite as migrated_sqlite
from tests.pipeline_kit import store as store

from creneau.evidence.crypto import Keyring
from creneau.evidence.profiles import ProfileRepo
from creneau.evidence.recorder import EvidenceRecorder
from creneau.evidence.repo import EvidenceRepo
from creneau.store import Store
from creneau.types import Demarche, Observation, Office, Outcome, Slot, System, Target

FIXTURES = Path(__file__).resolve().parents[1] / "sources" / "rdvpref" / "fixtures"
NO_SLOT_PAGE = (FIXTURES / "creneau_empty.html").read_bytes()
T0 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # Monday 2 March 2026, 08:00 in Paris
URL = "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/4243/creneau/"


@pytest.fixture
def sqlite_url(tmp_path: Path, migrated_sqlite: Path) -> str:
    """A migrated SQLite file of its own: for modules whose behaviour does not depend on the engine (they
    override `db_url` with it; the repository tests run on both engines)."""
    path = tmp_path / "store.sqlite3"
    shutil.copyfile(migrated_sqlite, path)
    return f"sqlite+aiosqlite:///{path}"


async def seed_watch(store: Store, email: str, *, checks: int = 3) -> int:
    """A person watching `make_target()` with evidence mode on and `checks` hourly no-slot checks recorded;
    returns the watch id."""
    target = make_target()
    await store.targets.upsert(target, now=T0)
    person = await store.subscribers.find_subscriber(email) or await store.subscribers.add_subscriber(email, now=T0)
    watch = await store.subscribers.add_watch(person.id, [target.id], now=T0)
    repo = EvidenceRepo(store)
    await repo.enable(watch.id, now=T0)
    recorder = EvidenceRecorder(repo, describe=describe)
    for k in range(checks):
        await recorder.record(target, observation(target, T0 + timedelta(hours=k)))
    return watch.id


@pytest.fixture
def keyring() -> Keyring:
    return Keyring("test-evidence-key")


OFFICE = Office("pref-75", "Préfecture de Police", "prefecture", "75", "Paris")
DEMARCHE = Demarche("titre-sejour", "Titre de séjour", "Residence permit")


def describe(target: Target) -> tuple[Office | None, Demarche | None]:
    return OFFICE, DEMARCHE


def make_target(name: str = "pp-titre") -> Target:
    return Target(name, System.RDVPREF, URL, office_id="pref-75", demarche_key="titre-sejour", label=name)


def observation(
    target: Target, at: datetime, outcome: Outcome = Outcome.NO_SLOTS, *, page: bytes = NO_SLOT_PAGE, status: int = 200
) -> Observation:
    slots = (Slot(at + timedelta(days=30)),) if outcome is Outcome.SLOTS_AVAILABLE else ()
    return Observation(
        target_id=target.id,
        checked_at=at,
        outcome=outcome,
        evidence="test",
        slots=slots,
        http_status=status,
        url=target.url,
        raw_page=page,
    )


@dataclass
class World:
    store: Store
    repo: EvidenceRepo
    recorder: EvidenceRecorder
    profiles: ProfileRepo
    target: Target
    owner: int
    watch: int
    stranger: int
    stranger_watch: int


@pytest.fixture
async def world(store: Store, keyring: Keyring) -> World:
    """Owner and stranger both watch the same target, both with evidence mode on."""
    target = make_target()
    await store.targets.upsert(target, now=T0)
    owner = await store.subscribers.add_subscriber("owner@example.org", now=T0, name="Owner")
    stranger = await store.subscribers.add_subscriber("stranger@example.org", now=T0, name="Stranger")
    watch = await store.subscribers.add_watch(owner.id, [target.id], now=T0)
    other = await store.subscribers.add_watch(stranger.id, [target.id], now=T0)
    repo = EvidenceRepo(store)
    await repo.enable(watch.id, now=T0)
    await repo.enable(other.id, now=T0)
    return World(
        store, repo, EvidenceRecorder(repo, describe=describe), ProfileRepo(store, keyring), target, owner.id,
        watch.id, stranger.id, other.id,
    )  # fmt: skip
