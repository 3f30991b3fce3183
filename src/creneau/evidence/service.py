# SPDX-License-Identifier: AGPL-3.0-or-later
"""The evidence stage's objects built once from the settings, and the operations the CLI and the web app
share: export a dossier, draft or export a letter, build the lawyer pack.

`Evidence` holds the repositories, the keyring and the catalogue lookups. Access control is the
caller's: the web app lets only the owner (or an admin with a documented request) through, the CLI is the
operator's own tool.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date, datetime

from creneau.catalog.core import Catalog
from creneau.config import Settings
from creneau.evidence import dossier, letters
from creneau.evidence.crypto import Keyring
from creneau.evidence.dossier_data import DossierData, gather
from creneau.evidence.letters import LetterKind, Recipient
from creneau.evidence.profiles import ProfileRepo
from creneau.evidence.recorder import Describe, EvidenceRecorder
from creneau.evidence.repo import EvidenceRepo
from creneau.store import Store
from creneau.store.errors import NotFound
from creneau.types import Demarche, Office, Target

log = logging.getLogger(__name__)


def describe_with(catalog: Catalog | None) -> Describe:
    def describe(target: Target) -> tuple[Office | None, Demarche | None]:
        if catalog is None:
            return None, None
        office = catalog.offices.get(target.office_id)
        demarche = catalog.demarches.get(target.demarche_key)
        return (office.as_office() if office else None, demarche.as_demarche() if demarche else None)

    return describe


@dataclass(frozen=True, slots=True)
class Export:
    data: DossierData
    pdf: bytes


class Evidence:
    """Build with `Evidence(store, keyring, settings, catalog)`; nothing here opens a connection itself."""

    def __init__(self, store: Store, keyring: Keyring, settings: Settings, catalog: Catalog | None = None) -> None:
        self.store = store
        self.keyring = keyring
        self.settings = settings
        self.catalog = catalog
        self.repo = EvidenceRepo(store)
        self.profiles = ProfileRepo(store, keyring)
        self.recorder = EvidenceRecorder(self.repo, describe=describe_with(catalog))

    async def owner(self, watch_id: int) -> int:
        """The subscriber who owns watch `watch_id`; raises NotFound."""
        return (await self.store.subscribers.get_watch(watch_id)).subscriber_id

    async def gather(self, watch_id: int, first: date, last: date, *, now: datetime) -> DossierData:
        profile = await self.profiles.get(await self.owner(watch_id))
        return await gather(
            self.repo,
            profile,
            watch_id,
            first,
            last,
            keyring=self.keyring,
            now=now,
            table_limit=self.settings.evidence_table_limit,
        )

    async def export(self, watch_id: int, first: date, last: date, *, lang: str, now: datetime) -> Export:
        """The dossier PDF (laid out in a thread: WeasyPrint is CPU-bound and blocking)."""
        data = await self.gather(watch_id, first, last, now=now)
        images = await dossier.load_images(data, self.repo.capture_preview)
        pdf = await asyncio.to_thread(dossier.build_pdf, data, lang, images)
        return Export(data, pdf)

    async def recipient(self, watch_id: int) -> Recipient:
        """The office of the watch's first target, as the catalogue knows it."""
        watch = await self.store.subscribers.get_watch(watch_id)
        for target_id in watch.target_ids:
            try:
                target = (await self.store.targets.get(target_id)).target
            except NotFound:
                continue
            record = self.catalog.offices.get(target.office_id) if self.catalog else None
            if record is not None:
                address = "\n".join(
                    p for p in (record.address.replace(" | ", "\n"), f"{record.postcode} {record.town}".strip()) if p
                )
                return Recipient(record.name, address, record.email)
        return Recipient("")

    async def facts(
        self, watch_id: int, first: date, last: date, *, now: datetime
    ) -> tuple[letters.Facts, DossierData]:
        data = await self.gather(watch_id, first, last, now=now)
        owner = await self.store.subscribers.get_subscriber(data.profile.subscriber_id)
        facts = letters.facts_from(data, await self.recipient(watch_id), email=owner.email or "", today=now.date())
        return facts, data

    async def letter(
        self, watch_id: int, kind: LetterKind, first: date, last: date, *, now: datetime
    ) -> tuple[str, str]:
        """(French text, English explanation): the person's edited version when they saved one, else a
        fresh draft. Raises MissingFacts for a draft that lacks facts."""
        facts, _ = await self.facts(watch_id, first, last, now=now)
        edited = await self.profiles.letter(watch_id, kind.value)
        return (edited if edited is not None else letters.draft(kind, facts)), letters.explanation(kind, facts)

    async def pack(self, watch_id: int, first: date, last: date, *, now: datetime) -> bytes:
        """The lawyer pack: dossiers FR and EN, the three letters, explanations, timeline, chain."""
        fr = await self.export(watch_id, first, last, lang="fr", now=now)
        en_data = fr.data
        images = await dossier.load_images(en_data, self.repo.capture_preview)
        en = await asyncio.to_thread(dossier.build_pdf, en_data, "en", images)
        texts = {kind: await self.letter(watch_id, kind, first, last, now=now) for kind in LetterKind}
        return await asyncio.to_thread(
            letters.lawyer_pack,
            fr.data,
            dossiers={"fr": fr.pdf, "en": en},
            letters={kind: text for kind, (text, _) in texts.items()},
            explanations={kind: note for kind, (_, note) in texts.items()},
            made_at=now,
        )
