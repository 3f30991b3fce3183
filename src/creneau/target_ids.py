# SPDX-License-Identifier: AGPL-3.0-or-later
"""Target ids: one scheme for every booking page, made only by `target_id`.

- RDV Préfecture: `rdvpref-<démarche id>` (`rdvpref-16040`);
- legacy module: `legacy-<host label>-<form id>`, the host without `www.` and `.gouv.fr`, dots as dashes
  (`legacy-hauts-de-seine-13525`, `legacy-pprdv-interieur-989`);
- ANTS: `ants-<latitude>-<longitude>-<radius km>-<reason>` with 4 decimals, plus `-<n>docs` when the
  search is for more than one document (`ants-48.8566-2.3522-20-cni-passport`).

The catalog, the adapters (`target_from_url`), `creneau check`, `creneau target add`, the web app and the
demo all name a page through this function, so one page has one id wherever it comes from. Ids are keys
in the store (watches, observations, openings, evidence), so an existing id never changes meaning.
"""

from __future__ import annotations

from creneau.types import AntsCriteria, System, Target


def target_id(system: System, host: str, demarche_id: int | None, ants: AntsCriteria | None = None) -> str:
    """The id of the page of `system` on `host` for `demarche_id` (RDV Préfecture démarche, legacy form
    id) or, for ANTS, for the search `ants`. Raises ValueError when the identifying part is missing."""
    if system is System.RDVPREF:
        if demarche_id is None:
            raise ValueError("an RDV Préfecture target needs its démarche id")
        return f"rdvpref-{demarche_id}"
    if system is System.LEGACY:
        if demarche_id is None or not host:
            raise ValueError("a legacy booking target needs its host and form id")
        label = host.lower().removeprefix("www.").removesuffix(".gouv.fr").replace(".", "-")
        return f"legacy-{label}-{demarche_id}"
    if ants is None:
        raise ValueError("an ANTS target needs its search criteria")
    documents = f"-{ants.documents_number}docs" if ants.documents_number != 1 else ""
    return f"ants-{ants.latitude:.4f}-{ants.longitude:.4f}-{ants.radius_km:g}-{ants.reason.lower()}{documents}"


def target_id_of(target: Target) -> str:
    """The id `target` should carry, from what identifies its page (its id field is not read)."""
    return target_id(target.system, target.host, target.demarche_id, target.ants)
