# SPDX-License-Identifier: AGPL-3.0-or-later
"""Which office is competent for a démarche, for someone living in a given commune, and why.

The rule (docs/catalog.md, "The competence rule"):
1. an override (overrides.csv) that covers the démarche and the person's territory wins, the most specific
   first (commune, then arrondissement, then département);
2. otherwise démarches with competence `prefecture` (foreigners, naturalisation) go to the prefecture of the
   département of residence (CESEDA R. 431-20), `arrondissement` ones to the office of the commune's
   arrondissement (or the State office of territories without arrondissements);
3. `online`, `town-hall` and `convocation` démarches have no office to book at: the answer says where to go.
"""

from __future__ import annotations

from typing import NamedTuple

from creneau.catalog.core import Catalog
from creneau.catalog.geo import Commune
from creneau.catalog.model import Competence, DemarcheInfo, OfficeRecord, Override, Scope


class Answer(NamedTuple):
    """The competent offices (in order of preference) and the sentence that explains the choice."""

    demarche: DemarcheInfo
    offices: tuple[OfficeRecord, ...]
    reason: str
    rule: Override | None = None
    general_office: OfficeRecord | None = None

    @property
    def basis(self) -> str:
        """`override:<id>`, `default`, `general` or the démarche's competence (`online`, …)."""
        if self.rule is not None:
            return f"override:{self.rule.id}"
        if self.demarche.competence is Competence.PREFECTURE:
            return "default"
        if self.demarche.competence is Competence.ARRONDISSEMENT:
            return "general"
        return self.demarche.competence.value


def matching_override(catalog: Catalog, commune: Commune, demarche_key: str) -> Override | None:
    """The most specific override covering this démarche and commune (commune, arrondissement, département)."""
    index = catalog.override_index(demarche_key)
    rule = index[Scope.COMMUNE].get(commune.code)
    if rule is None and commune.parent:
        rule = index[Scope.COMMUNE].get(catalog.geography.current(commune).code)
    if rule is None and commune.arrondissement:
        rule = index[Scope.ARRONDISSEMENT].get(commune.arrondissement)
    if rule is None:
        rule = index[Scope.DEPARTEMENT].get(commune.departement)
    return rule


def competent(catalog: Catalog, commune: Commune, demarche: DemarcheInfo) -> Answer:
    """The answer for someone living in `commune` (any COG record: current, déléguée, municipal arrondissement)."""
    general = catalog.general_office(commune)
    kind = demarche.competence
    if kind in (Competence.ONLINE, Competence.TOWN_HALL, Competence.CONVOCATION):
        return Answer(demarche, (), _no_office_reason(catalog, demarche), None, general)
    rule = matching_override(catalog, commune, demarche.key)
    if rule is not None:
        offices = tuple(catalog.offices[office_id] for office_id in rule.offices if office_id in catalog.offices)
        return Answer(demarche, offices, rule.reason, rule, general)
    dept = catalog.geography.departements.get(commune.departement)
    dept_name = dept.name if dept else commune.departement
    if kind is Competence.PREFECTURE:
        office = catalog.prefecture_of(commune.departement)
        reason = (
            f"Default rule: the prefecture of the département where you live ({dept_name}) handles this démarche "
            "(CESEDA R. 431-20 for residence permits)"
        )
        return Answer(demarche, (office,) if office else (), reason, None, general)
    if commune.arrondissement:
        arr = catalog.geography.arrondissements.get(commune.arrondissement)
        where = f"the arrondissement of {arr.name}" if arr else f"arrondissement {commune.arrondissement}"
        reason = f"General competence: the office of {where}"
    else:
        reason = f"General competence: the State office serving {dept_name} (no arrondissements there)"
    return Answer(demarche, (general,) if general else (), reason, None, general)


def _no_office_reason(catalog: Catalog, demarche: DemarcheInfo) -> str:
    names = ", ".join(catalog.portals[p].name_en for p in demarche.portals if p in catalog.portals)
    if demarche.competence is Competence.ONLINE:
        return f"Done online ({names}): there is no office appointment to book"
    if demarche.competence is Competence.TOWN_HALL:
        return (
            "Town halls handle it, not prefectures: any equipped town hall in France takes the application, "
            f"wherever you live ({names})"
        )
    return "No self-booking: the administration convenes you (see the démarche's note)"
