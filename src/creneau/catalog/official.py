# SPDX-License-Identifier: AGPL-3.0-or-later
"""The official-domain allowlist: the only places creneau ever links people to (principle 4).

`is_official_url` is deliberately strict. It accepts an absolute `https://` URL whose host is `gouv.fr` or a
subdomain of it, written in plain lowercase-insensitive LDH labels, on the default port, with no user
information. Everything else is refused: other schemes, lookalikes (`gouv.fr.evil.com`, `xgouv.fr`,
`gouv-fr.com`), credentials tricks (`https://x.gouv.fr@evil.com`), trailing dots, IP addresses, odd ports,
spaces, backslashes and control characters. The alerting code reuses it, so a false "yes" would send people
to a phishing page: when in doubt, it says no.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

OFFICIAL_SUFFIXES: tuple[str, ...] = ("gouv.fr",)
"""Registrable domains whose every subdomain is run by the French State."""

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_FORBIDDEN = re.compile(r"[\s\\\x00-\x1f\x7f]")


def is_official_host(host: str) -> bool:
    """True when `host` (no port) is an allowlisted suffix itself or one of its subdomains."""
    host = host.lower()
    if not host or len(host) > 253 or host.endswith("."):
        return False
    labels = host.split(".")
    if not all(_LABEL.match(label) for label in labels):
        return False
    return any(host == suffix or host.endswith("." + suffix) for suffix in OFFICIAL_SUFFIXES)


def is_official_url(url: str) -> bool:
    """True only for `https://<official host>[:443]/…` URLs (see the module docstring for what is refused)."""
    if not isinstance(url, str) or not url or len(url) > 2048 or _FORBIDDEN.search(url):
        return False
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    if parts.scheme.lower() != "https" or "@" in parts.netloc:
        return False
    host = parts.hostname or ""
    if port not in (None, 443):
        return False
    expected = {host, f"{host}:443"}
    if parts.netloc.lower() not in expected:
        return False
    return is_official_host(host)
