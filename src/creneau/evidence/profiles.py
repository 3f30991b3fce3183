# SPDX-License-Identifier: AGPL-3.0-or-later
"""The applicant's profile, letter drafts and calendar-feed token, with identifiers encrypted at rest.

`numero_etranger` and letter texts go through the `Keyring` (AES-256-GCM, the column name as associated
data); the other profile fields are what the person chose to put on their letters. The calendar feed's
token is stored as its SHA-256 only: the feed URL is shown once, when it is made (a new one replaces it).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from creneau.evidence.crypto import Keyring
from creneau.evidence.records import Profile
from creneau.store.evidence import letters, profiles
from creneau.store.sql import insert_for

if TYPE_CHECKING:
    from creneau.store.engine import Store

ENCRYPTED = ("numero_etranger",)
_FIELDS = ("full_name", "postal_address", "birth_date", "nationality", "numero_etranger", "permit_expiry")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ProfileRepo:
    def __init__(self, store: Store, keyring: Keyring) -> None:
        self.store = store
        self.keyring = keyring

    def _profile(self, row: Any) -> Profile:
        return Profile(
            subscriber_id=row["subscriber_id"],
            full_name=row["full_name"],
            postal_address=row["postal_address"],
            birth_date=row["birth_date"],
            nationality=row["nationality"],
            numero_etranger=self.keyring.decrypt(row["numero_etranger"], "numero_etranger"),
            permit_expiry=row["permit_expiry"],
        )

    async def get(self, subscriber_id: int) -> Profile:
        """The decrypted profile (an empty one when the person gave nothing yet)."""
        async with self.store.read() as conn:
            stmt = select(profiles).where(profiles.c.subscriber_id == subscriber_id)
            row = (await conn.execute(stmt)).mappings().first()
        return self._profile(row) if row is not None else Profile(subscriber_id)

    async def save(self, profile: Profile, *, now: datetime) -> None:
        values: dict[str, Any] = {name: getattr(profile, name) for name in _FIELDS}
        values["numero_etranger"] = self.keyring.encrypt(profile.numero_etranger.strip(), "numero_etranger")
        values["updated_at"] = now
        async with self.store.write() as tx:
            stmt = insert_for(tx.conn, profiles).values(subscriber_id=profile.subscriber_id, **values)
            stmt = stmt.on_conflict_do_update(index_elements=[profiles.c.subscriber_id], set_=values)
            await tx.conn.execute(stmt)

    async def update(self, subscriber_id: int, *, now: datetime, **changes: Any) -> Profile:
        """Change some fields (`full_name=…`, `permit_expiry=date(…)`); returns the saved profile."""
        unknown = set(changes) - set(_FIELDS)
        if unknown:
            raise ValueError(f"unknown profile field(s): {', '.join(sorted(unknown))}")
        profile = replace(await self.get(subscriber_id), **changes)
        await self.save(profile, now=now)
        return profile

    async def with_expiry(self) -> list[tuple[int, date]]:
        """(subscriber, permit expiry) for everyone who gave an expiry date."""
        stmt = select(profiles.c.subscriber_id, profiles.c.permit_expiry).where(profiles.c.permit_expiry.is_not(None))
        async with self.store.read() as conn:
            return [(row.subscriber_id, row.permit_expiry) for row in await conn.execute(stmt)]

    # --- calendar feed -------------------------------------------------------------------------------
    async def new_ics_token(self, subscriber_id: int, *, now: datetime) -> str:
        """A new unguessable feed token (256 bits); the previous feed URL stops working."""
        token = secrets.token_urlsafe(32)
        async with self.store.write() as tx:
            stmt = insert_for(tx.conn, profiles).values(
                subscriber_id=subscriber_id,
                full_name="",
                postal_address="",
                nationality="",
                numero_etranger="",
                ics_token_hash=_hash(token),
                updated_at=now,
            )
            stmt = stmt.on_conflict_do_update(
                index_elements=[profiles.c.subscriber_id], set_={"ics_token_hash": _hash(token)}
            )
            await tx.conn.execute(stmt)
        return token

    async def subscriber_for_ics(self, token: str) -> int | None:
        if not token or len(token) > 200:
            return None
        async with self.store.read() as conn:
            stmt = select(profiles.c.subscriber_id).where(profiles.c.ics_token_hash == _hash(token))
            found = (await conn.execute(stmt)).scalar()
        return int(found) if found is not None else None

    # --- letters -------------------------------------------------------------------------------------
    async def save_letter(self, subscriber_id: int, watch_id: int, kind: str, text: str, *, now: datetime) -> None:
        sealed = self.keyring.encrypt(text, "letter")
        async with self.store.write() as tx:
            stmt = insert_for(tx.conn, letters).values(
                subscriber_id=subscriber_id, watch_id=watch_id, kind=kind, text=sealed, updated_at=now
            )
            stmt = stmt.on_conflict_do_update(
                index_elements=[letters.c.watch_id, letters.c.kind], set_={"text": sealed, "updated_at": now}
            )
            await tx.conn.execute(stmt)

    async def letter(self, watch_id: int, kind: str) -> str | None:
        """The person's edited letter, or None when they never edited this one."""
        stmt = select(letters.c.text).where(letters.c.watch_id == watch_id, letters.c.kind == kind)
        async with self.store.read() as conn:
            sealed = (await conn.execute(stmt)).scalar()
        return self.keyring.decrypt(sealed, "letter") if sealed is not None else None

    # --- rotation ------------------------------------------------------------------------------------
    async def rotate(self) -> int:
        """Re-encrypt every value not under the current key; returns how many values changed."""
        changed = 0
        async with self.store.write() as tx:
            rows = (await tx.conn.execute(select(profiles.c.subscriber_id, profiles.c.numero_etranger))).all()
            for subscriber_id, token in rows:
                if self.keyring.needs_rotation(token):
                    fresh = self.keyring.encrypt(self.keyring.decrypt(token, "numero_etranger"), "numero_etranger")
                    await tx.conn.execute(
                        update(profiles).where(profiles.c.subscriber_id == subscriber_id).values(numero_etranger=fresh)
                    )
                    changed += 1
            for letter_id, token in (await tx.conn.execute(select(letters.c.id, letters.c.text))).all():
                if self.keyring.needs_rotation(token):
                    fresh = self.keyring.encrypt(self.keyring.decrypt(token, "letter"), "letter")
                    await tx.conn.execute(update(letters).where(letters.c.id == letter_id).values(text=fresh))
                    changed += 1
        return changed
