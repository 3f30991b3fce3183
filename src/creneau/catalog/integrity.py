# SPDX-License-Identifier: AGPL-3.0-or-later
"""Integrity checks of the catalog; each returns a list of problems (empty = fine).

The tests run them on the shipped data; `creneau catalog check` runs them on a live instance (with the
operator's overlay) and after a refresh.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from creneau.catalog.competence import matching_override
from creneau.catalog.core import Catalog
from creneau.catalog.geo import Commune
from creneau.catalog.model import Scope
from creneau.catalog.official import is_official_url
from creneau.catalog.text import name_key
from creneau.catalog.urls import UrlError, recognise


def check_arrondissements(catalog: Catalog) -> list[str]:
    """Every COG arrondissement has exactly one office; every office's arrondissement exists."""
    seats = Counter(o.arrondissement for o in catalog.offices.values() if o.arrondissement)
    out = [
        f"arrondissement {code} has {seats[code]} offices"
        for code in catalog.geography.arrondissements
        if seats[code] != 1
    ]
    out += [
        f"office arrondissement {code} is not in the COG"
        for code in seats
        if code not in catalog.geography.arrondissements
    ]
    return out


def check_communes(catalog: Catalog) -> list[str]:
    """Every current commune has an office of general competence and a prefecture for its département."""
    out = []
    geo = catalog.geography
    for code in geo.current_codes():
        commune = geo.by_code(code)
        assert commune is not None
        if catalog.general_office(commune) is None:
            out.append(f"commune {code} {commune.name}: no office of general competence")
        if catalog.prefecture_of(commune.departement) is None:
            out.append(f"commune {code} {commune.name}: no prefecture for département {commune.departement}")
    for office in catalog.offices.values():
        if office.departement not in geo.departements:
            out.append(f"office {office.id}: unknown département {office.departement}")
    return out


def check_urls(catalog: Catalog) -> list[str]:
    """Every URL shipped (office sites, portals, targets) is https on an allowlisted official domain."""
    urls = [(f"office {o.id}", o.website) for o in catalog.offices.values() if o.website]
    urls += [(f"portal {p.key}", p.url) for p in catalog.portals.values() if p.url]
    urls += [(f"target {t.id}", t.target.url) for t in catalog.targets.values()]
    urls += [("notice timbre_url", catalog.notice.get("timbre_url", ""))]
    return [f"{where}: not an official https URL: {url!r}" for where, url in urls if not is_official_url(url)]


def check_ids(catalog: Catalog) -> list[str]:
    """No duplicate ids or target URLs; ids of offices are lowercase slugs."""
    out = [f"duplicate override id {i}" for i, n in Counter(o.id for o in catalog.overrides).items() if n > 1]
    urls = Counter(t.target.url for t in catalog.targets.values())
    out += [f"two targets share the URL {url}" for url, n in urls.items() if n > 1]
    out += [f"office id {i!r} is not a lowercase slug" for i in catalog.offices if i != i.lower() or " " in i]
    return out


def check_targets(catalog: Catalog) -> list[str]:
    """Every target names a known office and démarche, and its URL gives back its own system and id."""
    out = []
    for item in catalog.targets.values():
        t = item.target
        if t.office_id not in catalog.offices:
            out.append(f"target {t.id}: unknown office {t.office_id}")
        if t.demarche_key not in catalog.demarches:
            out.append(f"target {t.id}: unknown démarche {t.demarche_key}")
        try:
            seen = recognise(t.url)
        except UrlError as exc:
            out.append(f"target {t.id}: {exc}")
            continue
        if (seen.id, seen.system) != (t.id, t.system):
            out.append(f"target {t.id}: its URL reads as {seen.system.value} {seen.id}")
    return out


def check_references(catalog: Catalog) -> list[str]:
    """Sources, portals and démarches referred to anywhere exist."""
    out = []
    sources = catalog.sources
    for office in catalog.offices.values():
        out += [
            f"office {office.id}: unknown source {s.source}"
            for s in office.provenance.values()
            if s.source not in sources
        ]
    out += [f"override {o.id}: unknown source {o.source}" for o in catalog.overrides if o.source not in sources]
    out += [f"target {t.id}: unknown source {t.source}" for t in catalog.targets.values() if t.source not in sources]
    out += [f"fee {f.id}: unknown source {f.source}" for f in catalog.fees if f.source not in sources]
    out += [
        f"fee {f.id}: unknown démarche {k}" for f in catalog.fees for k in f.demarches if k not in catalog.demarches
    ]
    for d in catalog.demarches.values():
        out += [f"démarche {d.key}: unknown portal {p}" for p in d.portals if p not in catalog.portals]
    return out


def check_overrides(catalog: Catalog) -> list[str]:
    """Every override names known offices, codes and démarches, and some commune actually triggers it."""
    out = []
    index = _territories(catalog)
    for rule in catalog.overrides:
        out += [f"override {rule.id}: unknown office {o}" for o in rule.offices if o not in catalog.offices]
        keys = [k for k in catalog.demarches if rule.covers(k)]
        if not keys:
            out.append(f"override {rule.id}: covers no known démarche")
        for code in sorted(rule.codes):
            if not _exists(catalog, rule.scope, code):
                out.append(f"override {rule.id}: unknown {rule.scope.value} {code}")
        communes = [c for code in sorted(rule.codes) for c in index[rule.scope].get(code, ())]
        if keys and not any(matching_override(catalog, c, k) is rule for c in communes for k in keys):
            out.append(f"override {rule.id}: no commune triggers it (shadowed or empty)")
    return out


def _exists(catalog: Catalog, scope: Scope, code: str) -> bool:
    geo = catalog.geography
    if scope is Scope.DEPARTEMENT:
        return code in geo.departements
    if scope is Scope.ARRONDISSEMENT:
        return code in geo.arrondissements
    return geo.by_code(code) is not None


def _territories(catalog: Catalog) -> dict[Scope, dict[str, list[Commune]]]:
    """Scope → code → current communes in it."""
    index: dict[Scope, dict[str, list[Commune]]] = {scope: {} for scope in Scope}
    geo = catalog.geography
    for code in geo.current_codes():
        commune = geo.by_code(code)
        assert commune is not None
        index[Scope.DEPARTEMENT].setdefault(commune.departement, []).append(commune)
        index[Scope.ARRONDISSEMENT].setdefault(commune.arrondissement, []).append(commune)
        index[Scope.COMMUNE].setdefault(commune.code, []).append(commune)
    return index


def check_name_keys(catalog: Catalog) -> list[str]:
    """The name keys stored in communes.json match today's normalisation."""
    geo = catalog.geography
    return [
        f"commune {record.code}: stored key {geo.stored_key(i)!r} != {name_key(record.name)!r}"
        for i, record in enumerate(geo.records())
        if geo.stored_key(i) != name_key(record.name)
    ]


CHECKS: tuple[Callable[[Catalog], list[str]], ...] = (
    check_arrondissements,
    check_communes,
    check_urls,
    check_ids,
    check_targets,
    check_references,
    check_overrides,
    check_name_keys,
)


def all_problems(catalog: Catalog) -> list[str]:
    return [problem for check in CHECKS for problem in check(catalog)]
