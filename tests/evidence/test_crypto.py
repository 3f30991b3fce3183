# SPDX-License-Identifier: AGPL-3.0-or-later
"""Identifiers encrypted at rest; key rotation; the key file made once with mode 0600."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from creneau.config import load_settings
from creneau.evidence.crypto import CryptoError, Keyring, load_keyring
from creneau.evidence.profiles import ProfileRepo
from creneau.evidence.records import Profile
from creneau.store.evidence import letters, profiles

from .conftest import T0, World


def test_keyring_round_trips_value_when_context_matches() -> None:
    ring = Keyring("k1")
    token = ring.encrypt("7501234567", "numero_etranger")
    assert token.startswith("enc1:")
    assert "7501234567" not in token
    assert ring.decrypt(token, "numero_etranger") == "7501234567"
    assert ring.encrypt("", "numero_etranger") == ""


@pytest.mark.parametrize(
    ("ring", "context", "message"),
    [
        pytest.param(Keyring("k2"), "numero_etranger", "not configured", id="unknown-key"),
        pytest.param(Keyring("k1"), "letter", "altered or belongs", id="other-column"),
    ],
)
def test_keyring_refuses_value_when_key_or_column_differs(ring: Keyring, context: str, message: str) -> None:
    token = Keyring("k1").encrypt("7501234567", "numero_etranger")
    with pytest.raises(CryptoError, match=message):
        ring.decrypt(token, context)


def test_load_keyring_creates_private_key_file_once_when_no_key_is_set(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    first = load_keyring(settings)
    path = tmp_path / "evidence_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_keyring(settings).kid == first.kid
    assert load_keyring(load_settings(data_dir=tmp_path, evidence_key=SecretStr("set"))).kid != first.kid


async def test_profile_keeps_numero_etranger_encrypted_at_rest_when_saved(world: World) -> None:
    await world.profiles.save(Profile(world.owner, full_name="Amina Diallo", numero_etranger="7501234567"), now=T0)
    await world.profiles.save_letter(world.owner, world.watch, "email", "N° étranger 7501234567", now=T0)
    async with world.store.read() as conn:
        stored = (await conn.execute(select(profiles.c.numero_etranger))).scalar_one()
        letter = (await conn.execute(select(letters.c.text))).scalar_one()
    assert "7501234567" not in stored
    assert "7501234567" not in letter
    assert (await world.profiles.get(world.owner)).numero_etranger == "7501234567"


async def test_rotate_re_encrypts_every_value_when_the_key_changes(world: World) -> None:
    await world.profiles.save(Profile(world.owner, numero_etranger="7501234567"), now=T0)
    await world.profiles.save_letter(world.owner, world.watch, "email", "Bonjour", now=T0)
    rotated = ProfileRepo(world.store, Keyring("new-key", ["test-evidence-key"]))
    assert await rotated.rotate() == 2
    assert await rotated.rotate() == 0
    only_new = ProfileRepo(world.store, Keyring("new-key"))
    assert (await only_new.get(world.owner)).numero_etranger == "7501234567"
    assert await only_new.letter(world.watch, "email") == "Bonjour"


async def test_ics_token_finds_its_owner_only_until_replaced(world: World) -> None:
    token = await world.profiles.new_ics_token(world.owner, now=T0)
    assert len(token) >= 43
    assert await world.profiles.subscriber_for_ics(token) == world.owner
    fresh = await world.profiles.new_ics_token(world.owner, now=T0)
    assert await world.profiles.subscriber_for_ics(token) is None
    assert await world.profiles.subscriber_for_ics(fresh) == world.owner
    assert await world.profiles.subscriber_for_ics("guess") is None
