# SPDX-License-Identifier: AGPL-3.0-or-later
"""The scenario file's schema (pydantic) and its value syntaxes: durations, instants, lifetimes.

Durations: `90s`, `5m`, `2h30m`, `3d`, `1w`, `250ms`, or a number of seconds. Instants: an ISO date-time
(`2026-05-04T08:30`, Paris time unless it carries an offset) or an offset from the scenario's start
(`+2m`, `+3d8h`, `-1h`). Lifetimes: `never`, a duration (fixed), `{p50: 40s, p90: 6m}` (log-normal),
`{fixed: 5m}` or an office class name (`hot`, `warm`, `cold`, `starved`) for that class's law.
The reference of every key is docs/scenarios.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from creneau.sim.laws import Lifetime, LogNormal
from creneau.sim.model import EpisodeKind
from creneau.sim.params import FranceParams
from creneau.types import PARIS

_TOKEN = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)")
_UNIT = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class RawInt(int):
    """A YAML integer that remembers how it was written (postcodes, ids: `01000` is not 512)."""

    raw: str

    def __new__(cls, value: int, raw: str) -> RawInt:
        obj = super().__new__(cls, value)
        obj.raw = raw
        return obj


def parse_duration(value: object) -> timedelta:
    """Raises ValueError unless `value` is a duration (see module docstring)."""
    if isinstance(value, bool):
        raise ValueError("not a duration (e.g. 90s, 5m, 2h30m, 3d)")
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    if isinstance(value, timedelta):
        return value
    text = str(value).strip()
    pos, total = 0, 0.0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise ValueError(f"not a duration (e.g. 90s, 5m, 2h30m, 3d): {text!r}")
        total += float(match.group(1)) * _UNIT[match.group(2)]
        pos = match.end()
    if not text:
        raise ValueError("not a duration (e.g. 90s, 5m, 2h30m, 3d): empty")
    return timedelta(seconds=total)


@dataclass(frozen=True, slots=True)
class TimeRef:
    """An instant: absolute, or an offset from the scenario's start."""

    absolute: datetime | None = None
    offset: timedelta | None = None

    def resolve(self, start: datetime) -> datetime:
        return self.absolute if self.absolute is not None else start + (self.offset or timedelta())


def parse_instant(value: object) -> TimeRef:
    if isinstance(value, TimeRef):
        return value
    text = str(value).strip()
    if text[:1] in "+-" and text:
        try:
            offset = parse_duration(text[1:])
        except ValueError:
            raise ValueError(f"not an ISO date-time or a +duration offset: {text!r}") from None
        return TimeRef(offset=-offset if text[0] == "-" else offset)
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not an ISO date-time: {text!r}") from None
    return TimeRef(absolute=(t if t.tzinfo else t.replace(tzinfo=PARIS)).astimezone(UTC))


def parse_start(value: object) -> TimeRef:
    """`now` (TimeRef with neither field) or an absolute ISO date-time."""
    if str(value).strip().lower() == "now":
        return TimeRef()
    ref = parse_instant(value)
    if ref.absolute is None:
        raise ValueError("start must be `now` or an ISO date-time")
    return ref


@dataclass(frozen=True, slots=True)
class WeekRef:
    """The Monday of a published week: a date, or an offset from the start (`+14d`: that week's Monday)."""

    monday: date | None = None
    offset: timedelta | None = None


def parse_week(value: object) -> WeekRef:
    text = str(value).strip()
    if text.startswith("+"):
        return WeekRef(offset=parse_duration(text[1:]))
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a date (YYYY-MM-DD) or +duration: {text!r}") from None
    if day.weekday() != 0:
        raise ValueError(f"week_of must be a Monday, {day} is a {day.strftime('%A')}")
    return WeekRef(monday=day)


@dataclass(frozen=True, slots=True)
class LifetimeRef:
    """A parsed `lifetime:` value; `law` None means nobody ever takes the slot."""

    law: Lifetime | None


_CLASS_LAWS = FranceParams().lifetimes


def parse_lifetime(value: object) -> LifetimeRef:
    if isinstance(value, LifetimeRef):
        return value
    if isinstance(value, str) and value.strip().lower() == "never":
        return LifetimeRef(None)
    if isinstance(value, str) and value.strip() in _CLASS_LAWS:
        return LifetimeRef(_CLASS_LAWS[value.strip()])
    if isinstance(value, dict):
        keys = set(value)
        if keys == {"fixed"}:
            return LifetimeRef(Lifetime(LogNormal.fixed(_positive(value["fixed"]))))
        if keys == {"p50", "p90"}:
            p50, p90 = _positive(value["p50"]), _positive(value["p90"])
            if p90 < p50:
                raise ValueError("lifetime p90 must be >= p50")
            return LifetimeRef(Lifetime(LogNormal(p50, p90)))
        raise ValueError("lifetime mapping must be {p50: …, p90: …} or {fixed: …}")
    return LifetimeRef(Lifetime(LogNormal.fixed(_positive(value))))


def _positive(value: object) -> float:
    seconds = parse_duration(value).total_seconds()
    if seconds <= 0:
        raise ValueError("a lifetime must be > 0 (use `never` for slots nobody takes)")
    return seconds


