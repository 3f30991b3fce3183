# SPDX-License-Identifier: AGPL-3.0-or-later
"""Helpers of the web tests: a browser-like client per person, CSRF tokens read from the page, sign-in
through the SMTP sink, and store data for the board."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx2
from fastapi import FastAPI
from sqlalchemy import update

from creneau.config import Settings
from creneau.notify.fakes.smtp import SmtpSink
from creneau.sim.clock import ManualClock
from creneau.store import Store
from creneau.store import models as m
from creneau.types import Notice, NoticeKind, Observation, Outcome, Slot, System, Target

BASE = "http://testserver"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
_LINK = re.compile(r"(https?://\S+/auth/magic\?token=[A-Za-z0-9_%-]+)")


def csrf_of(html: str) -> str:
    found = _TOKEN.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


@dataclass
class WebKit:
    app: FastAPI
    client: httpx2.AsyncClient
    store: Store
    clock: ManualClock
    sink: SmtpSink
    settings: Settings
    transport: httpx2.ASGITransport

    def browser(self, **headers: str) -> httpx2.AsyncClient:
        """Another browser (its own cookies); close it with `await client.aclose()`."""
        return httpx2.AsyncClient(transport=self.transport, base_url=BASE, headers=headers)

    async def token(self, client: httpx2.AsyncClient | None = None, path: str = "/login") -> str:
        response = await (client or self.client).get(path)
        return csrf_of(response.text)

    async def post(
        self,
        path: str,
        data: dict[str, str] | None = None,
        *,
        client: httpx2.AsyncClient | None = None,
        page: str = "/login",
    ) -> httpx2.Response:
        """A form POST with the CSRF token a real page would carry."""
        client = client or self.client
        form = {"csrf_token": await self.token(client, page), **(data or {})}
        return await client.post(path, data=form)

    async def ask_link(self, email: str, client: httpx2.AsyncClient | None = None) -> str:
        """Ask for a sign-in link and return the URL read from the e-mail the sink received."""
        before = len(self.sink.messages)
        response = await self.post("/login", {"email": email}, client=client)
        assert response.status_code == 200, response.text
        mails = await self.sink.messages.wait_for(before + 1)
        body = mails[before].message.get_body(("plain",))
        assert body is not None
        found = _LINK.search(body.get_content())
        assert found, "no sign-in link in the e-mail"
        return found.group(1)

    async def sign_in(self, email: str, client: httpx2.AsyncClient | None = None) -> httpx2.AsyncClient:
        """The whole flow: ask, open the link (GET), press "Sign in" (POST). Returns the signed-in client."""
        client = client or self.client
        link = await self.ask_link(email, client)
        token = link.rpartition("token=")[2]
        page = await client.get(link.replace(BASE, ""))
        assert page.status_code == 200, page.text
        response = await client.post("/auth/magic", data={"csrf_token": csrf_of(page.text), "token": token})
        assert response.status_code == 303, response.text
        return client


def target(target_id: str = "rdvpref-3762", *, label: str = "", office: str = "pref-38") -> Target:
    demarche_id = int(target_id.rpartition("-")[2]) if target_id.startswith("rdvpref-") else None
    return Target(
        id=target_id,
        system=System.RDVPREF,
        url=f"https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/{demarche_id or 1}/",
        office_id=office,
        demarche_key="sejour.other",
        demarche_id=demarche_id,
        label=label or f"Target {target_id}",
    )


async def record_check(
    store: Store,
    target_id: str,
    outcome: Outcome,
    at: datetime,
    *,
    slots: tuple[Slot, ...] = (),
    notices: tuple[Notice, ...] = (),
    **target_values: Any,
) -> None:
    """Store one check of a target as the monitor would leave it: the observation and the target's state."""
    observation = Observation(target_id, at, outcome, "test", slots=slots, notices=notices)
    await store.observations.record(observation, now=at)
    async with store.write() as tx:
        await tx.conn.execute(
            update(m.targets)
            .where(m.targets.c.id == target_id)
            .values(last_outcome=outcome.value, last_checked_at=at, **target_values)
        )


def next_publication(at: datetime) -> Notice:
    return Notice(NoticeKind.NEXT_PUBLICATION, at, text="Prochaine mise en ligne")
