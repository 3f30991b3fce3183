# SPDX-License-Identifier: AGPL-3.0-or-later
"""The official-link allowlist: gouv.fr and its subdomains over https, nothing that only looks like it."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from creneau.notify.links import (
    UnofficialLinkError,
    check_unsubscribe_token,
    is_official_url,
    require_official,
    unsubscribe_token,
)

LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
PATH_CHARS = string.ascii_letters + string.digits + "/-_.?=&%#"
OTHER_TLD = st.sampled_from(["com", "net", "fr", "org", "io", "gouv", "fr.evil.com"])


@pytest.mark.parametrize(
    "url",
    [
        "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/3762/",
        "https://gouv.fr/",
        "https://www.isere.gouv.fr/booking/create/12345/0",
        "https://rendezvouspasseport.ants.gouv.fr/",
        "https://WWW.ISERE.GOUV.FR/x",
        "https://rdv.gouv.fr:443/a?b=c#d",
    ],
)
def test_is_official_url_accepts_gouv_fr_when_the_link_is_plain_https(url: str) -> None:
    assert is_official_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://gouv.fr.evil.com/",
        "https://evil-gouv.fr/",
        "https://xgouv.fr/",
        "https://gouv-fr.com/",
        "http://www.isere.gouv.fr/",
        "https://evil.com\\@www.isere.gouv.fr/",
        "https://www.isere.gouv.fr@evil.com/",
        "https://user:pw@www.isere.gouv.fr/",
        "https://www.isere.gouv.fr.:443/",
        "https://www.isere.gouv.fr:8443/",
        "https://www.isere.gouv.fr%2eevil.com/",
        "https://www.isеre.gouv.fr/",  # Cyrillic е
        "https://[::1]/x.gouv.fr",
        "https://192.168.0.1/gouv.fr",
        "https://evil.com/?u=https://gouv.fr",
        "https://evil.com#.gouv.fr",
        " https://www.isere.gouv.fr/",
        "https://www.isere.gouv.fr/\nx",
        "javascript:alert(1)//gouv.fr",
        "//www.isere.gouv.fr/",
        "",
    ],
)
def test_is_official_url_refuses_lookalikes_when_the_host_is_not_gouv_fr(url: str) -> None:
    assert not is_official_url(url)


@given(labels=st.lists(LABEL, min_size=1, max_size=4), path=st.text(PATH_CHARS, max_size=30))
def test_is_official_url_accepts_any_subdomain_when_it_ends_in_gouv_fr(labels: list[str], path: str) -> None:
    assert is_official_url("https://" + ".".join([*labels, "gouv", "fr"]) + "/" + path)


@given(labels=st.lists(LABEL, min_size=1, max_size=4), tld=OTHER_TLD, tail=st.sampled_from(["", "/", "/gouv.fr"]))
def test_is_official_url_refuses_every_host_when_it_does_not_end_in_gouv_fr(
    labels: list[str], tld: str, tail: str
) -> None:
    host = ".".join([*labels, tld])
    assert not is_official_url(f"https://{host}{tail}")
    assert not is_official_url(f"https://{host}.gouv.fr.{tld}{tail}")


@given(url=st.text(max_size=80))
def test_is_official_url_never_accepts_a_host_outside_gouv_fr_when_given_arbitrary_text(url: str) -> None:
    from urllib.parse import urlsplit

    if is_official_url(url):
        host = urlsplit(url).hostname or ""
        assert host == "gouv.fr" or host.endswith(".gouv.fr")


def test_require_official_raises_when_the_link_is_not_official() -> None:
    with pytest.raises(UnofficialLinkError, match=r"gouv\.fr only"):
        require_official("https://rdv-prefecture.com/")


def test_unsubscribe_token_verifies_only_when_secret_and_channel_match() -> None:
    token = unsubscribe_token(b"k", "ch-1")
    assert check_unsubscribe_token(b"k", "ch-1", token)
    assert not check_unsubscribe_token(b"k", "ch-2", token)
    assert not check_unsubscribe_token(b"other", "ch-1", token)
