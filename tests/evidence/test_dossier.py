# SPDX-License-Identifier: AGPL-3.0-or-later
"""The dossier PDF: it opens, shows the expected counts in both languages, carries a chain that verifies,
and holds nothing about anyone else."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from creneau.evidence import chain, dossier
from creneau.evidence.crypto import Keyring
from creneau.evidence.dossier_data import NoEvidence, gather
from creneau.evidence.records import Profile
from creneau.types import Outcome

from .conftest import T0, World, observation


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    return sqlite_url


PROFILE = {"full_name": "Amina Diallo", "numero_etranger": "7501234567"}


async def fill(world: World) -> None:
    """Three days: 4 no-slot checks a day, one unavailable on day 2, one with slots on day 3; a gap on day 4."""
    for day in range(3):
        for k in range(4):
            await world.recorder.record(
                world.target, observation(world.target, T0 + timedelta(days=day, minutes=3 * k))
            )
    await world.recorder.record(
        world.target, observation(world.target, T0 + timedelta(days=1, hours=2), Outcome.UNAVAILABLE, status=503)
    )
    await world.recorder.record(
        world.target, observation(world.target, T0 + timedelta(days=2, hours=2), Outcome.SLOTS_AVAILABLE)
    )


async def make(world: World, keyring: Keyring, lang: str, *, limit: int = 3000) -> tuple[bytes, str]:
    profile = Profile(world.owner, **PROFILE)
    data = await gather(
        world.repo,
        profile,
        world.watch,
        date(2026, 3, 2),
        date(2026, 3, 5),
        keyring=keyring,
        now=T0 + timedelta(days=4),
        table_limit=limit,
    )
    pdf = dossier.build_pdf(data, lang, await dossier.load_images(data, world.repo.capture_preview))
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return pdf, re.sub(r"[ \t]+", " ", text)


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        pytest.param(
            "fr", ["Dossier de preuves", "Tentatives", "3 jours sur 4", "Calendrier des tentatives", "Méthode"], id="fr"
        ),
        pytest.param(
            "en", ["Evidence dossier", "Attempts", "3 days out of 4", "Calendar of attempts", "Method"], id="en"
        ),
    ],
)
async def test_dossier_pdf_shows_counts_and_sections_when_built(
    world: World, keyring: Keyring, lang: str, words: list[str]
) -> None:
    await fill(world)
    pdf, text = await make(world, keyring, lang)
    assert pdf.startswith(b"%PDF")
    for word in [*words, "Amina Diallo", "7501234567", "Préfecture de Police", "Titre de séjour"]:
        assert word in text, word
    cover = text.split("\n\n")[0]
    assert re.search(r"(Tentatives|Attempts)\s*14", cover), cover[:800]
    assert re.search(r"(Créneaux trouvés|Slots found)\s*1\b", cover)
    assert re.search(r"(Captures d'écran|Screenshots)\s*3", cover)


async def test_dossier_verifies_and_holds_only_the_owners_chain_when_exported(world: World, keyring: Keyring) -> None:
    await fill(world)
    await world.profiles.save(Profile(world.stranger, full_name="Zed Stranger", numero_etranger="9999999999"), now=T0)
    pdf, text = await make(world, keyring, "fr")
    result = dossier.verify_bytes(pdf, check_seal=keyring.check_seal)
    assert result.ok, result.lines()
    assert result.printed_hash_ok
    assert result.verdict.seal == "valid"
    attached = PdfReader(io.BytesIO(pdf)).attachments[dossier.ATTACHMENT][0]
    owner_chain = await world.repo.chain_info(world.watch)
    assert owner_chain is not None
    assert result.verdict.chain == owner_chain.chain_id
    for secret in (b"Zed Stranger", b"9999999999", b"stranger@example.org"):
        assert secret not in pdf
        assert secret not in attached
    assert "Zed Stranger" not in text
    assert "9999999999" not in text
    assert result.verdict.count == 14 + 3  # attempts + one capture a day


async def test_dossier_lists_days_instead_of_attempts_when_over_the_table_limit(world: World, keyring: Keyring) -> None:
    await fill(world)
    _, text = await make(world, keyring, "en", limit=5)
    assert "The period has 14 attempts" in text
    assert "chain.jsonl" in text


async def test_verify_reports_tampering_when_the_attached_chain_is_edited(world: World, keyring: Keyring) -> None:
    await fill(world)
    pdf, _ = await make(world, keyring, "fr")
    attached = PdfReader(io.BytesIO(pdf)).attachments[dossier.ATTACHMENT][0]
    edited = attached.replace(b'"outcome":"slots_available"', b'"outcome":"no_slots"', 1)
    assert edited != attached
    result = dossier.verify_bytes(edited, check_seal=keyring.check_seal)
    assert not result.ok
    assert any("was changed" in p for p in result.verdict.problems)


async def test_gather_refuses_watch_when_evidence_mode_was_never_on(world: World, keyring: Keyring) -> None:
    await world.repo.store.subscribers.add_watch(world.owner, [world.target.id], now=T0)
    plain = (await world.store.subscribers.list_watches(subscriber_id=world.owner))[-1]
    with pytest.raises(NoEvidence):
        await gather(
            world.repo, Profile(world.owner), plain.id, date(2026, 3, 2), date(2026, 3, 3), keyring=keyring, now=T0
        )


def test_verify_bytes_refuses_file_when_it_is_not_a_dossier() -> None:
    with pytest.raises(ValueError, match="not a creneau"):
        dossier.verify_bytes(b"just text\n")
    assert chain.FORMAT == "creneau-evidence-chain"
