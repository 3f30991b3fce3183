# SPDX-License-Identifier: AGPL-3.0-or-later
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from creneau.catalog.official import is_official_host, is_official_url

LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)


@pytest.mark.parametrize(
    "url",
    [
        "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/16040/",
        "https://gouv.fr",
        "https://ants.gouv.fr/",
        "https://WWW.ESSONNE.GOUV.FR/booking/create/23014/0",
        "https://pprdv.interieur.gouv.fr:443/booking/create/989",
        "https://timbres.impots.gouv.fr/?a=b#x",
    ],
)
def test_is_official_url_accepts_when_https_on_gouv_fr(url: str) -> None:
    assert is_official_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://www.essonne.gouv.fr/",
        "https://gouv.fr.evil.com/",
        "https://xgouv.fr/",
        "https://gouv-fr.com/",
        "https://www.essonne.gouv.fr.evil.com/booking/create/1",
        "https://evil.com/?u=https://x.gouv.fr",
        "https://evil.com#.gouv.fr",
        "https://x.gouv.fr@evil.com/",
        "https://user:pw@x.gouv.fr/",
        "https://x.gouv.fr:8443/",
        "https://x.gouv.fr./",
        "https://x..gouv.fr/",
        "https://-x.gouv.fr/",
        "https://x.gouv.fr\\@evil.com/",
        "https://x.gouv.fr /",
        "https://x.gouv.fr\n/",
        "https://127.0.0.1/",
        "https:///x.gouv.fr",
        "//x.gouv.fr/",
        "javascript:alert(1)//x.gouv.fr",
        "ftp://x.gouv.fr/",
        "https://www.taaf.fr/",
        "https://x.gouv.fr:/",
        "",
    ],
)
def test_is_official_url_refuses_when_not_strictly_gouv_fr(url: str) -> None:
    assert not is_official_url(url)


@settings(deadline=None)
@given(
    labels=st.lists(LABEL, min_size=0, max_size=3), path=st.from_regex(r"(/[a-zA-Z0-9._~-]{0,10}){0,3}", fullmatch=True)
)
def test_is_official_url_accepts_when_any_subdomain_of_gouv_fr(labels: list[str], path: str) -> None:
    host = ".".join([*labels, "gouv", "fr"])
    assert is_official_url(f"https://{host}{path}")


@settings(deadline=None)
@given(prefix=st.lists(LABEL, min_size=0, max_size=2), evil=st.lists(LABEL, min_size=1, max_size=2), tld=LABEL)
def test_is_official_url_refuses_when_gouv_fr_is_not_the_suffix(prefix: list[str], evil: list[str], tld: str) -> None:
    host = ".".join([*prefix, "gouv", "fr", *evil, tld])
    assert not is_official_url(f"https://{host}/")


@settings(deadline=None)
@given(glued=LABEL.filter(lambda s: not s.endswith("-")))
def test_is_official_host_refuses_when_gouv_fr_is_glued_to_a_label(glued: str) -> None:
    assert not is_official_host(f"{glued}gouv.fr")


@settings(deadline=None)
@given(text=st.text(max_size=80))
def test_is_official_url_never_raises_and_implies_https_gouv_fr(text: str) -> None:
    if is_official_url(text):
        assert text.lower().startswith("https://")
        host = text.split("/")[2].split(":")[0].lower()
        assert host == "gouv.fr" or host.endswith(".gouv.fr")
