# SPDX-License-Identifier: AGPL-3.0-or-later
"""Every parameter of the "realistic France" world, with the slot-dynamics.md section it comes from.

"A" marks an assumption (slot-dynamics.md §8 calls them "to calibrate later"). Times of day are minutes
after Paris midnight; a window `(lo, hi)` may run past 1440 (into the next morning). A benchmark tunes the
world with `dataclasses.replace(FranceParams(), …)` or a scenario's `generate: {params: …}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeVar

from creneau.sim.laws import OFFICE_WINDOWS, Lifetime, LogNormal

Window = tuple[int, int]
T = TypeVar("T")
# Laws used as defaults (frozen, so sharing one instance is safe).
_ANTS_DAY, _ANTS_ADHOC = LogNormal(6.0, 18.0), LogNormal(4.0, 12.0)
_LEAD, _SIZE, _OVERLOADED = LogNormal(14.0, 28.0), LogNormal(30.0, 150.0), LogNormal(120.0, 360.0)
_HOT = Lifetime(human=LogNormal(140.0, 750.0), bot=LogNormal(13.0, 90.0), bot_share=0.6)


def _frozen(**items: T) -> Mapping[str, T]:
    return MappingProxyType(items)


@dataclass(frozen=True)
class FranceParams:
    """The realistic-France world's laws (see module docstring). Class names: hot warm cold dead starved."""

    # §8 office classes, share of targets (A: shares; existence [C]).
    class_shares: Mapping[str, float] = field(
        default_factory=lambda: _frozen(hot=0.15, warm=0.35, cold=0.30, dead=0.10, starved=0.10)
    )
    # Booking systems of the targets (A: not in §8; RDV Préfecture is national since late 2023, booking-systems §7).
    system_mix: Mapping[str, float] = field(default_factory=lambda: _frozen(rdvpref=0.6, legacy=0.2, ants=0.2))
    pp_share_of_legacy: float = 0.2  # §8 "PP Paris: legacy variant, class hot" (A: share)
    # Batches per week and agenda (A: tuned to §8 "per-check availability"; starved "≤ 1 batch/month").
    batches_per_week: Mapping[str, float] = field(
        default_factory=lambda: _frozen(hot=1.0, warm=1.1, cold=0.6, starved=0.15, dead=0.0)
    )

    # --- §8 publication schedule, RDV Préfecture -------------------------------------------------------
    rdvpref_modes: Mapping[str, float] = field(
        default_factory=lambda: _frozen(weekly_fixed=0.45, publish_now=0.35, random_in_week=0.20)
    )
    weekly_weekdays: tuple[float, ...] = (0.40, 0.15, 0.15, 0.15, 0.15)  # Mon 40 %, Tue–Fri 15 % each
    # (share, windows): 08:00–09:30 40 %, 11:00–14:00 25 %, 00:00 15 %, other office hours 20 %.
    weekly_times: tuple[tuple[float, tuple[Window, ...]], ...] = (
        (0.40, ((480, 570),)),
        (0.25, ((660, 840),)),
        (0.15, ((0, 0),)),
        (0.20, ((570, 660), (840, 1080))),
    )
    scheduled_step_min: int = 5  # scheduled instants are round minutes (A)
    office_hours: tuple[Window, ...] = ((540, 720), (810, 1050))  # "publish now" clicks, Mon–Fri (A: hours)
    publish_now_delay_s: float = 60.0  # §1 "publish now" = click + 60 s safety delay
    random_window: tuple[Window, ...] = ((420, 1140),)  # §8 random-in-week: uniform Mon–Fri 07:00–19:00
    # §8 scheduled batches announced 1–7 d ahead (A), by an agent in office hours (a weekend → the Friday).
    announce_days: tuple[float, float] = (1.0, 7.0)
    notice_lag_s: float = 600.0  # §8 notice shows ≤ 10 min after scheduling (§6 10-min cache)
    moved_share: float = 0.05  # §8 5 % of announced instants are moved before they fall (A)
    # §6/§8 visibility = instant + U(0, lag): Redis copy every 60 s on RDV Préfecture; live elsewhere (A).
    visibility_lag_s: Mapping[str, float] = field(default_factory=lambda: _frozen(rdvpref=60.0, legacy=0.0, ants=0.0))

    # --- §8 legacy module and Préfecture de Police -----------------------------------------------------
    legacy_modes: Mapping[str, float] = field(default_factory=lambda: _frozen(weekly_fixed=0.40, random_in_week=0.60))
    # Weekly-fixed legacy: Sunday 20:00–24:00 or Monday 06:00–09:00 (day offset from Monday, window).
    legacy_weekly: tuple[tuple[float, int, Window], ...] = ((0.5, -1, (1200, 1440)), (0.5, 0, (360, 540)))
    pp_window: Window = (360, 540)  # §8 PP weekly-fixed early morning (A: 06:00–09:00, weekday as RDV Préfecture)

    # --- §8 ANTS town halls ----------------------------------------------------------------------------
    ants_horizon_days: tuple[int, int] = (30, 90)  # rolling horizon: one new day at 00:00
    ants_day_size: LogNormal = _ANTS_DAY  # slots of the day that opens (A)
    ants_adhoc_per_week: tuple[int, int] = (1, 3)  # plus 1–3 ad-hoc batches/week in office hours
    ants_adhoc_size: LogNormal = _ANTS_ADHOC  # (A)

    # --- §8 batch content ------------------------------------------------------------------------------
    lead_days: LogNormal = _LEAD  # lead to the week published: median 14, p10 7, p90 28
    batch_size: LogNormal = _SIZE  # median 30, p10 6, p90 150 (A)
    max_counters: int = 9  # §2 Vertigo: 1–9 counters
    slot_windows: tuple[Window, ...] = OFFICE_WINDOWS  # 08:30–12:00 / 14:00–16:30
    slot_spacing_min: tuple[int, ...] = (10, 15, 20, 30)  # 10–30 min apart
    single_planning_share: float = 0.6  # legacy batch on one guichet only (issue §4 "often at only one", A)
    booking_cutoff_s: float = 3600.0  # a slot stops being bookable 1 h before its time (A)

    # --- §8 slot lifetime (visible → taken), seconds --------------------------------------------------
    # hot: p10 3 s, p50 40 s, p90 6 min, p99 30 min with bots taking 60 % (mixture fitted to those four);
    # warm p50 20 min, p90 4 h; cold p50 2 d, p90 > 7 d (10 d); starved as hot (A: pent-up demand).
    lifetimes: Mapping[str, Lifetime] = field(
        default_factory=lambda: _frozen(
            hot=_HOT,
            warm=Lifetime(LogNormal(1200.0, 14400.0)),
            cold=Lifetime(LogNormal(172800.0, 864000.0)),
            starved=_HOT,
            dead=Lifetime(LogNormal(172800.0, 864000.0)),
        )
    )
    night: Window = (60, 360)  # §8 night 01:00–06:00 …
    night_factor: float = 3.0  # … multiplies human-taken lifetimes × 3

    # --- §8 cancellations ------------------------------------------------------------------------------
    cancel_share: float = 0.05  # 5 % of booked slots come back (A)
    cancel_day_share: float = 0.70  # 70 % of them between 08:00 and 20:00
    cancel_day: Window = (480, 1200)
    swap_share_hot: float = 0.10  # 10 % of hot returns are reseller swaps …
    swap_visible_s: tuple[float, float] = (0.5, 5.0)  # … visible < 5 s
    purge_day_prob: float = 0.05  # purge bursts on 1 day in 20 (A) …
    purge_window: Window = (480, 600)  # … between 08:00 and 10:00 …
    purge_size: tuple[int, int] = (1, 10)  # … of 1–10 slots
    hold_share_legacy: float = 0.10  # legacy unconfirmed holds: 10 % of bookings (A) …
    hold_minutes: tuple[tuple[float, int], ...] = ((0.3, 5), (0.7, 60))  # … return after 5 or 60 min (per form)
    max_return_depth: int = 2  # a returned slot may itself come back, this many times

    # --- §8 weekday / day-night / seasons --------------------------------------------------------------
    holiday_factor: float = 0.3  # August and 24 Dec–1 Jan: × 0.3 batches (A)
    # Days simulated before `start`, per class, so long-lived slots are already on show at `start`.
    warmup_days: Mapping[str, float] = field(
        default_factory=lambda: _frozen(hot=3.0, warm=10.0, cold=28.0, starved=28.0, dead=0.0)
    )

    # --- §8 error episodes -----------------------------------------------------------------------------
    maintenance_per_month: float = 1.0  # per host (A) …
    maintenance_minutes: tuple[float, float] = (30.0, 120.0)  # … 30–120 min …
    maintenance_window: Window = (1320, 1800)  # … starting 22:00–06:00
    overloaded_share_hot: float = 0.30  # "Service surchargé" on 30 % of hot publications …
    overloaded_s: LogNormal = _OVERLOADED  # … LogNormal(median 2 min) from the instant (A: p90)
    background_5xx_rate: float = 0.02  # background 2 % 5xx (A)
    session_lifetime_s: float = 1500.0  # RDV Préfecture session 20–30 min idle (A)
