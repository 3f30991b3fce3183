# SPDX-License-Identifier: AGPL-3.0-or-later
"""Reading and writing the catalog's hand-curated files (offices, overrides, targets, sources, démarches).

Every reader raises `CatalogDataError` with the file name and line on a bad row, so a broken data file (shipped
or an operator's overlay) ends as one clear line, never a traceback.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from creneau.catalog.model import (
    OFFICE_FIELDS,
    BookingTarget,
    Competence,
    DemarcheInfo,
    Fee,
    FieldSource,
    OfficeKind,
    OfficeRecord,
    Origin,
    Override,
    Portal,
    Scope,
    Source,
)
from creneau.types import System, Target

TARGET_FIELDS = (
    "id",
    "office_id",
    "demarche_key",
    "system",
    "url",
    "demarche_id",
    "guichets",
    "label",
    "source",
    "source_date",
    "last_verified",
    "note",
)


class CatalogDataError(ValueError):
    """A catalog data file is malformed; the message names the file and line."""


def _date(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            for line, row in enumerate(csv.DictReader(handle), start=2):
                if None in row or any(value is None for value in row.values()):
                    raise CatalogDataError(f"{path.name}:{line}: wrong number of columns")
                yield line, row
    except UnicodeDecodeError:
        raise CatalogDataError(f"{path.name}: not UTF-8 text") from None


def _parse(path: Path, build: Any) -> list[Any]:
    out = []
    for line, row in _rows(path):
        try:
            out.append(build(row))
        except (KeyError, ValueError, TypeError) as exc:
            raise CatalogDataError(f"{path.name}:{line}: {exc}") from None
    return out


def parse_provenance(text: str) -> dict[str, FieldSource]:
    """`a,b=src@2026-01-01;c=other` → {a: (src, 2026-01-01), b: (src, 2026-01-01), c: (other, None)}."""
    out: dict[str, FieldSource] = {}
    for group in filter(None, (g.strip() for g in text.split(";"))):
        names, _, source = group.partition("=")
        source_id, _, verified = source.partition("@")
        if not source_id:
            raise ValueError(f"provenance group without a source: {group!r}")
        for name in names.split(","):
            out[name.strip()] = FieldSource(source_id.strip(), _date(verified.strip()))
    return out


def read_offices(path: Path) -> list[OfficeRecord]:
    def build(r: dict[str, str]) -> OfficeRecord:
        return OfficeRecord(
            id=r["id"],
            kind=OfficeKind(r["kind"]),
            departement=r["departement"],
            name=r["name"],
            town=r["town"],
            arrondissement=r["arrondissement"],
            serves=tuple(r["serves"].split()),
            address=r["address"],
            postcode=r["postcode"],
            insee=r["insee"],
            website=r["website"],
            phone=r["phone"],
            email=r["email"],
            dila_id=r["dila_id"],
            provenance=MappingProxyType(parse_provenance(r["provenance"])),
            last_verified=_date(r["last_verified"]),
            note=r["note"],
        )

    return _parse(path, build)


def read_overrides(path: Path) -> list[Override]:
    def build(r: dict[str, str]) -> Override:
        return Override(
            id=r["id"],
            demarches=tuple(r["demarches"].split()),
            scope=Scope(r["scope"]),
            codes=frozenset(r["codes"].split()),
            offices=tuple(r["offices"].split()),
            reason=r["reason"],
            source=r["source"],
            source_date=_date(r["source_date"]),
            last_verified=_date(r["last_verified"]),
            note=r["note"],
        )

    return _parse(path, build)


def read_sources(path: Path) -> list[Source]:
    def build(r: dict[str, str]) -> Source:
        return Source(r["id"], r["title"], r["url"], _date(r["date"]), r["licence"], r["verified"] == "yes")

    return _parse(path, build)


def _guichets(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in filter(None, (i.strip() for i in text.split(";"))):
        key, _, label = item.partition("=")
        out[key.strip()] = label.strip()
    return out


def read_targets(path: Path, origin: Origin = Origin.CATALOG) -> list[BookingTarget]:
    def build(r: dict[str, str]) -> BookingTarget:
        target = Target(
            id=r["id"],
            system=System(r["system"]),
            url=r["url"],
            office_id=r["office_id"],
            demarche_key=r["demarche_key"],
            demarche_id=int(r["demarche_id"]) if r["demarche_id"] else None,
            guichets=MappingProxyType(_guichets(r["guichets"])),
            label=r["label"],
        )
        return BookingTarget(target, r["source"], _date(r["source_date"]), _date(r["last_verified"]), r["note"], origin)

    return _parse(path, build)


def target_row(item: BookingTarget) -> list[str]:
    t = item.target
    return [
        t.id,
        t.office_id,
        t.demarche_key,
        t.system.value,
        t.url,
        "" if t.demarche_id is None else str(t.demarche_id),
        ";".join(f"{k}={v}" if v else k for k, v in t.guichets.items()),
        t.label,
        item.source,
        item.source_date.isoformat() if item.source_date else "",
        item.last_verified.isoformat() if item.last_verified else "",
        item.note,
    ]


def write_targets(path: Path, items: Iterable[BookingTarget]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(TARGET_FIELDS)
        writer.writerows(target_row(item) for item in items)


def read_demarches(path: Path) -> tuple[dict[str, Portal], dict[str, DemarcheInfo], list[Fee], dict[str, str]]:
    """Portals, démarches, fees and the notice texts of `demarches.yaml`."""
    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C build of the *safe* loader when present
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - safe loader
        portals = {
            key: Portal(key, p["name_fr"], p["name_en"], p.get("url") or "", p["role"], _system(p.get("system")))
            for key, p in data["portals"].items()
        }
        demarches = {key: _demarche(key, d) for key, d in data["demarches"].items()}
        fees = [
            Fee(
                id=f["id"],
                demarches=tuple(f["demarches"]),
                amount_eur=float(f["amount_eur"]),
                label_en=f["label_en"],
                label_fr=f["label_fr"],
                valid_from=f["valid_from"],
                source=f["source"],
                valid_until=f.get("valid_until"),
            )
            for f in data["fees"]
        ]
        notice = {str(k): str(v) for k, v in data["notice"].items()}
    except (yaml.YAMLError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CatalogDataError(f"{path.name}: {exc}".splitlines()[0]) from None
    return portals, demarches, fees, notice


def _system(value: str | None) -> System | None:
    return System(value) if value else None


def _demarche(key: str, d: dict[str, Any]) -> DemarcheInfo:
    return DemarcheInfo(
        key=key,
        name_fr=d["name_fr"],
        name_en=d["name_en"],
        category=d["category"],
        competence=Competence(d["competence"]),
        portals=tuple(d["portals"]),
        watchable=bool(d["watchable"]),
        note_en=" ".join(str(d.get("note_en", "")).split()),
        prepare_en=tuple(d.get("prepare_en", ())),
        prepare_fr=tuple(d.get("prepare_fr", ())),
    )


def format_provenance(provenance: Mapping[str, FieldSource]) -> str:
    """Inverse of `parse_provenance`, grouping fields that share a source and date."""
    groups: dict[tuple[str, date | None], list[str]] = {}
    for name, source in provenance.items():
        groups.setdefault((source.source, source.last_verified), []).append(name)
    return ";".join(
        f"{','.join(names)}={source}" + (f"@{verified.isoformat()}" if verified else "")
        for (source, verified), names in groups.items()
    )


def write_offices(path: Path, offices: Iterable[OfficeRecord]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(OFFICE_FIELDS)
        for o in offices:
            writer.writerow(
                [
                    o.id,
                    o.kind.value,
                    o.departement,
                    o.arrondissement,
                    " ".join(o.serves),
                    o.name,
                    o.address,
                    o.postcode,
                    o.town,
                    o.insee,
                    o.website,
                    o.phone,
                    o.email,
                    o.dila_id,
                    format_provenance(o.provenance),
                    o.last_verified.isoformat() if o.last_verified else "",
                    o.note,
                ]
            )


def write_sources(path: Path, sources: Iterable[Source]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("id", "title", "url", "date", "licence", "verified"))
        for s in sources:
            writer.writerow(
                [s.id, s.title, s.url, s.date.isoformat() if s.date else "", s.licence, "yes" if s.verified else "no"]
            )
