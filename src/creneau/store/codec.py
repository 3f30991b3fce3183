# SPDX-License-Identifier: AGPL-3.0-or-later
"""Domain values ↔ JSON-ready column values (slots, notices, target parameters, raw pages)."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, fields
from datetime import date, datetime
from typing import Any, TypeVar, cast

from creneau.detector.state import slot_from_dict, slot_to_dict
from creneau.types import AntsCriteria, Notice, NoticeKind, Observation, Outcome, Slot, System, Target

__all__ = [
    "RowLike",
    "compress_page",
    "decompress_page",
    "from_row",
    "notices_from_json",
    "notices_to_json",
    "observation_from_row",
    "slot_from_dict",
    "slot_to_dict",
    "slots_from_json",
    "slots_to_json",
    "target_from_row",
    "target_params",
]


RowLike = Mapping[Any, Any]
"""A result row as a mapping (SQLAlchemy's RowMapping)."""

T = TypeVar("T")


def from_row(record: Callable[..., T], row: RowLike, **converted: Any) -> T:
    """Build a record dataclass from the row's columns of the same names; `converted` overrides some."""
    names = [f.name for f in fields(cast(Any, record)) if f.name not in converted]
    return record(**{name: row[name] for name in names}, **converted)


def slots_to_json(slots: Iterable[Slot]) -> list[dict[str, Any]]:
    return [slot_to_dict(s) for s in slots]


def slots_from_json(data: Sequence[Mapping[str, Any]] | None) -> tuple[Slot, ...]:
    return tuple(slot_from_dict(dict(item)) for item in data or ())


def notices_to_json(notices: Iterable[Notice]) -> list[dict[str, Any]]:
    return [
        {
            "kind": n.kind.value,
            "instant": n.instant.isoformat(),
            "week_of": n.week_of.isoformat() if n.week_of else None,
            "text": n.text,
        }
        for n in notices
    ]


def notices_from_json(data: Sequence[Mapping[str, Any]] | None) -> tuple[Notice, ...]:
    return tuple(
        Notice(
            kind=NoticeKind(item["kind"]),
            instant=datetime.fromisoformat(item["instant"]),
            week_of=date.fromisoformat(item["week_of"]) if item.get("week_of") else None,
            text=item.get("text", ""),
        )
        for item in data or ()
    )


def target_params(target: Target) -> dict[str, Any]:
    """The parts of a `Target` without a column of their own."""
    return {
        "guichets": dict(target.guichets),
        "ants": asdict(target.ants) if target.ants is not None else None,
    }


def target_from_row(row: RowLike) -> Target:
    params = row["params"] or {}
    ants = params.get("ants")
    return Target(
        id=row["id"],
        system=System(row["system"]),
        url=row["url"],
        office_id=row["office_id"],
        demarche_key=row["demarche_key"],
        demarche_id=row["demarche_id"],
        guichets=params.get("guichets") or {},
        ants=AntsCriteria(**ants) if ants else None,
        label=row["label"],
    )


def observation_from_row(row: RowLike, raw_page: bytes = b"") -> Observation:
    return Observation(
        target_id=row["target_id"],
        checked_at=row["checked_at"],
        outcome=Outcome(row["outcome"]),
        evidence=row["evidence"],
        slots=slots_from_json(row["slots"]),
        notices=notices_from_json(row["notices"]),
        http_status=row["http_status"],
        duration_s=row["duration_s"],
        url=row["url"],
        page=row["page"],
        page_digest=row["page_digest"] or "",
        raw_page=raw_page,
        retry_after_s=row["retry_after_s"],
    )


def compress_page(body: bytes) -> tuple[str, bytes]:
    """(encoding, stored bytes). Pages are HTML or JSON: zlib level 6 divides them by 5-10."""
    return "zlib", zlib.compress(body, 6)


def decompress_page(encoding: str, data: bytes) -> bytes:
    if encoding == "zlib":
        return zlib.decompress(data)
    if encoding == "identity":
        return data
    raise ValueError(f"unknown page encoding {encoding!r}")
