# SPDX-License-Identifier: AGPL-3.0-or-later
"""The operator's own booking targets: `data_dir/targets.local.csv`, merged into the catalog at load.

Adding checks everything before writing (official URL, known office and démarche, no duplicate id or URL) and
raises `OverlayError` with one line otherwise; writes replace the file atomically, so a crash never leaves a
half-written overlay. The store imports the same file.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import replace
from datetime import date
from pathlib import Path

from creneau.catalog.core import LOCAL_TARGETS, Catalog
from creneau.catalog.model import BookingTarget, Origin
from creneau.catalog.records import read_targets, write_targets
from creneau.catalog.urls import UrlError, target_from_url


class OverlayError(ValueError):
    """The target cannot be added or removed; nothing was written."""


def overlay_path(data_dir: Path) -> Path:
    return data_dir / LOCAL_TARGETS


def add_target(
    catalog: Catalog, data_dir: Path, url: str, office_id: str, demarche_key: str, *, today: date, label: str = ""
) -> BookingTarget:
    """Validate and append one target to the overlay; returns it."""
    try:
        target = target_from_url(url)
    except UrlError as exc:
        raise OverlayError(str(exc)) from None
    office = catalog.offices.get(office_id)
    if office is None:
        raise OverlayError(f"unknown office {office_id!r} (see `creneau offices`)")
    demarche = catalog.demarches.get(demarche_key)
    if demarche is None:
        raise OverlayError(f"unknown démarche {demarche_key!r} (see `creneau demarches`)")
    for existing in catalog.targets.values():
        if existing.id == target.id or existing.target.url == target.url:
            raise OverlayError(f"this page is already target {existing.id} ({existing.origin.value})")
    item = BookingTarget(
        target=replace(
            target,
            office_id=office_id,
            demarche_key=demarche_key,
            label=label or f"{office.name} — {demarche.name_en}",
        ),
        source="operator",
        source_date=today,
        last_verified=today,
        origin=Origin.LOCAL,
    )
    path = overlay_path(data_dir)
    current = read_targets(path, Origin.LOCAL) if path.exists() else []
    _write_atomic(path, [*current, item])
    return item


def remove_target(catalog: Catalog, data_dir: Path, target_id: str) -> BookingTarget:
    """Remove one operator-added target; shipped targets cannot be removed this way."""
    item = catalog.targets.get(target_id)
    if item is None:
        raise OverlayError(f"unknown target {target_id!r} (see `creneau target list`)")
    if item.origin is not Origin.LOCAL:
        raise OverlayError(f"target {target_id} ships with creneau; only targets added on this instance can be removed")
    path = overlay_path(data_dir)
    remaining = [t for t in read_targets(path, Origin.LOCAL) if t.id != target_id]
    _write_atomic(path, remaining)
    return item


def _write_atomic(path: Path, items: list[BookingTarget]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=".targets.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        write_targets(Path(temp), items)
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
