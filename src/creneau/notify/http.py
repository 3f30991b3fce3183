# SPDX-License-Identifier: AGPL-3.0-or-later
"""One HTTP POST for the HTTP-based channels (ntfy, webhook), turned into a reply or a classed error.

Redirects are never followed: a provider that moved must be reconfigured, and a webhook redirect could
otherwise lead the request somewhere the SSRF guard never approved.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import aiohttp
from multidict import CIMultiDictProxy

from creneau.notify.errors import PermanentError, RefusedDestination, TransientError
from creneau.notify.known import KnownError, classify_http
from creneau.sources.http import retry_after_seconds


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: CIMultiDictProxy[str]
    text: str


async def post(
    session: aiohttp.ClientSession,
    url: str,
    *,
    body: bytes,
    headers: Mapping[str, str],
    timeout_s: float,
    table: Iterable[KnownError],
    prefix: str,
) -> Reply:
    """POST `body`; return the 2xx reply or raise `TransientError` / `PermanentError` (see `classify_http`)."""
    try:
        async with session.post(
            url, data=body, headers=dict(headers), timeout=aiohttp.ClientTimeout(total=timeout_s), allow_redirects=False
        ) as response:
            reply = Reply(response.status, response.headers, await response.text(errors="replace"))
    except TimeoutError as exc:
        raise TransientError(f"no answer within {timeout_s:g} s", code=f"{prefix}.timeout") from exc
    except aiohttp.ClientConnectorError as exc:
        if isinstance(exc.os_error, RefusedDestination):
            raise PermanentError(str(exc.os_error), code=f"{prefix}.refused") from exc
        raise TransientError(f"{type(exc).__name__}: {exc}", code=f"{prefix}.network") from exc
    except aiohttp.ClientError as exc:
        raise TransientError(f"{type(exc).__name__}: {exc}", code=f"{prefix}.network") from exc
    if 200 <= reply.status < 300:
        return reply
    if 300 <= reply.status < 400:
        where = reply.headers.get("Location", "?")
        raise PermanentError(f"HTTP {reply.status} redirect to {where} (not followed)", disable_channel=False,
                             code=f"{prefix}.redirect")  # fmt: skip
    raise classify_http(
        table, reply.status, reply.text, prefix=prefix, retry_after_s=retry_after_seconds(reply.headers)
    )
