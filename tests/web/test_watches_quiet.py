# SPDX-License-Identifier: AGPL-3.0-or-later
"""Quiet hours: the window arithmetic (Paris wall clock, across midnight and DST), and the sender holding
notices (and alerts, when asked) until the window ends, without losing or double-counting anything."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from creneau.detector import DetectorState, detect
from creneau.notify.message import MessageKind
from creneau.notify.quiet import QuietGate
from creneau.notify.registry import Transports
from creneau.notify.sender import Sender, SenderOptions
from creneau.store import DeliveryStatus
from creneau.store.watchers import QuietHours, WatcherRepo
from creneau.types import PARIS, Observation, Outcome, Slot

from .kit import WebKit, target

times = st.builds(time, st.integers(0, 23), st.integers(0, 59))
instants = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC))


@settings(max_examples=300, deadline=None)
@given(start=times, end=times, now=instants, alerts=st.booleans())
def test_quiet_hours_hold_until_the_end_of_the_window_when_inside_it(
    start: time, end: time, now: datetime, alerts: bool
) -> None:
    quiet = QuietHours(start, end, alerts)
    until = quiet.hold_until(now, urgent=False)
    local = now.astimezone(PARIS).time().replace(second=0, microsecond=0)
    inside = (start <= local < end) if start < end else (local >= start or local < end)
    assert (until is not None) == inside
    if until is not None:
        assert now < until <= now + timedelta(hours=25)  # a DST night is 25 hours long
        assert until.astimezone(PARIS).time() in (end, end.replace(hour=(end.hour + 1) % 24))  # the spring gap
        if start != end:
            assert quiet.hold_until(until, urgent=False) is None
    assert (quiet.hold_until(now, urgent=True) == until) if alerts else quiet.hold_until(now, urgent=True) is None


def test_quiet_hours_across_midnight_end_the_next_morning_when_held_in_the_evening() -> None:
    quiet = QuietHours(time(22, 0), time(7, 30))
    evening = datetime(2026, 5, 4, 21, 15, tzinfo=UTC)  # 23:15 in Paris
    assert quiet.hold_until(evening, urgent=False) == datetime(2026, 5, 5, 7, 30, tzinfo=PARIS)
    assert quiet.hold_until(evening, urgent=True) is None


@pytest.fixture
async def sender(kit: WebKit) -> AsyncIterator[Sender]:
    async with aiohttp.ClientSession() as session:
        transports = Transports(kit.settings, session)
        quiet = QuietGate(kit.store, every_s=0.0)
        options = SenderOptions(owner="quiet-test", kinds=("email",))
        sender = Sender(kit.store, transports, clock=kit.clock, options=options, quiet=quiet)
        try:
            yield sender
        finally:
            await sender.close()
            await transports.close()


async def _watcher(kit: WebKit, quiet: QuietHours | None) -> int:
    """Someone who watches the target by e-mail, with these quiet hours (t0 is 08:00 in Paris)."""
    now = kit.clock.now()
    await kit.store.targets.upsert_many([target()], now=now)
    person = await kit.store.subscribers.add_subscriber("night@example.org", now=now)
    await kit.store.subscribers.add_channel(
        person.id, "email", "night@example.org", {"address": "night@example.org"}, now=now
    )
    await kit.store.subscribers.add_watch(person.id, [target().id], now=now)
    await WatcherRepo(kit.store).set_quiet(person.id, quiet, now=now)
    return person.id


async def _opening(kit: WebKit) -> int:
    slot = Slot(datetime(2026, 5, 12, 7, 0, tzinfo=UTC), guichet="1")
    observation = Observation(target().id, kit.clock.now(), Outcome.SLOTS_AVAILABLE, "test", (slot,))
    (transition,) = detect(DetectorState(), observation).transitions
    return (await kit.store.outbox.open_opening_and_enqueue(transition, now=kit.clock.now())).id


MORNING = QuietHours(time(7, 0), time(9, 0))  # t0 = 08:00 Paris is inside; it ends at 07:00 UTC


async def test_sender_holds_a_notice_until_quiet_hours_end_then_sends_it_once(kit: WebKit, sender: Sender) -> None:
    await _watcher(kit, MORNING)
    paused = await kit.store.targets.pause(
        target().id, until=kit.clock.now() + timedelta(hours=6), reason="blocked", now=kit.clock.now()
    )
    assert paused is not None
    await sender.drain()
    (held,) = await kit.store.outbox.for_transition(paused.id)
    assert held.status is DeliveryStatus.PENDING
    assert held.attempts == 0
    assert len(kit.sink.messages) == 0
    kit.clock.set(datetime(2026, 5, 4, 7, 0, tzinfo=UTC))
    await sender.drain()
    (sent,) = await kit.store.outbox.for_transition(paused.id)
    assert sent.status is DeliveryStatus.SENT
    assert len(await kit.sink.messages.wait_for(1)) == 1


@pytest.mark.parametrize(
    ("alerts", "sent_now"),
    [pytest.param(False, True, id="alerts-go-at-once"), pytest.param(True, False, id="alerts-held")],
)
async def test_sender_holds_alerts_only_when_the_person_chose_so(
    kit: WebKit, sender: Sender, alerts: bool, sent_now: bool
) -> None:
    await _watcher(kit, QuietHours(MORNING.start, MORNING.end, alerts=alerts))
    transition_id = await _opening(kit)
    await sender.drain()
    (delivery,) = await kit.store.outbox.for_transition(transition_id)
    assert (delivery.status is DeliveryStatus.SENT) == sent_now
    assert (len(kit.sink.messages) == 1) == sent_now


async def test_quiet_gate_lets_everything_through_when_the_person_set_no_quiet_hours(kit: WebKit) -> None:
    person = await _watcher(kit, None)
    gate = QuietGate(kit.store)
    assert await gate.hold_until(person, MessageKind.TARGET_UNAVAILABLE, kit.clock.now()) is None
