# SPDX-License-Identifier: AGPL-3.0-or-later
"""SSRF guard: a webhook may only reach public addresses, unless the operator allows private ones.

Refused: private (RFC 1918, fc00::/7), loopback, link-local, multicast, reserved, unspecified, shared
(100.64/10), site-local and any other non-global address, including IPv4 addresses hidden inside IPv6
(IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible, 6to4, NAT64). Every address a name resolves to is checked,
and the check runs again at connect time through `GuardedResolver` (the session's DNS cache is off), so a
name that answers a public address to a pre-check and a private one to the connection (DNS rebinding)
is still refused. aiohttp does not resolve IP literals, so those are checked by `check_host`.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from creneau.notify.errors import RefusedDestination

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refusal(address: IPAddress) -> str | None:
    """Why `address` is not a public destination, or None when it is one."""
    if isinstance(address, ipaddress.IPv6Address) and (inner := _embedded_ipv4(address)) is not None:
        return refusal(inner) or None
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("site-local", isinstance(address, ipaddress.IPv6Address) and address.is_site_local),
        ("not global", not address.is_global),
    )
    return next((name for name, hit in checks if hit), None)


def check_address(host: str, address: str, *, allow_private: bool) -> None:
    """Raise `RefusedDestination` when `address` (one answer for `host`) is not public and not allowed."""
    if allow_private:
        return
    reason = refusal(ipaddress.ip_address(address.split("%", 1)[0]))
    if reason:
        shown = host if host == address else f"{host} ({address})"
        raise RefusedDestination(f"webhook destination {shown} is a {reason} address (refused by the SSRF guard)")


def check_host(host: str, *, allow_private: bool) -> None:
    """Check a URL host that is an IP literal (names are checked by `GuardedResolver`)."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return
    check_address(host, host.strip("[]"), allow_private=allow_private)


class GuardedResolver(AbstractResolver):
    """Resolves with `inner` and refuses the whole answer if any address in it is not public."""

    def __init__(self, inner: AbstractResolver | None = None, *, allow_private: bool = False) -> None:
        self._inner = inner or DefaultResolver()
        self._allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = await self._inner.resolve(host, port, family)
        for answer in answers:
            check_address(host, answer["host"], allow_private=self._allow_private)
        return answers

    async def close(self) -> None:
        await self._inner.close()


def guarded_session(
    *, allow_private: bool, user_agent: str, resolver: AbstractResolver | None = None
) -> aiohttp.ClientSession:
    """A session whose every new connection re-resolves its host through the guard (no DNS cache, no
    proxy from the environment, no cookies)."""
    connector = aiohttp.TCPConnector(
        resolver=GuardedResolver(resolver, allow_private=allow_private), use_dns_cache=False, limit_per_host=4
    )
    return aiohttp.ClientSession(
        connector=connector, trust_env=False, cookie_jar=aiohttp.DummyCookieJar(), headers={"User-Agent": user_agent}
    )


async def check_destination(url: str, *, allow_private: bool, resolver: AbstractResolver | None = None) -> None:
    """Pre-check a webhook URL (e.g. when someone adds it): raise `RefusedDestination` when its host is, or
    resolves to, a refused address. Sending checks again at connect time."""
    host = urlsplit(url).hostname or ""
    check_host(host, allow_private=allow_private)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        guard = GuardedResolver(resolver, allow_private=allow_private)
        try:
            await guard.resolve(host, 0, socket.AF_UNSPEC)
        finally:
            if resolver is None:
                await guard.close()
