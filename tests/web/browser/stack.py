# SPDX-License-Identifier: AGPL-3.0-or-later
"""The whole product on real ports for the browser tests: the simulator, the fake providers (SMTP sink…),
the service's monitor and sender loops (as `creneau serve` runs them), and the web app under uvicorn, all
on one ManualClock that the tests move instead of sleeping; plus Playwright driving Debian's Chromium.

Waits are on conditions: Playwright's `expect` for pages, `wait_until` (polling) for the store and sinks.
"""

from __future__ import annotations

import asyncio
import inspect
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect
from tests.pipeline_kit import T0, wait_until

from creneau.catalog.core import Catalog
from creneau.config import load_settings
from creneau.evidence.capture import CHROMIUM_FLAGS, chromium_problem
from creneau.notify.fakes.providers import FakeProviders
from creneau.notify.fakes.smtp import ReceivedMail
from creneau.service import Service
from creneau.sim.clock import ManualClock
from creneau.sim.model import World
from creneau.sim.server import SimServer
from creneau.store import DeliveryStatus, Store, TargetState
from creneau.types import Outcome
from creneau.web import create_app, i18n
from creneau.web.server import WebServer, bind

CHROMIUM = "/usr/bin/chromium"
# Every browser test runs in the session's event loop, where the session's Chromium lives.
MARKS = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]
SIGN_IN_SUBJECT = {"fr": "Votre lien de connexion", "en": "Your creneau sign-in link"}
TIMEOUT_MS = 15_000  # a page or an element, under the load of a shared 2-core machine
WAIT_S = 20.0  # the pipeline: a check, a delivery
_LINK = re.compile(r"https?://\S+")
_ERROR_STATUS = re.compile(r"Failed to load resource: the server responded with a status of 4\d\d ")


def skip_without_chromium() -> None:
    """Skip (with the reason) where Debian's Chromium or the playwright package is missing."""
    problem = chromium_problem(CHROMIUM)
    if problem is not None:
        pytest.skip(f"browser tests need Debian's Chromium: {problem}")


@dataclass
class Stack:
    """Everything a browser test touches; `clock` drives the simulator, the pipeline and the web app."""

    url: str
    clock: ManualClock
    world: World
    sim: SimServer
    fakes: FakeProviders
    service: Service
    loops: asyncio.Task[None]
    app: FastAPI
    browser_errors: list[str] = field(default_factory=list)
    contexts: list[BrowserContext] = field(default_factory=list)

    def console(self, kind: str, text: str) -> None:
        """Keep the browser's errors (a refused inline script, a failed script…); answers with an error
        status that a test asks for are not errors of the page."""
        if kind in ("error", "pageerror") and not _ERROR_STATUS.match(text):
            self.browser_errors.append(f"{kind}: {text}")

    @property
    def store(self) -> Store:
        assert self.service.store is not None
        return self.service.store

    async def wait(self, condition: Callable[[], bool | Awaitable[bool]], what: Callable[[], str]) -> None:
        """Poll `condition` (sync or async) until it holds; fail with `what()` after `WAIT_S`, and at once if
        the service stopped."""

        async def ready() -> bool:
            if self.loops.done():
                self.loops.result()  # raises what stopped the monitor or the sender
                pytest.fail("the service's loops stopped")
            result = condition()
            return await result if inspect.isawaitable(result) else result

        try:
            await wait_until(ready, timeout_s=WAIT_S)
        except pytest.fail.Exception:
            pytest.fail(what())

    def _mails(self, address: str, subject: str) -> list[ReceivedMail]:
        mails = [m for m in self.fakes.smtp.messages if address in m.rcpt_tos]
        return [m for m in mails if subject in str(m.message["Subject"])]

    async def mail_to(self, address: str, *, subject: str = "") -> ReceivedMail:
        """The first message the SMTP sink received for `address` whose subject holds `subject` (waits)."""

        async def arrived() -> bool:
            return bool(self._mails(address, subject))

        def what() -> str:
            got = [str(m.message["Subject"]) for m in self._mails(address, "")]
            return f"no mail to {address} about {subject!r}; it received: {got}"

        await self.wait(arrived, what)
        return self._mails(address, subject)[0]

    async def checked(self, target_id: str, outcome: Outcome, *, after: datetime | None = None) -> None:
        """Wait until the monitor has recorded a check of `target_id` with `outcome` (at or after `after`)."""
        seen: list[TargetState] = []

        async def recorded() -> bool:
            state = (await self.store.targets.get(target_id)).state
            seen[:] = [state]
            fresh = after is None or (state.last_checked_at is not None and state.last_checked_at >= after)
            return fresh and state.last_outcome is outcome

        await self.wait(recorded, lambda: f"{target_id} not checked with {outcome.value}; last state: {seen}")

    async def delivered(self, count: int) -> None:
        """Wait until the sender has marked `count` deliveries sent (the provider accepted them)."""

        async def sent() -> bool:
            return (await self.store.outbox.counts())[DeliveryStatus.SENT] >= count

        await self.wait(sent, lambda: f"fewer than {count} deliveries sent")

    async def next_check(self, target_id: str) -> datetime:
        """Move the clock to the target's next check and return that instant (the loops notice it)."""
        state = (await self.store.targets.get(target_id)).state
        due = max(d for d in (state.next_check_at, state.backoff_until, self.clock.now()) if d)
        self.clock.set(due)
        return due


