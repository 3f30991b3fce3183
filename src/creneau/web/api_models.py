# SPDX-License-Identifier: AGPL-3.0-or-later
"""The shapes of the public JSON API (`/api/v1/`): what OpenAPI documents and what the routes return.

Version 1 only grows: fields may be added, never renamed or removed. Times are ISO 8601 in UTC.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class OfficeOut(Out):
    id: str = Field(examples=["pref-91"])
    kind: str = Field(description="prefecture, sous-prefecture, prefecture-de-police or other")
    departement: str
    name: str
    address: str
    postcode: str
    town: str
    website: str
    phone: str
    last_verified: date | None = Field(description="When someone last checked this office's data by hand.")


class PortalOut(Out):
    key: str
    name_fr: str
    name_en: str
    url: str | None
    role: str


class FeeOut(Out):
    id: str
    amount_eur: float
    label_fr: str
    label_en: str
    valid_from: date
    valid_until: date | None = Field(description="Exclusive; null while still in force.")
    in_force: bool = Field(description="In force today (Paris time).")
    source: str


class DemarcheOut(Out):
    key: str = Field(examples=["sejour.first"])
    name_fr: str
    name_en: str
    category: str
    competence: str = Field(description="prefecture, arrondissement, online, town-hall or convocation")
    watchable: bool = Field(description="creneau can watch appointment slots for it.")
    portals: list[PortalOut]
    prepare_fr: list[str]
    prepare_en: list[str]
    fees: list[FeeOut]


class TargetOut(Out):
    id: str = Field(examples=["rdvpref-3762"])
    system: str = Field(description="rdvpref, legacy or ants")
    url: str = Field(description="The official booking page (always on gouv.fr).")
    office_id: str
    departement: str | None
    demarche_key: str
    label: str


class StatusOut(Out):
    target_id: str
    office_id: str
    office_name: str
    departement: str | None
    demarche_key: str
    health: str = Field(
        description=(
            "slots, no_slots, human_check, blocked, slowed, down, unknown_page, unreachable, retrying, paused, "
            "stale or not_checked"
        )
    )
    health_label_fr: str
    health_label_en: str
    last_outcome: str | None = Field(description="The last check's raw outcome.")
    last_checked_at: datetime | None
    paused_until: datetime | None
    last_opening_at: datetime | None
    open_now: bool
    next_publication: datetime | None = Field(description="The next publication announced on the official page.")
    watched: bool


class StatusPage(Out):
    generated_at: datetime = Field(description="When the board snapshot was taken.")
    total: int
    limit: int
    offset: int
    items: list[StatusOut]


class SlotOut(Out):
    start: datetime
    guichet: str | None
    guichet_label: str | None
    place: str | None
    first_seen: datetime
    last_seen: datetime
    gone_at: datetime | None = Field(description="First check that no longer showed it (null while visible).")


class OpeningOut(Out):
    id: int
    target_id: str
    started_at: datetime
    ended_at: datetime | None
    duration_s: float | None
    first_slot_count: int
    slots: list[SlotOut] | None = Field(None, description="Slot lifetimes; given when one target is asked for.")


class CheckOut(Out):
    checked_at: datetime
    outcome: str
    health: str
    http_status: int | None
    slot_count: int


class TargetDetail(Out):
    target: TargetOut
    status: StatusOut | None
    openings: list[OpeningOut]
    checks: list[CheckOut]


class ApiError(Out):
    detail: str


class ValidationItem(Out):
    loc: list[str | int] = Field(description='Where the bad value is, e.g. ["query", "limit"].')
    msg: str
    type: str


class ValidationFailed(Out):
    """422: a parameter is missing or out of range."""

    detail: list[ValidationItem]
