# SPDX-License-Identifier: AGPL-3.0-or-later
"""What a dossier shows, gathered from one watch's chain for one period (Paris days, both ends included).

Only this watch's chain is read, so an export holds nothing about anyone else: captures are copies of a
public page, and only those this chain recorded are shown. The export of the chain (`chain.py`) covers
the contiguous run of entries of the period, sealed with the instance's key.
"""

from __future__ import annotations

import calendar
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from creneau.evidence import chain
from creneau.evidence.crypto import Keyring
from creneau.evidence.recorder import utc_text
from creneau.evidence.records import CaptureRecord, EntryRecord, Profile
from creneau.evidence.repo import EvidenceRepo
from creneau.store.errors import NotFound
from creneau.types import PARIS


class NoEvidence(Exception):
    """The watch keeps no evidence (evidence mode was never switched on)."""


@dataclass(slots=True)
class DayRow:
    day: date
    attempts: int = 0
    no_slot: int = 0
    unavailable: int = 0
    with_slots: int = 0
    first: datetime | None = None
    last: datetime | None = None
    captured: bool = False

    @property
    def tone(self) -> str:
        """Calendar colour: slots (green), no slot (red), unavailable only (orange), none (grey)."""
        if self.with_slots:
            return "slots"
        if self.no_slot:
            return "none"
        return "down" if self.unavailable else "empty"


@dataclass(frozen=True, slots=True)
class AttemptRow:
    seq: int
    at: datetime
    outcome: str
    http_status: int | None
    page_sha256: str | None
    target: str


@dataclass(frozen=True, slots=True)
class Place:
    office: str
    demarche: str
    url: str


@dataclass(slots=True)
class DossierData:
    watch_id: int
    chain_id: str
    first_day: date
    last_day: date
    generated_at: datetime
    profile: Profile
    places: list[Place] = field(default_factory=list)
    days: list[DayRow] = field(default_factory=list)
    rows: list[AttemptRow] | None = None
    captures: list[CaptureRecord] = field(default_factory=list)
    attempts: int = 0
    no_slot: int = 0
    unavailable: int = 0
    with_slots: int = 0
    slots_seen: int = 0
    entries: int = 0
    final_hash: str = ""
    seal_kid: str = ""
    chain_bytes: bytes = b""

    @property
    def days_total(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def days_covered(self) -> int:
        return sum(1 for d in self.days if d.attempts)

    def months(self) -> list[tuple[int, int, list[list[DayRow | None]]]]:
        """(year, month, weeks Monday-first) for every month the period touches; days of other months are None,
        days of the month outside the period empty rows."""
        by_day = {d.day: d for d in self.days}
        out: list[tuple[int, int, list[list[DayRow | None]]]] = []
        year, month = self.first_day.year, self.first_day.month
        while (year, month) <= (self.last_day.year, self.last_day.month):
            weeks = [
                [(by_day.get(day) or DayRow(day)) if day.month == month else None for day in week]
                for week in calendar.Calendar(0).monthdatescalendar(year, month)
            ]
            out.append((year, month, weeks))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out


def bounds(first_day: date, last_day: date) -> tuple[datetime, datetime]:
    """The period's instants: from Paris midnight of `first_day` to Paris midnight after `last_day`."""
    start = datetime.combine(first_day, time(0), tzinfo=PARIS)
    end = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=PARIS)
    return start, end


