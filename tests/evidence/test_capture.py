# SPDX-License-Identifier: AGPL-3.0-or-later
"""Captures in Debian's Chromium: real PNGs of the stored page, banner on top, nothing fetched."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web
from PIL import Image

from creneau.evidence.capture import Banner, Renderer, chromium_problem, png_size, render_pending

from .conftest import NO_SLOT_PAGE, T0, URL, World, observation

CHROMIUM = "/usr/bin/chromium"
PROBLEM = chromium_problem(CHROMIUM)
needs_chromium = pytest.mark.skipif(PROBLEM is not None, reason=f"browser tests need Debian's chromium: {PROBLEM}")


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    return sqlite_url


BANNER = Banner(datetime(2026, 3, 2, 7, 0, 5, tzinfo=UTC), "Préfecture de Police", "Titre de séjour", URL, "ab" * 32)


@pytest.mark.browser
@needs_chromium
async def test_renderer_makes_png_of_the_page_with_banner_and_fetches_nothing() -> None:
    hits: list[str] = []

    async def spy(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(body=b"", content_type="image/png")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", spy)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    page = (
        f'<html><head><link rel="stylesheet" href="http://127.0.0.1:{port}/style.css"></head><body>'
        f'<h1>Aucun créneau disponible</h1><img src="http://127.0.0.1:{port}/logo.png">'
        f'<iframe src="http://127.0.0.1:{port}/frame"></iframe><script>location="http://127.0.0.1:{port}/js"</script>'
        "</body></html>"
    ).encode()
    try:
        async with Renderer(CHROMIUM) as renderer:
            shot = await renderer.render(page, url=URL, banner=BANNER)
    finally:
        await runner.cleanup()
    assert shot.png.startswith(b"\x89PNG\r\n\x1a\n")
    assert png_size(shot.png) == (shot.width, shot.height)
    assert shot.width == 1280
    assert hits == []
    image = Image.open(io.BytesIO(shot.png)).convert("RGB")
    assert image.getpixel((30, 20)) == (0, 0, 145)  # the banner's blue, above the page


@pytest.mark.browser
@needs_chromium
async def test_render_pending_renders_daily_capture_when_chromium_is_present(world: World) -> None:
    done = await world.recorder.record(world.target, observation(world.target, T0))
    assert done.capture_id is not None
    run = await render_pending(world.repo, executable=CHROMIUM, now=T0)
    assert (run.rendered, run.failed, run.skipped_reason) == (1, 0, None)
    (pending,) = await world.repo.captures([done.capture_id])
    assert pending.status == "rendered"
    assert pending.png_sha256
    png = await world.repo.capture_png(pending.id)
    assert png is not None
    assert png_size(png)[0] == 1280
    preview = await world.repo.capture_preview(pending.id)
    assert preview is not None
    assert preview[:2] == b"\xff\xd8"


async def test_render_pending_keeps_captures_pending_when_chromium_is_absent(world: World, tmp_path: Path) -> None:
    await world.recorder.record(world.target, observation(world.target, T0))
    run = await render_pending(world.repo, executable=str(tmp_path / "no-chromium"), now=T0)
    assert run.rendered == 0
    assert run.skipped_reason
    assert "not found" in run.skipped_reason
    (capture,) = await world.repo.pending_captures()
    assert capture.status == "pending"
    assert await world.repo.page(capture.page_digest) == NO_SLOT_PAGE


def test_png_size_refuses_bytes_when_they_are_not_a_png() -> None:
    with pytest.raises(ValueError, match="not a PNG"):
        png_size(b"GIF89a" + b"\0" * 30)