@dataclass(frozen=True)
class Texts:
    """The web app's own words in one language (`t("Sign in")`), so a test reads the page as its visitor."""

    locale: str

    @contextmanager
    def _speaking(self) -> Iterator[None]:
        token = i18n.use_locale(self.locale)
        try:
            yield
        finally:
            i18n.reset_locale(token)

    def __call__(self, message: str, **values: object) -> str:
        with self._speaking():
            return i18n.gettext(message, **values)

    def of(self, context: str, message: str) -> str:
        """A word translated for what it qualifies (`t.of("channel", "active")`)."""
        return i18n.translations(self.locale).pgettext(context, message)

    def plural(self, singular: str, plural: str, n: int) -> str:
        with self._speaking():
            return i18n.ngettext(singular, plural, n)

    def slot(self, start: datetime) -> str:
        """A slot as the alert history shows it: day and time, Paris time."""
        with self._speaking():
            return f"{i18n.day(start)} {i18n.clock(start)}"


def links_in(mail: ReceivedMail) -> list[str]:
    body = mail.message.get_body(("plain",))
    assert body is not None
    return _LINK.findall(body.get_content())


@asynccontextmanager
async def running_stack(
    tmp_path: Path, world: World, catalog: Catalog, database_url: str, **overrides: Any
) -> AsyncIterator[Stack]:
    """The simulator (with its test hooks), the fakes, the service's loops and the web app on an empty
    database (the `database_url` fixture); `tmp_path` holds the data folder (captchas, sessions)."""
    clock = ManualClock(T0)
    sock = bind("127.0.0.1", 0)  # bound first: the sign-in links carry the web app's address
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    async with AsyncExitStack() as closing:
        closing.callback(sock.close)  # WebServer closes it too; this covers a failure before it starts
        sim = await closing.enter_async_context(SimServer(world, clock, test_hooks=True))
        fakes = await closing.enter_async_context(FakeProviders())
        settings = load_settings(
            database_url=database_url,
            data_dir=tmp_path / "data",
            route_overrides=sim.route_overrides,
            legacy_request_gap_s=0.0,
            legacy_max_weeks=2,
            http_timeout_s=5.0,
            poll_s=0.05,
            shutdown_grace_s=2.0,
            web_base_url=url,
            web_secret="browser-test-secret-" + "x" * 32,
            **(fakes.settings_overrides() | overrides),
        )
        service = await closing.enter_async_context(Service(settings, clock=clock, catalog=catalog))
        assert service.store is not None
        app = create_app(settings, service.store, catalog, clock=clock)  # shares the service's store
        await closing.enter_async_context(WebServer(app, sock=sock))
        loops = asyncio.create_task(service.run(), name="browser-test-service")
        stack = Stack(url, clock, world, sim, fakes, service, loops, app)
        try:
            yield stack
            assert stack.browser_errors == [], "the browser reported errors (CSP, scripts)"
        finally:
            for context in stack.contexts:  # first: an open page keeps its event stream open
                await context.close()
            service.stop()
            await loops


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Debian's Chromium through Playwright (never a downloaded build)."""
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_FLAGS))
        try:
            yield browser
        finally:
            await browser.close()


async def new_page(browser: Browser, stack: Stack, *, locale: str = "fr-FR", **options: Any) -> Page:
    """A fresh browser profile (its own cookies) on the web app, in `locale` (its Accept-Language); closed
    when the stack stops."""
    context: BrowserContext = await browser.new_context(
        base_url=stack.url, locale=locale, timezone_id="Europe/Paris", service_workers="block", **options
    )
    stack.contexts.append(context)
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    page.on("console", lambda message: stack.console(message.type, message.text))
    page.on("pageerror", lambda error: stack.console("pageerror", str(error)))
    return page


async def ask_for_link(page: Page, email: str, t: Texts) -> None:
    """On the sign-in page: type the address, ask for the link."""
    await page.get_by_label(t("Your e-mail address")).fill(email)
    await page.get_by_role("button", name=t("E-mail me a sign-in link")).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(t("Check your e-mail"))


async def follow_link(page: Page, stack: Stack, email: str, t: Texts) -> None:
    """Open the link the SMTP sink received (its GET changes nothing) and press "Sign in"."""
    mail = await stack.mail_to(email, subject=SIGN_IN_SUBJECT[t.locale])
    (link,) = [u for u in links_in(mail) if "/auth/magic" in u]
    await page.goto(link)
    await expect(page.get_by_role("heading", level=1)).to_have_text(t("Sign in to creneau"))
    await page.get_by_role("main").get_by_role("button", name=t("Sign in")).click()


async def sign_up(page: Page, stack: Stack, email: str, t: Texts) -> None:
    """The whole sign-in of a newcomer, from the menu's "Sign in"."""
    await page.goto("/")
    await page.get_by_role("navigation").get_by_role("link", name=t("Sign in")).click()
    await ask_for_link(page, email, t)
    await follow_link(page, stack, email, t)
    await expect(page).to_have_url(f"{stack.url}/account")


async def add_sign_in_address(page: Page, email: str, t: Texts) -> None:
    """On "How I am told": the one-click e-mail channel of the sign-in address (proven by the sign-in)."""
    await page.get_by_role("button", name=t("Send alerts to %(email)s", email=email)).click()
    await expect(page.get_by_role("main").get_by_role("listitem").first).to_contain_text(t.of("channel", "active"))


async def watch_from_wizard(page: Page, t: Texts, commune: str, demarche: str, target_id: str) -> None:
    """On "Find my office": search the commune and démarche, press "Watch this page" for `target_id`."""
    await page.get_by_label(t("Your commune, postcode or INSEE code")).fill(commune)
    await page.get_by_label(t("Your démarche")).select_option(demarche)
    await page.get_by_role("button", name=t("Search")).click()
    item = page.get_by_role("listitem").filter(has=page.locator(f'a[href="/targets/{target_id}"]'))
    await item.get_by_role("link", name=t("Watch this page")).click()