class _Summary:
    """Adds up a chain's entries one batch at a time (a 90-day chain never sits in memory whole)."""

    def __init__(self, data: DossierData, *, keep_rows: bool) -> None:
        self.data = data
        self.start, self.end = bounds(data.first_day, data.last_day)
        self.days = {
            data.first_day + timedelta(days=i): DayRow(data.first_day + timedelta(days=i))
            for i in range(data.days_total)
        }
        self.rows: list[AttemptRow] | None = [] if keep_rows else None
        self.places: dict[tuple[str, str, str], Place] = {}
        self.seen: set[str] = set()
        self.capture_ids: list[int] = []

    def add(self, record: EntryRecord) -> None:
        if not self.start <= record.at < self.end:
            return
        if record.kind == "capture":
            if record.capture_id is not None:
                self.capture_ids.append(record.capture_id)
            return
        row = self.days[record.at.astimezone(PARIS).date()]
        row.attempts += 1
        row.first = record.at if row.first is None or record.at < row.first else row.first
        row.last = record.at if row.last is None or record.at > row.last else row.last
        if record.outcome == "no_slots":
            row.no_slot += 1
        elif record.outcome == "slots_available":
            row.with_slots += 1
        else:
            row.unavailable += 1
        if self.rows is None and record.outcome != "slots_available" and record.target_id in self.seen:
            return
        self.seen.add(record.target_id)
        body = record.body
        place = Place(str(body.get("office", "")), str(body.get("demarche", "")), str(body.get("url", "")))
        self.places.setdefault((place.office, place.demarche, place.url), place)
        self.data.slots_seen += int(body.get("slots") or 0)
        if self.rows is not None:
            self.rows.append(
                AttemptRow(
                    record.seq,
                    record.at,
                    record.outcome,
                    body.get("http_status"),
                    body.get("page_sha256"),
                    record.target_id,
                )
            )

    def finish(self) -> None:
        data = self.data
        data.days = list(self.days.values())
        data.attempts = sum(d.attempts for d in data.days)
        data.no_slot = sum(d.no_slot for d in data.days)
        data.unavailable = sum(d.unavailable for d in data.days)
        data.with_slots = sum(d.with_slots for d in data.days)
        data.rows = self.rows
        data.places = list(self.places.values())


async def gather(
    repo: EvidenceRepo,
    profile: Profile,
    watch_id: int,
    first_day: date,
    last_day: date,
    *,
    keyring: Keyring,
    now: datetime,
    table_limit: int = 3000,
) -> DossierData:
    """Everything the dossier of `watch_id` shows for [first_day, last_day]; raises NoEvidence when the
    watch never kept evidence, ValueError for a period that ends before it starts."""
    if last_day < first_day:
        raise ValueError("the period ends before it starts")
    info = await repo.chain_info(watch_id)
    if info is None:
        raise NoEvidence(f"watch {watch_id} keeps no evidence (switch evidence mode on first)")
    data = DossierData(watch_id, info.chain_id, first_day, last_day, now, profile)
    start, end = bounds(first_day, last_day)
    span = await repo.seq_range(watch_id, start, end)
    first_seq, last_seq = span or (1, 0)
    attempts = await repo.count_attempts(watch_id, first_seq, last_seq) if span else 0
    summary = _Summary(data, keep_rows=attempts <= table_limit)
    lines = io.BytesIO()
    anchor = final = ""
    count = 0
    async for batch in repo.iter_entries(watch_id, first_seq, last_seq):
        for record in batch:
            summary.add(record)
            lines.write(chain.line(record.entry))
            anchor = anchor or record.prev
            final = record.hash
            count += 1
    summary.finish()
    data.captures = await repo.captures(summary.capture_ids)
    for capture in data.captures:
        day_row = summary.days.get(capture.taken_at.astimezone(PARIS).date())
        if day_row is not None:
            day_row.captured = True
    head = chain.header(
        info.chain_id,
        first_seq=first_seq if count else 0,
        last_seq=last_seq if count else 0,
        count=count,
        anchor=anchor,
        final_hash=final,
        period={"from": first_day.isoformat(), "to": last_day.isoformat()},
        exported_at=utc_text(now),
    )
    head["seal"] = keyring.seal(chain.seal_bytes(head))
    data.entries = count
    data.final_hash = final
    data.seal_kid = keyring.kid
    out = io.BytesIO()
    out.write(chain.canonical(head).encode() + b"\n")
    out.write(lines.getbuffer())
    del lines
    data.chain_bytes = out.getvalue()
    return data


async def owner_of(repo: EvidenceRepo, watch_id: int) -> int:
    """The subscriber who owns the watch's evidence; raises NotFound."""
    info = await repo.chain_info(watch_id)
    if info is None:
        raise NotFound(f"no evidence for watch {watch_id}")
    return info.subscriber_id
