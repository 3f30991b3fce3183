# SPDX-License-Identifier: AGPL-3.0-or-later
"""Letters: filled from the person's data and the evidence, no blank left, PDF and lawyer pack."""

from __future__ import annotations

import io
import zipfile
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from creneau.evidence import letters
from creneau.evidence.crypto import Keyring
from creneau.evidence.dossier_data import gather
from creneau.evidence.letters import LetterKind, MissingFacts, Recipient
from creneau.evidence.records import Profile

from .conftest import T0, World, observation

PROFILE = Profile(
    0,
    full_name="Amina Diallo",
    postal_address="12 rue des Lilas\n75019 Paris",
    birth_date=date(1990, 4, 12),
    nationality="sénégalaise",
    numero_etranger="7501234567",
    permit_expiry=date(2026, 5, 31),
)
RECIPIENT = Recipient("Préfecture de Police", "1 bis rue de Lutèce\n75004 Paris", "pp-titres@interieur.gouv.fr")


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    return sqlite_url


async def facts(world: World, keyring: Keyring, profile: Profile = PROFILE) -> letters.Facts:
    for day in range(3):
        for k in range(2):
            await world.recorder.record(world.target, observation(world.target, T0 + timedelta(days=day, minutes=k)))
    data = await gather(world.repo, profile, world.watch, date(2026, 3, 2), date(2026, 3, 4), keyring=keyring, now=T0)
    return letters.facts_from(data, RECIPIENT, email="amina@example.org", today=date(2026, 3, 5))


@pytest.mark.parametrize("kind", list(LetterKind), ids=lambda k: k.value)
async def test_draft_fills_every_fact_and_leaves_no_blank_when_data_is_complete(
    world: World, keyring: Keyring, kind: LetterKind
) -> None:
    known = await facts(world, keyring)
    text = letters.draft(kind, known)
    for value in ("Amina Diallo", "7501234567", "Préfecture de Police", "Titre de séjour", "6 ", "02/03/2026"):
        assert value in text, value
    assert letters.placeholders(text) == []
    assert "{" not in text
    assert "None" not in text
    explanation = letters.explanation(kind, known)
    assert "What" in explanation
    assert letters.placeholders(explanation) == []


async def test_lrar_announces_the_refere_and_addresses_the_office(world: World, keyring: Keyring) -> None:
    text = letters.draft(LetterKind.LRAR, await facts(world, keyring))
    assert "L. 521-3 du code de justice administrative" in text
    assert "1 bis rue de Lutèce" in text
    assert "12 rue des Lilas" in text
    assert "31/05/2026" in text


async def test_draft_names_missing_facts_when_the_profile_is_incomplete(world: World, keyring: Keyring) -> None:
    bare = await facts(world, keyring, Profile(0, full_name="Amina Diallo"))
    with pytest.raises(MissingFacts) as caught:
        letters.draft(LetterKind.LRAR, bare)
    assert caught.value.fields == ["postal_address"]
    assert "7501234567" not in letters.draft(LetterKind.EMAIL, bare)


@pytest.mark.parametrize(
    "edited",
    ["Nom : [VOTRE NOM]", "N° {{ numero }}", "Numéro : XXXXX", "Adresse : à compléter", "Né le None"],
    ids=["brackets", "jinja", "xxx", "a-completer", "none"],
)
def test_ready_refuses_letter_when_a_blank_is_left(edited: str) -> None:
    with pytest.raises(ValueError, match="blanks"):
        letters.ready(f"Madame, Monsieur,\n\n{edited}\n")


async def test_letter_pdf_contains_the_text_when_exported(world: World, keyring: Keyring) -> None:
    text = letters.draft(LetterKind.EMAIL, await facts(world, keyring))
    pdf = letters.letter_pdf(text, title="Courriel")
    extracted = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Amina Diallo" in extracted
    assert "7501234567" in extracted


async def test_lawyer_pack_holds_dossier_letters_timeline_and_chain(world: World, keyring: Keyring) -> None:
    known = await facts(world, keyring)
    data = await gather(world.repo, PROFILE, world.watch, date(2026, 3, 2), date(2026, 3, 4), keyring=keyring, now=T0)
    drafted = {kind: letters.draft(kind, known) for kind in LetterKind}
    pack = letters.lawyer_pack(
        data,
        dossiers={"fr": b"%PDF-fake"},
        letters=drafted,
        explanations={kind: letters.explanation(kind, known) for kind in LetterKind},
        made_at=T0,
    )
    names = set(zipfile.ZipFile(io.BytesIO(pack)).namelist())
    assert {
        "dossier-fr.pdf",
        "chronologie.csv",
        "chain.jsonl",
        "LISEZMOI.txt",
        "lettres/lrar.pdf",
        "lettres/lrar.txt",
    } <= names
    timeline = zipfile.ZipFile(io.BytesIO(pack)).read("chronologie.csv").decode()
    assert timeline.splitlines()[1].startswith("2026-03-02,2,2,0,0,")
