# SPDX-License-Identifier: AGPL-3.0-or-later
"""The alert model: official links only, positive evidence only, deterministic delivery identity, Paris time."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from creneau.notify.links import UnofficialLinkError
from creneau.notify.message import Alert, MessageKind, idempotency_key, slots_by_day
from creneau.notify.render import phrase
from creneau.types import Slot, System, Target

from .builders import TARGET, make_alert, make_notices


@pytest.mark.parametrize(
    "url",
    ["https://rdv-prefecture.fr/", "https://www.isere.gouv.fr.evil.com/booking", "http://www.isere.gouv.fr/"],
    ids=["other-domain", "lookalike", "plain-http"],
)
def test_alert_refuses_to_exist_when_the_booking_link_is_not_official(url: str) -> None:
    target = Target(id="t", system=System.LEGACY, url=url)
    with pytest.raises(UnofficialLinkError):
        make_alert(target=target)


@given(host=st.from_regex(r"[a-z]{1,10}\.(com|net|fr|org)", fullmatch=True))
def test_alert_refuses_every_link_when_its_host_is_outside_gouv_fr(host: str) -> None:
    with pytest.raises(UnofficialLinkError):
        make_alert(target=Target(id="t", system=System.LEGACY, url=f"https://{host}/booking"))


def test_alert_refuses_to_exist_when_no_slot_was_seen() -> None:
    with pytest.raises(ValueError, match="at least one slot"):
        make_alert(slots=[])


def test_alert_refuses_naive_datetimes_when_built() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        make_alert(detected_at=datetime(2026, 5, 4, 8, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        make_alert(slots=[Slot(datetime(2026, 5, 5, 9, 30))])


def test_alert_key_is_the_same_when_the_delivery_is_rebuilt() -> None:
    first, again = make_alert(), make_alert()
    assert first.key == again.key
    assert first.id == again.id
    assert isinstance(first.id, uuid.UUID)
    assert first.key == idempotency_key(MessageKind.ALERT, "op-1", "w-1", "ch-1")


@pytest.mark.parametrize(
    "change",
    [{"channel_id": "ch-2"}, {"watch_id": "w-2"}, {"opening_id": "op-2"}],
    ids=["channel", "watch", "opening"],
)
def test_alert_key_differs_when_any_part_of_the_delivery_differs(change: dict[str, str]) -> None:
    assert make_alert(**change).key != make_alert().key


def test_notice_keys_differ_from_the_alert_when_the_ids_are_the_same() -> None:
    keys = {make_alert().key} | {n.key for n in make_notices()}
    assert len(keys) == 4


def test_slots_by_day_groups_in_paris_time_when_a_slot_is_after_midnight_in_paris() -> None:
    late = Slot(datetime(2026, 5, 5, 22, 30, tzinfo=UTC))  # 00:30 on Wednesday in Paris
    winter = Slot(datetime(2026, 1, 12, 8, 0, tzinfo=UTC))  # 09:00 in Paris (UTC+1)
    days, hidden = slots_by_day([late, winter], "fr")
    assert [d.label for d in days] == ["lundi 12 janvier 2026", "mercredi 6 mai 2026"]
    assert [s.time for d in days for s in d.slots] == ["09:00", "00:30"]
    assert hidden == 0


def test_slots_by_day_shows_the_earliest_when_limited() -> None:
    alert = make_alert(count=5)
    days, hidden = slots_by_day(alert.slots, "en", limit=3)
    assert sum(len(d.slots) for d in days) == 3
    assert hidden == 2
    assert days[0].label == "Tuesday 5 May 2026"


def test_format_day_writes_premier_when_french_and_first_of_month() -> None:
    days, _ = slots_by_day([Slot(datetime(2026, 6, 1, 8, 0, tzinfo=UTC))], "fr")
    assert days[0].label == "lundi 1er juin 2026"


@pytest.mark.parametrize(
    ("locale", "title"),
    [
        ("fr", "Créneaux disponibles : Remise de titre de séjour — Préfecture de l'Isère"),
        ("en", "Slots available: Residence permit collection — Préfecture de l'Isère"),
    ],
)
def test_phrase_title_names_demarche_and_office_when_rendered(
    locale: str, title: str, alert_factory: Callable[..., Alert]
) -> None:
    assert phrase("title", alert_factory(), locale) == title  # type: ignore[arg-type]
    assert phrase("title", alert_factory(count=1), locale).startswith(("Créneau disponible", "Slot available"))


def test_target_fields_fall_back_to_the_label_when_office_and_demarche_are_unknown() -> None:
    alert = make_alert(office=None, demarche=None)
    assert alert.office_name == TARGET.label
    assert alert.demarche("en") == TARGET.label


def test_alert_uses_the_outbox_key_when_one_is_given() -> None:
    alert = make_alert(delivery_key="opening:7|w3|c12")
    assert alert.key == "opening:7|w3|c12"
    assert alert.id == make_alert(delivery_key="opening:7|w3|c12").id != make_alert().id
