# SPDX-License-Identifier: AGPL-3.0-or-later
"""Which URLs are legacy booking forms, and the target each one makes."""

from __future__ import annotations

import pytest

from creneau.sources.errors import ErrorKind, SourceError
from creneau.sources.legacy import ADAPTER
from creneau.sources.legacy.urls import booking_url, week_url
from creneau.types import System


@pytest.mark.parametrize(
    ("url", "host", "form_id"),
    [
        pytest.param("https://www.val-doise.gouv.fr/booking/create/11343/2", "www.val-doise.gouv.fr", 11343, id="step"),
        pytest.param("https://www.essonne.gouv.fr/booking/create/23014", "www.essonne.gouv.fr", 23014, id="no-step"),
        pytest.param(
            "http://www.rdv.puy-de-dome.gouv.fr/booking/create/801/", "www.rdv.puy-de-dome.gouv.fr", 801, id="http"
        ),
        pytest.param("https://rdv.ain.gouv.fr/booking/create/804/0", "rdv.ain.gouv.fr", 804, id="rdv-subdomain"),
        pytest.param("https://pprdv.interieur.gouv.fr/booking/create/989/1", "pprdv.interieur.gouv.fr", 989, id="pp"),
        pytest.param(
            "https://www.hauts-de-seine.gouv.fr/booking/create/13525/5/1618819200",
            "www.hauts-de-seine.gouv.fr",
            13525,
            id="slot-link",
        ),
    ],
)
def test_target_from_url_points_at_step_0_when_booking_url(url: str, host: str, form_id: int) -> None:
    assert ADAPTER.matches(url)
    target = ADAPTER.target_from_url(url)
    assert target.system is System.LEGACY
    assert target.url == f"https://{host}/booking/create/{form_id}/0"
    label = host.removeprefix("www.").removesuffix(".gouv.fr").replace(".", "-")
    assert (target.demarche_id, target.host, target.id) == (form_id, host, f"legacy-{label}-{form_id}")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        pytest.param("https://example.com/booking/create/1/0", "gouv.fr", id="not-gouv"),
        pytest.param("https://www.val-doise.gouv.fr.evil.example/booking/create/1/0", "gouv.fr", id="lookalike"),
        pytest.param("https://www.val-doise.gouv.fr/booking/create/abc", "not a legacy booking URL", id="bad-id"),
        pytest.param("https://www.val-doise.gouv.fr/Rendez-vous", "not a legacy booking URL", id="other-page"),
        pytest.param("ftp://www.val-doise.gouv.fr/booking/create/1", "http", id="scheme"),
        pytest.param("booking/create/1", "http", id="relative"),
        pytest.param(
            "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/1234/",
            "not a legacy booking URL",
            id="rdvpref",
        ),
    ],
)
def test_target_from_url_says_what_is_wrong_when_not_a_booking_url(url: str, message: str) -> None:
    assert not ADAPTER.matches(url)
    with pytest.raises(SourceError, match=message) as caught:
        ADAPTER.target_from_url(url)
    assert caught.value.kind is ErrorKind.BAD_INPUT


def test_week_url_names_form_guichet_and_day_offset() -> None:
    form = booking_url("https://rdv.puy-de-dome.gouv.fr/booking/create/801/4")
    assert week_url(form, "809", 14) == (
        "https://rdv.puy-de-dome.gouv.fr/ezjscore/call/bookingserver::planning::assign::801::809::14"
    )
