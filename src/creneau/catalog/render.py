# SPDX-License-Identifier: AGPL-3.0-or-later
"""How catalog answers look: Rich tables for people, plain dicts for `--json`. No I/O besides the console."""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from creneau.catalog.core import Catalog
from creneau.catalog.model import BookingTarget, OfficeRecord
from creneau.catalog.resolver import Found, Located, Status


def commune_json(catalog: Catalog, located: Located) -> list[dict[str, object]]:
    geo = catalog.geography
    out: list[dict[str, object]] = []
    for c in located.communes:
        dept = geo.departements.get(c.departement)
        general = catalog.general_office(c)
        out.append(
            {
                "code": c.code,
                "name": c.name,
                "type": c.type,
                "departement": c.departement,
                "departement_name": dept.name if dept else "",
                "arrondissement": c.arrondissement or None,
                "part_of": geo.current(c).code if geo.current(c).code != c.code else None,
                "postcodes": list(c.postcodes),
                "general_office": general.id if general else None,
            }
        )
    return out


def found_json(catalog: Catalog, located: Located, found: Found | None, demarche_key: str) -> dict[str, object]:
    doc: dict[str, object] = {
        "query": located.query,
        "status": located.status.value,
        "matched_by": located.how,
        "demarche": demarche_key,
        "communes": commune_json(catalog, located),
        "suggestions": [{"name_key": key, "score": round(score, 3)} for key, score in located.suggestions],
    }
    if found is not None:
        answer = found.answer
        doc["competent"] = {
            "offices": [o.to_json() for o in answer.offices],
            "basis": answer.basis,
            "reason": answer.reason,
            "override": answer.rule.id if answer.rule else None,
            "override_source": answer.rule.source if answer.rule else None,
            "override_last_verified": (
                answer.rule.last_verified.isoformat() if answer.rule and answer.rule.last_verified else None
            ),
        }
        doc["targets"] = [t.to_json() for t in found.targets]
        doc["related_targets"] = [t.to_json() for t in found.related]
        doc["alternatives"] = [
            {"office": a.office.to_json(), "targets": [t.to_json() for t in a.targets]} for a in found.alternatives
        ]
        doc["portals"] = list(answer.demarche.portals)
        doc["watchable"] = answer.demarche.watchable
    return doc


def show_found(console: Console, catalog: Catalog, located: Located, found: Found | None) -> None:
    if located.status is Status.SUGGEST:
        console.print(f"No commune is called [bold]{escape(located.query)}[/]. Closest names:")
        for key, _ in located.suggestions:
            communes = catalog.geography.by_name_key(key)[:3]
            names = "; ".join(f"{c.name} ({c.departement}, {c.code})" for c in communes)
            console.print(f"  • {escape(names)}")
        return
    if located.status is Status.CHOOSE:
        console.print(f"[bold]{escape(located.query)}[/] matches several communes ({located.how}); choose one:")
        table = Table("INSEE", "commune", "département", "postcodes", "office")
        for row in commune_json(catalog, located):
            office = catalog.offices.get(str(row["general_office"]))
            postcodes = row["postcodes"]
            assert isinstance(postcodes, list)
            table.add_row(
                str(row["code"]),
                escape(str(row["name"])),
                f"{row['departement']} {escape(str(row['departement_name']))}",
                " ".join(postcodes[:4]) + (" …" if len(postcodes) > 4 else ""),
                escape(office.name) if office else "-",
            )
        console.print(table)
        return
    assert found is not None
    commune = located.commune
    answer = found.answer
    console.print(
        f"[bold]{escape(commune.name)}[/] (INSEE {commune.code}, département {commune.departement}) — "
        f"{escape(answer.demarche.name_en)} [dim]({answer.demarche.key})[/]"
    )
    console.print(f"[italic]{escape(answer.reason)}[/]")
    if answer.rule is not None:
        verified = answer.rule.last_verified.isoformat() if answer.rule.last_verified else "not verified"
        console.print(f"[dim]override {answer.rule.id}; source {answer.rule.source}; {verified}[/]")
    if answer.offices:
        console.print(offices_table(answer.offices, title="Competent office(s)"))
    else:
        console.print(f"[dim]{escape(answer.demarche.note_en)}[/]")
    show_targets(console, found.targets, "Booking pages creneau can watch")
    show_targets(console, found.related, "Other foreigners' booking pages of this office (démarche not identified)")
    if found.alternatives:
        alt = Table("alternative (same département)", "kind", "town", "watchable pages", title="Nearby alternatives")
        for a in found.alternatives:
            alt.add_row(escape(a.office.name), a.office.kind.value, escape(a.office.town), str(len(a.targets)))
        console.print(alt)
        console.print("[dim]Competence follows residence: another office only helps if it accepts your case.[/]")


def offices_table(offices: Iterable[OfficeRecord], title: str = "") -> Table:
    table = Table("id", "name", "kind", "dept", "address", "website", title=title or None)
    for o in offices:
        address = ", ".join(p for p in (o.address, f"{o.postcode} {o.town}".strip()) if p)
        table.add_row(o.id, escape(o.name), o.kind.value, o.departement, escape(address), escape(o.website))
    return table


def show_targets(console: Console, targets: Iterable[BookingTarget], title: str) -> None:
    items = list(targets)
    if not items:
        return
    table = Table("target", "system", "démarche", "verified", "url", title=title)
    for t in items:
        verified = t.last_verified.isoformat() if t.last_verified else "unverified"
        table.add_row(t.id, t.target.system.value, t.target.demarche_key, verified, escape(t.target.url))
    console.print(table)