def _ident(value: object) -> object:
    if isinstance(value, RawInt):
        return value.raw
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Instant = Annotated[TimeRef, BeforeValidator(parse_instant)]
Start = Annotated[TimeRef, BeforeValidator(parse_start)]
Week = Annotated[WeekRef, BeforeValidator(parse_week)]
LifetimeSpec = Annotated[LifetimeRef, BeforeValidator(parse_lifetime)]
Ident = Annotated[str, BeforeValidator(_ident), Field(min_length=1)]
OfficeClass = Literal["hot", "warm", "cold", "dead", "starved"]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True, populate_by_name=True)


class PlanningSpec(_Spec):
    id: Ident
    label: str = ""


class _TargetSpec(_Spec):
    id: Ident
    name: str = ""
    host: str | None = None
    office_class: OfficeClass = Field("warm", alias="class")
    lifetime: LifetimeSpec | None = None


class RdvprefSpec(_TargetSpec):
    system: Literal["rdvpref"]
    demarche: int = Field(gt=0)


class LegacySpec(_TargetSpec):
    system: Literal["legacy"]
    form: int = Field(gt=0)
    plannings: list[PlanningSpec] | None = Field(None, min_length=1)


class AntsSpec(_TargetSpec):
    system: Literal["ants"]
    meeting_point: int = Field(gt=0)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    zip: Annotated[str, BeforeValidator(_ident), Field(pattern=r"^\d{5}$")]
    city: str


TargetSpec = Annotated[RdvprefSpec | LegacySpec | AntsSpec, Field(discriminator="system")]


class MovedSpec(_Spec):
    from_: Instant = Field(alias="from")
    at: Instant


class PublicationSpec(_Spec):
    target: Ident
    at: Instant
    mode: Literal["scheduled", "publish_now"] = "scheduled"
    announce: Duration | None = None
    lag: Duration | None = None
    week_of: Week | None = None
    size: int | None = Field(None, ge=0, le=5000)
    slots: list[Instant] | None = None
    planning: Ident | None = None
    lifetime: LifetimeSpec | None = None
    moved: MovedSpec | None = None


class CancellationSpec(_Spec):
    target: Ident
    at: Instant
    slot: Instant | None = None
    planning: Ident | None = None
    kind: Literal["cancellation", "swap", "hold_return"] = "cancellation"
    count: int = Field(1, ge=1, le=1000)
    lag: Duration | None = None
    lifetime: LifetimeSpec | None = None


class EpisodeSpec(_Spec):
    kind: EpisodeKind
    host: str | None = None
    target: Ident | None = None
    from_: Instant = Field(alias="from")
    to: Instant | None = None
    duration: Duration | None = None
    retry_after: Duration | None = None
    delay: Duration = timedelta()


class ScaleSpec(_Spec):
    copies: int = Field(1, ge=1, le=100_000)
    id_stride: int = Field(100_000, ge=1)
    stagger: Duration = timedelta()


class GenerateSpec(_Spec):
    targets: int = Field(ge=0, le=200_000)
    days: float | None = Field(None, gt=0)
    seed: int | None = None
    mix: dict[Literal["rdvpref", "legacy", "ants"], float] | None = None
    prefix: str = "fr-"
    params: dict[str, Any] = Field(default_factory=dict)


class ScenarioSpec(_Spec):
    description: str = ""
    seed: int = 0
    start: Start = TimeRef()
    duration: Duration
    session_lifetime: Duration = timedelta(minutes=25)
    captcha_ttl: Duration = timedelta(minutes=5)
    booking_cutoff: Duration = timedelta(hours=1)
    rules: dict[str, Any] = Field(default_factory=dict)
    targets: list[TargetSpec] = Field(default_factory=list)
    publications: list[PublicationSpec] = Field(default_factory=list)
    cancellations: list[CancellationSpec] = Field(default_factory=list)
    episodes: list[EpisodeSpec] = Field(default_factory=list)
    scale: ScaleSpec = ScaleSpec()
    generate: GenerateSpec | None = None


# --- errors that name the file and the line ------------------------------------------------------------
Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    line: int
    where: str
    reason: str

    def __str__(self) -> str:
        return (
            f"{self.file}:{self.line}: {self.where}: {self.reason}"
            if self.where
            else f"{self.file}:{self.line}: {self.reason}"
        )


class ScenarioError(Exception):
    """A scenario file that cannot be used; `str()` is one `file:line: key.path: reason` line per problem."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: p.line)
        super().__init__("\n".join(str(p) for p in self.problems))


def dotted(path: Path) -> str:
    """`("publications", 2, "at")` → `publications[2].at`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass(frozen=True, slots=True)
class Locator:
    """Maps a key path of the parsed file to its line (the nearest enclosing key when it is absent)."""

    file: str
    lines: dict[Path, int]

    def line(self, path: Path) -> int:
        for n in range(len(path), -1, -1):
            if path[:n] in self.lines:
                return self.lines[path[:n]]
        return 1

    def problem(self, path: Path, reason: str) -> Problem:
        return Problem(self.file, self.line(path), dotted(path), reason)

    def error(self, path: Path, reason: str) -> ScenarioError:
        return ScenarioError([self.problem(path, reason)])
