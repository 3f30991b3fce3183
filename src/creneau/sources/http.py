# SPDX-License-Identifier: AGPL-3.0-or-later
"""Fetching, kept apart from interpreting: one shared aiohttp session, a browser-like flow per check.

`Http` owns the single `aiohttp.ClientSession` (no cookie jar of its own: several targets on one host
must not share a site session). A `Flow` is one walk through a site the way a browser does it: its own
cookie jar, redirects followed by hand so every cookie along the way is kept, forms posted
url-encoded. URLs stay the official ones everywhere; `route_overrides` only changes where the bytes are
sent (the simulator), keeping the official Host header.

A flow opened with `min_gap_s` waits that long after the previous answer from the same host before each
request, redirects included, and across the walks of the whole process (`HostPacer`): sites that count
requests per client IP (the legacy module answers 502 above ~1 request/s) see one paced stream.

`count_requests()` tallies every request sent inside it (in this task and the tasks it starts), whatever
flows the adapter opened: the monitor charges a check's real cost, not one request, to the host's budgets.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urljoin, urlsplit, urlunsplit

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from creneau.sources.errors import ErrorKind, SourceError

MAX_REDIRECTS = 10


@dataclass(frozen=True, slots=True)
class Page:
    """One HTTP response as the parser sees it. `url` is the official URL after redirects."""

    url: str
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes
    truncated: bool = False
    redirects: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return decode_body(self.body, self.headers.get("Content-Type", ""))

    @property
    def path(self) -> str:
        return urlsplit(self.url).path


def decode_body(body: bytes, content_type: str) -> str:
    """Decode a page the way a browser would: declared charset, then UTF-8, then Latin-1 (never fails)."""
    charset = ""
    for part in content_type.split(";"):
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset":
            charset = value.strip("\"' ").lower()
    for candidate in (charset, "utf-8"):
        if not candidate:
            continue
        try:
            return body.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("latin-1")


@dataclass(slots=True)
class RequestTally:
    """How many HTTP requests were sent (redirects and failed attempts included) while it was current."""

    requests: int = 0


_TALLY: ContextVar[RequestTally | None] = ContextVar("creneau_request_tally", default=None)


@contextlib.contextmanager
def count_requests() -> Iterator[RequestTally]:
    """Count the requests sent inside the block (by any flow); a block inside another counts for both."""
    outer = _TALLY.get()
    tally = RequestTally()
    token = _TALLY.set(tally)
    try:
        yield tally
    finally:
        _TALLY.reset(token)
        if outer is not None:
            outer.requests += tally.requests


class HostPacer:
    """At least `gap_s` between the answer to one request to a host and the start of the next one.

    Requests to one paced host go one at a time; hosts are independent. A gap of 0 does not pace.
    """

    def __init__(self) -> None:
        self._free_at: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    @contextlib.asynccontextmanager
    async def turn(self, host: str, gap_s: float) -> AsyncIterator[None]:
        if gap_s <= 0:
            yield
            return
        async with self._locks.setdefault(host, asyncio.Lock()):
            wait = self._free_at.get(host, 0.0) - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                yield
            finally:
                self._free_at[host] = time.monotonic() + gap_s


class Http:
    """The process-wide HTTP client. Construct once, pass down, `await close()` at shutdown."""

    def __init__(
        self,
        *,
        user_agent: str,
        timeout_s: float = 20.0,
        max_page_bytes: int = 5_000_000,
        route_overrides: Mapping[str, str] | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.user_agent = user_agent
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.max_page_bytes = max_page_bytes
        self.route_overrides = dict(route_overrides or {})
        self._session = session
        self._own_session = session is None
        self.pacer = HostPacer()

    @classmethod
    def from_settings(cls, settings: object) -> Http:
        from creneau.config import Settings

        assert isinstance(settings, Settings)
        return cls(
            user_agent=settings.resolved_user_agent(),
            timeout_s=settings.http_timeout_s,
            max_page_bytes=settings.http_max_page_bytes,
            route_overrides=settings.route_overrides,
        )

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=200, limit_per_host=8, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                headers={"User-Agent": self.user_agent},
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None and self._own_session:
            await self._session.close()
        self._session = None

    async def __aenter__(self) -> Http:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def flow(self, cookies: aiohttp.CookieJar | None = None, *, min_gap_s: float = 0.0) -> Flow:
        """Start a browser-like walk. Pass a kept jar to resume a site session (RDV Préfecture); `min_gap_s`
        paces every request of the walk, redirects included, with the other walks to the same host."""
        return Flow(self, cookies if cookies is not None else new_cookie_jar(), min_gap_s=min_gap_s)

    def wire_url(self, url: str) -> tuple[str, str | None]:
        """Where to send a request for `url`, and the Host header to keep (None when unchanged)."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        base = self.route_overrides.get(host) or self.route_overrides.get("*")
        if not base:
            return url, None
        b = urlsplit(base)
        wired = urlunsplit((b.scheme, b.netloc, parts.path or "/", parts.query, ""))
        return wired, parts.netloc


