# SPDX-License-Identifier: AGPL-3.0-or-later
"""Screenshots of stored pages, as a person sees them, rendered offline in Debian's Chromium.

The stored raw page is served to Chromium at its own official URL (so relative links resolve as they
did) and **every other request is refused**: nothing leaves the machine, nothing on the page can change
what it shows, and the screenshot depends on the stored bytes only. JavaScript is off for the same
reason. A banner stating the date and time (Paris and UTC), the office, the démarche, the URL and the
page's SHA-256 is put above the page before the screenshot; the stored page itself is never modified.

Without Chromium the captures stay `pending` with their raw page and are rendered later
(`creneau capture render`), so nothing is lost. Playwright drives Debian's `/usr/bin/chromium`
(`executable_path`): never `playwright install`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import struct
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from creneau.evidence.repo import EvidenceRepo
from creneau.types import PARIS

if TYPE_CHECKING:
    from playwright.async_api import Browser, Playwright, Route

log = logging.getLogger(__name__)

CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
WIDTH = 1280
MAX_HEIGHT = 2400
PREVIEW_QUALITY = 65

_BANNER_JS = """(lines) => {
  const box = document.createElement('div');
  box.setAttribute('data-creneau-banner', '1');
  box.style.cssText = 'all:initial;display:block;box-sizing:border-box;width:100%;padding:10px 16px;'
    + 'background:#000091;color:#fff;font:14px/1.45 "DejaVu Sans",sans-serif;border-bottom:4px solid #e1000f;';
  for (const [i, text] of lines.entries()) {
    const line = document.createElement('div');
    line.textContent = text;
    line.style.cssText = 'all:initial;display:block;color:#fff;font:' + (i === 0 ? 'bold 15px' : '13px')
      + '/1.45 "DejaVu Sans",sans-serif;word-break:break-all;';
    box.appendChild(line);
  }
  const root = document.body || document.documentElement;
  root.insertBefore(box, root.firstChild);
  return Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0);
}"""


def chromium_problem(executable: str) -> str | None:
    """Why captures cannot be rendered here (None when they can)."""
    path = shutil.which(executable) if not os.path.isabs(executable) else executable
    if not path or not os.access(path, os.X_OK):
        return f"Chromium not found at {executable} (install Debian's chromium package)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


@dataclass(frozen=True, slots=True)
class Banner:
    """What the banner states about one capture."""

    taken_at: datetime
    office: str
    demarche: str
    url: str
    page_sha256: str

    def lines(self) -> list[str]:
        paris = self.taken_at.astimezone(PARIS)
        utc = self.taken_at.astimezone(UTC)
        return [
            f"Capture creneau — page reçue le {paris:%d/%m/%Y à %H:%M:%S} (heure de Paris) · {utc:%Y-%m-%d %H:%M:%S} UTC",
            f"Service : {self.office} — Démarche : {self.demarche}",
            f"Adresse : {self.url}",
            f"SHA-256 de la page reçue : {self.page_sha256}",
        ]


@dataclass(frozen=True, slots=True)
class Shot:
    png: bytes
    width: int
    height: int


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR; raises ValueError when `png` is not a PNG."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


def jpeg_preview(png: bytes) -> bytes:
    """A JPEG copy of a screenshot for the dossier PDF (CPU-bound: call it in a thread)."""
    import io

    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        out = io.BytesIO()
        image.convert("RGB").save(out, format="JPEG", quality=PREVIEW_QUALITY)
    return out.getvalue()


def _content_type(raw: bytes) -> str:
    head = raw.lstrip()[:1]
    return "application/json" if head in (b"{", b"[") else "text/html"


class Renderer:
    """One Chromium for a batch of captures: `async with Renderer(path) as r: await r.render(...)`."""

    def __init__(self, executable: str = "/usr/bin/chromium", *, timeout_s: float = 20.0) -> None:
        self.executable = executable
        self.timeout_s = timeout_s
        self._pw: Playwright | None = None
        self._browser: Browser | None = None

    async def __aenter__(self) -> Self:
        from playwright.async_api import async_playwright

        self._pw = await async_playwright().start()
        try:
            self._browser = await self._pw.chromium.launch(
                executable_path=self.executable, args=list(CHROMIUM_FLAGS), timeout=self.timeout_s * 1000
            )
        except BaseException:
            await self._pw.stop()
            raise
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._browser is not None:
            await self._browser.close()
        if self._pw is not None:
            await self._pw.stop()

    async def render(self, raw: bytes, *, url: str, banner: Banner) -> Shot:
        """The screenshot of `raw` served at `url`, banner on top, at most `MAX_HEIGHT` pixels tall."""
        assert self._browser is not None, "use Renderer as an async context manager"
        context = await self._browser.new_context(
            java_script_enabled=False,
            viewport={"width": WIDTH, "height": 1200},
            service_workers="block",
            locale="fr-FR",
            timezone_id="Europe/Paris",
        )
        try:
            page = await context.new_page()
            page.set_default_timeout(self.timeout_s * 1000)
            served = False

            async def only_the_stored_page(route: Route) -> None:
                nonlocal served
                request = route.request
                if not served and request.is_navigation_request() and request.url == url:
                    served = True
                    await route.fulfill(status=200, body=raw, content_type=_content_type(raw))
                else:
                    await route.abort("blockedbyclient")

            await context.route("**/*", only_the_stored_page)
            await page.goto(url, wait_until="load")
            height = int(await page.evaluate(_BANNER_JS, banner.lines()))
            clip: Any = {"x": 0, "y": 0, "width": WIDTH, "height": max(1, min(height, MAX_HEIGHT))}
            png = await page.screenshot(type="png", full_page=True, clip=clip, animations="disabled")
        finally:
            await context.close()
        width, tall = png_size(png)
        return Shot(png, width, tall)


@dataclass(slots=True)
class RenderRun:
    rendered: int = 0
    failed: int = 0
    skipped_reason: str | None = None
    seconds: list[float] = field(default_factory=list)


async def render_pending(
    repo: EvidenceRepo, *, executable: str, now: datetime, timeout_s: float = 20.0, limit: int = 500
) -> RenderRun:
    """Render every pending capture (up to `limit`) with one browser. Without Chromium nothing changes and
    `skipped_reason` says why; a page Chromium cannot render marks that capture failed, with the reason."""
    run = RenderRun()
    problem = chromium_problem(executable)
    if problem is not None:
        run.skipped_reason = problem
        return run
    pending = await repo.pending_captures(limit)
    if not pending:
        return run
    from playwright.async_api import Error as PlaywrightError

    async with Renderer(executable, timeout_s=timeout_s) as renderer:
        for capture in pending:
            raw = await repo.page(capture.page_digest)
            if raw is None:
                await repo.set_failed(capture.id, "raw page missing")
                run.failed += 1
                continue
            banner = Banner(capture.taken_at, capture.office, capture.demarche, capture.url, capture.page_digest)
            started = time.perf_counter()
            try:
                shot = await asyncio.wait_for(renderer.render(raw, url=capture.url, banner=banner), timeout_s)
            except (TimeoutError, ValueError, PlaywrightError) as exc:
                reason = (str(exc).splitlines() or [type(exc).__name__])[0]
                log.warning("capture %s could not be rendered: %s", capture.id, reason)
                await repo.set_failed(capture.id, reason)
                run.failed += 1
                continue
            preview = await asyncio.to_thread(jpeg_preview, shot.png)
            run.seconds.append(time.perf_counter() - started)
            await repo.set_rendered(capture.id, shot.png, shot.width, shot.height, now=now, preview=preview)
            run.rendered += 1
    return run
