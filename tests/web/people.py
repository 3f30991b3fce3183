# SPDX-License-Identifier: AGPL-3.0-or-later
"""Three canned accounts for the authorization tests (style rule 21): the owner of the data, a co-member who
watches the same booking page, and a stranger. Each has their own browser (cookies), signed in through the
magic link read from the SMTP sink."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx2

from creneau.store import Store

from .kit import WebKit, csrf_of

TARGET = "rdvpref-3762"  # Isère, in the shipped catalog
GUICHET_TARGET = "legacy-hauts-de-seine-13525"  # has a counter "14202"


@dataclass
class Person:
    email: str
    client: httpx2.AsyncClient
    subscriber_id: int


@dataclass
class People:
    owner: Person
    co: Person
    stranger: Person


async def sign_in(kit: WebKit, email: str) -> Person:
    client = kit.browser()
    await kit.sign_in(email, client)
    found = await kit.store.subscribers.find_subscriber(email)
    assert found is not None
    return Person(email, client, found.id)


async def three_people(kit: WebKit) -> AsyncIterator[People]:
    people = People(
        await sign_in(kit, "owner@example.org"),
        await sign_in(kit, "co@example.org"),
        await sign_in(kit, "stranger@example.org"),
    )
    try:
        yield people
    finally:
        for person in (people.owner, people.co, people.stranger):
            await person.client.aclose()


async def form(
    person: Person,
    path: str,
    data: dict[str, str] | None = None,
    *,
    page: str = "/watches",
    headers: dict[str, str] | None = None,
) -> httpx2.Response:
    """A form POST carrying the CSRF token of a page the person can see."""
    token = csrf_of((await person.client.get(page)).text)
    return await person.client.post(path, data={"csrf_token": token, **(data or {})}, headers=headers)


async def watch(person: Person, store: Store, target_id: str = TARGET, **fields: str) -> int:
    """Create a watch through the web form; returns its id."""
    before = {w.id for w in await store.subscribers.list_watches(subscriber_id=person.subscriber_id)}
    response = await form(person, "/watches", {"target": target_id, **fields})
    assert response.status_code == 303, response.text
    after = await store.subscribers.list_watches(subscriber_id=person.subscriber_id)
    (new,) = [w.id for w in after if w.id not in before]
    return new


async def email_channel(person: Person, store: Store) -> int:
    """The person's sign-in address as an alert channel (proven by the sign-in: no link needed)."""
    response = await form(person, "/channels/email", {"email": person.email}, page="/channels")
    assert response.status_code == 303, response.text
    (channel,) = [c for c in await store.subscribers.list_channels(person.subscriber_id) if c.kind == "email"]
    return channel.id