def new_cookie_jar() -> aiohttp.CookieJar:
    # quote_cookie=False: sites send raw session ids; unsafe=True is not needed because the jar only
    # ever sees official host names, never the simulator's IP address.
    return aiohttp.CookieJar(quote_cookie=False)


@dataclass
class Flow:
    """One walk through a site with its own cookies. Not shared between targets."""

    http: Http
    cookies: aiohttp.CookieJar
    min_gap_s: float = 0.0
    requests: int = 0
    elapsed_s: float = 0.0
    last_page: Page | None = field(default=None)

    async def get(self, url: str, *, headers: Mapping[str, str] | None = None, follow: bool = True) -> Page:
        return await self.request("GET", url, headers=headers, follow=follow)

    async def post(
        self,
        url: str,
        form: Mapping[str, str] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        follow: bool = True,
    ) -> Page:
        return await self.request("POST", url, form=form, headers=headers, follow=follow)

    async def request(
        self,
        method: str,
        url: str,
        *,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        follow: bool = True,
    ) -> Page:
        """Send one request and follow redirects like a browser (303/302 after POST become GET).

        Raises SourceError(kind=NETWORK) on connection errors and timeouts.
        """
        redirects: list[str] = []
        current_method, current_url, current_form = method, url, form
        for _ in range(MAX_REDIRECTS + 1):
            page = await self._send(current_method, current_url, current_form, headers)
            location = page.headers.get("Location")
            if not follow or page.status not in (301, 302, 303, 307, 308) or not location:
                final = Page(page.url, page.status, page.headers, page.body, page.truncated, tuple(redirects))
                self.last_page = final
                return final
            redirects.append(current_url)
            current_url = urljoin(current_url, location)
            if page.status in (301, 302, 303) and current_method != "GET":
                current_method, current_form = "GET", None
        raise SourceError(ErrorKind.NETWORK, f"more than {MAX_REDIRECTS} redirects from {url}")

    async def _send(
        self, method: str, url: str, form: Mapping[str, str] | None, headers: Mapping[str, str] | None
    ) -> Page:
        wired, host = self.http.wire_url(url)
        send_headers: CIMultiDict[str] = CIMultiDict(headers or {})
        if host:
            send_headers["Host"] = host
        cookie_header = "; ".join(f"{k}={m.value}" for k, m in self.cookies.filter_cookies(URL(url)).items())
        if cookie_header:
            send_headers["Cookie"] = cookie_header
        async with self.http.pacer.turn((urlsplit(url).hostname or "").lower(), self.min_gap_s):
            return await self._exchange(method, url, wired, form, send_headers)

    async def _exchange(
        self, method: str, url: str, wired: str, form: Mapping[str, str] | None, send_headers: CIMultiDict[str]
    ) -> Page:
        started = time.perf_counter()
        self.requests += 1
        if (tally := _TALLY.get()) is not None:
            tally.requests += 1
        try:
            async with self.http.session.request(
                method,
                wired,
                data=dict(form) if form is not None else None,
                headers=send_headers,
                allow_redirects=False,
                timeout=self.http.timeout,
            ) as resp:
                body = await resp.content.read(self.http.max_page_bytes + 1)
                truncated = len(body) > self.http.max_page_bytes
                if truncated:
                    body = body[: self.http.max_page_bytes]
                self._keep_cookies(resp.headers, url)
                return Page(url, resp.status, resp.headers, body, truncated)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SourceError(ErrorKind.NETWORK, f"{type(exc).__name__}: {exc}".strip(": ")) from exc
        finally:
            self.elapsed_s += time.perf_counter() - started

    def _keep_cookies(self, headers: CIMultiDictProxy[str], url: str) -> None:
        for raw in headers.getall("Set-Cookie", []):
            cookie: SimpleCookie = SimpleCookie()
            try:
                cookie.load(raw)
            except Exception:  # noqa: BLE001, S112 - a malformed cookie from a site must not break the check
                continue
            self.cookies.update_cookies(cookie, URL(url))


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Read Retry-After as seconds (delta form or HTTP date); None when absent or unreadable."""
    from datetime import UTC, datetime
    from email.utils import parsedate_to_datetime

    value = headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
