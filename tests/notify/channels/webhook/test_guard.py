# SPDX-License-Identifier: AGPL-3.0-or-later
"""The SSRF guard refuses every non-public address, literal or resolved, at pre-check and at connect time."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from creneau.notify.base import ConfigError
from creneau.notify.channels.webhook import SPEC
from creneau.notify.channels.webhook.config import WebhookConfig
from creneau.notify.channels.webhook.guard import check_destination, refusal
from creneau.notify.errors import PermanentError, RefusedDestination
from creneau.notify.fakes.webhook import WebhookSink
from creneau.notify.message import Alert

from .conftest import SECRET, StaticResolver, make_transport

REFUSED = {
    "10.0.0.1": "private",
    "172.16.5.4": "private",
    "192.168.1.10": "private",
    "127.0.0.1": "loopback",
    "127.8.9.10": "loopback",
    "169.254.169.254": "link-local",
    "0.0.0.0": "unspecified",
    "100.64.0.1": "not global",
    "224.0.0.251": "multicast",
    "240.0.0.1": "reserved",
    "192.0.2.1": "documentation",
    "255.255.255.255": "private",
    "::1": "loopback",
    "::": "unspecified",
    "fc00::1": "private",
    "fd12:3456::1": "private",
    "fe80::1": "link-local",
    "fec0::1": "site-local",
    "ff02::1": "multicast",
    "::ffff:127.0.0.1": "loopback",
    "::ffff:10.0.0.1": "private",
    "::ffff:169.254.169.254": "link-local",
    "::127.0.0.1": "loopback",
    "2002:a00:1::": "private",  # 6to4 of 10.0.0.1
    "64:ff9b::7f00:1": "loopback",  # NAT64 of 127.0.0.1
}
PUBLIC = ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize(("address", "reason"), list(REFUSED.items()), ids=list(REFUSED))
def test_refusal_names_the_reason_when_the_address_is_not_public(address: str, reason: str) -> None:
    # Python's tables overlap (240/4 is both "private" and "reserved"): the first matching name is given.
    assert refusal(ipaddress.ip_address(address)) in {reason, "private", "reserved", "not global"}


@pytest.mark.parametrize(
    ("address", "reason"),
    [("127.0.0.1", "loopback"), ("169.254.169.254", "link-local"), ("::ffff:127.0.0.1", "loopback"),
     ("0.0.0.0", "unspecified"), ("::1", "loopback"), ("ff02::1", "multicast")],
)  # fmt: skip
def test_refusal_gives_the_precise_reason_when_it_is_unambiguous(address: str, reason: str) -> None:
    assert refusal(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", PUBLIC)
def test_refusal_is_none_when_the_address_is_public(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


PRIVATE_V4 = st.one_of(
    st.ip_addresses(network="10.0.0.0/8"),
    st.ip_addresses(network="127.0.0.0/8"),
    st.ip_addresses(network="169.254.0.0/16"),
    st.ip_addresses(network="172.16.0.0/12"),
    st.ip_addresses(network="192.168.0.0/16"),
)


@given(address=PRIVATE_V4)
def test_refusal_refuses_private_ipv4_when_written_plain_or_mapped_into_ipv6(address: ipaddress.IPv4Address) -> None:
    assert refusal(address) is not None
    assert refusal(ipaddress.IPv6Address(f"::ffff:{address}")) is not None


@given(address=st.ip_addresses(network="fc00::/7") | st.ip_addresses(network="fe80::/10"))
def test_refusal_refuses_unique_local_and_link_local_ipv6_when_any_address(address: ipaddress.IPv6Address) -> None:
    assert refusal(address) is not None


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:{port}/hook", "http://[::1]:{port}/hook", "http://10.1.2.3:{port}/hook",
     "http://[::ffff:127.0.0.1]:{port}/hook", "http://169.254.169.254/latest/meta-data/"],
    ids=["127", "ipv6-loopback", "10", "mapped", "metadata"],
)  # fmt: skip
async def test_webhook_send_refuses_literal_private_addresses_when_not_allowed(
    sink: WebhookSink, alert: Alert, url: str
) -> None:
    transport = make_transport(allow_private=False)
    try:
        with pytest.raises(PermanentError) as caught:
            await transport.send(alert, WebhookConfig(url=url.format(port=sink.port), secret=SECRET), locale="fr")
    finally:
        await transport.close()

    assert caught.value.code == "webhook.refused"
    assert caught.value.disable_channel
    assert len(sink.received) == 0


@pytest.mark.parametrize(
    ("name", "answers"),
    [("internal.example.test", [["10.20.30.40"]]), ("mixed.example.test", [["93.184.216.34", "127.0.0.1"]]),
     ("v6.example.test", [["fd00::5"]]), ("mapped.example.test", [["::ffff:192.168.0.1"]])],
    ids=["private", "one-of-several", "ula", "mapped"],
)  # fmt: skip
async def test_webhook_send_refuses_names_resolving_to_private_addresses_when_not_allowed(
    alert: Alert, name: str, answers: list[list[str]]
) -> None:
    transport = make_transport(allow_private=False, resolver=StaticResolver({name: answers}))
    try:
        with pytest.raises(PermanentError) as caught:
            await transport.send(alert, WebhookConfig(url=f"http://{name}/hook", secret=SECRET), locale="fr")
    finally:
        await transport.close()

    assert caught.value.code == "webhook.refused"


async def test_webhook_send_refuses_localhost_when_resolved_by_the_system_resolver(
    sink: WebhookSink, alert: Alert
) -> None:
    transport = make_transport(allow_private=False)
    try:
        with pytest.raises(PermanentError, match="loopback"):
            await transport.send(alert, WebhookConfig(url=f"http://localhost:{sink.port}/", secret=SECRET), locale="fr")
    finally:
        await transport.close()
    assert len(sink.received) == 0


async def test_webhook_send_refuses_at_connect_time_when_dns_rebinds_after_the_check(
    sink: WebhookSink, alert: Alert
) -> None:
    resolver = StaticResolver({"rebind.example.test": [["93.184.216.34"], ["127.0.0.1"]]})
    url = f"http://rebind.example.test:{sink.port}/hook"
    await check_destination(url, allow_private=False, resolver=resolver)  # first answer: public, accepted

    transport = make_transport(allow_private=False, resolver=resolver)
    try:
        with pytest.raises(PermanentError, match="loopback"):
            await transport.send(alert, WebhookConfig(url=url, secret=SECRET), locale="fr")
    finally:
        await transport.close()

    assert resolver.asked == ["rebind.example.test"] * 2
    assert len(sink.received) == 0


async def test_webhook_send_reaches_a_private_name_when_the_operator_allows_it(sink: WebhookSink, alert: Alert) -> None:
    resolver = StaticResolver({"hooks.internal.test": [["127.0.0.1"]]})
    transport = make_transport(allow_private=True, resolver=resolver)
    try:
        await transport.send(
            alert, WebhookConfig(url=f"http://hooks.internal.test:{sink.port}/hook", secret=SECRET), locale="fr"
        )
    finally:
        await transport.close()

    assert sink.received[0].verified


@pytest.mark.parametrize(
    "url", ["http://10.0.0.1/", "http://[fc00::1]/", "http://localhost/"], ids=["10", "ula", "localhost"]
)
async def test_check_destination_refuses_private_destinations_when_not_allowed(url: str) -> None:
    with pytest.raises(RefusedDestination):
        await check_destination(url, allow_private=False)
    await check_destination(url.replace("localhost", "127.0.0.1"), allow_private=True)


@pytest.mark.parametrize(
    ("url", "message"),
    [("ftp://example.org/", "expected http"), ("https://user:pw@example.org/", "credentials"),
     ("https://example.org/#x", "fragment"), ("https://example.org:99999/", "invalid webhook URL"),
     ("not a url", "invalid webhook URL")],
    ids=["scheme", "credentials", "fragment", "port", "garbage"],
)  # fmt: skip
def test_webhook_config_gives_a_clear_error_when_the_url_is_invalid(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        SPEC.parse_config({"url": url, "secret": SECRET})


def test_webhook_config_refuses_a_short_secret_when_added() -> None:
    with pytest.raises(ConfigError, match="at least 16"):
        SPEC.parse_config({"url": "https://example.org/hook", "secret": "short"})
