# SPDX-License-Identifier: AGPL-3.0-or-later
"""Sign-in by e-mailed link (through the SMTP sink), sessions, sign-out."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from creneau.store.accounts import accounts, magic_tokens, web_sessions
from creneau.store.models import subscribers

from .kit import BASE, WebKit, csrf_of


async def _count(kit: WebKit, table: object) -> int:
    async with kit.store.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())  # type: ignore[arg-type]


async def test_magic_link_signs_in_only_on_post_when_link_is_opened(both_kit: WebKit) -> None:
    kit = both_kit
    link = await kit.ask_link("Alice@Example.org")
    mail = kit.sink.messages[-1]
    assert mail.rcpt_tos == ("alice@example.org",)
    token = link.rpartition("token=")[2]
    assert len(token) >= 43  # 256 bits
    async with kit.store.read() as conn:
        stored = (await conn.execute(select(magic_tokens.c.token_hash))).scalars().all()
    assert token not in stored, "only the hash is stored"

    for _ in range(3):  # a mail scanner opening the link uses nothing
        page = await kit.client.get(link.replace(BASE, ""))
        assert page.status_code == 200
        assert "alice@example.org" in page.text
    assert (await kit.client.get("/account")).status_code == 303

    response = await kit.client.post("/auth/magic", data={"csrf_token": csrf_of(page.text), "token": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/account"
    account = await kit.client.get("/account")
    assert account.status_code == 200
    assert "alice@example.org" in account.text

    again = await kit.client.post("/auth/magic", data={"csrf_token": csrf_of(page.text), "token": token})
    assert again.status_code == 410
    assert (await kit.client.get(link.replace(BASE, ""))).status_code == 410


async def test_magic_link_is_refused_when_expired(kit: WebKit) -> None:
    link = await kit.ask_link("late@example.org")
    page = await kit.client.get(link.replace(BASE, ""))
    kit.clock.advance(15 * 60 + 1)
    response = await kit.client.post(
        "/auth/magic", data={"csrf_token": csrf_of(page.text), "token": link.rpartition("token=")[2]}
    )
    assert response.status_code == 410
    assert "expired" in response.text or "expiré" in response.text
    assert (await kit.client.get("/account")).status_code == 303


async def test_magic_link_is_refused_when_token_is_unknown(kit: WebKit) -> None:
    assert (await kit.client.get("/auth/magic?token=" + "A" * 43)).status_code == 400
    response = await kit.post("/auth/magic", {"token": "B" * 43})
    assert response.status_code == 400


async def test_magic_link_returns_to_page_asked_for_when_sign_in_was_needed(kit: WebKit) -> None:
    response = await kit.client.get("/account/delete")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/account/delete"
    login = await kit.client.get(response.headers["location"])
    assert 'name="next" value="/account/delete"' in login.text
    await kit.post("/login", {"email": "back@example.org", "next": "/account/delete"})
    mails = await kit.sink.messages.wait_for(1)
    link = next(line for line in mails[0].message.get_body(("plain",)).get_content().splitlines() if "token=" in line)
    page = await kit.client.get(link.replace(BASE, ""))
    done = await kit.client.post(
        "/auth/magic", data={"csrf_token": csrf_of(page.text), "token": link.rpartition("token=")[2]}
    )
    assert done.headers["location"] == "/account/delete"


@pytest.mark.parametrize(
    ("locale", "subject"), [("fr", "Votre lien de connexion"), ("en", "Your creneau sign-in link")]
)
async def test_magic_link_mail_is_in_visitor_language(kit: WebKit, locale: str, subject: str) -> None:
    kit.client.headers["accept-language"] = locale
    await kit.ask_link("lang@example.org")
    assert subject in str(kit.sink.messages[-1].message["subject"])


async def test_login_is_rate_limited_per_email(kit: WebKit) -> None:
    for _ in range(kit.settings.web_login_per_email_hour):
        await kit.ask_link("busy@example.org")
    response = await kit.post("/login", {"email": "busy@example.org"}, page="/login")
    assert response.status_code == 429
    assert len(kit.sink.messages) == kit.settings.web_login_per_email_hour
    other = await kit.post("/login", {"email": "other@example.org"})
    assert other.status_code == 200
    kit.clock.advance(3601)
    assert (await kit.post("/login", {"email": "busy@example.org"})).status_code == 200


async def test_login_is_rate_limited_per_ip(kit: WebKit) -> None:
    limit = kit.settings.web_login_per_ip_hour
    for n in range(limit):
        assert (await kit.post("/login", {"email": f"person{n}@example.org"})).status_code == 200
    response = await kit.post("/login", {"email": "one-more@example.org"})
    assert response.status_code == 429
    assert await _count(kit, magic_tokens) == limit


@pytest.mark.parametrize(("locale", "text"), [("fr", "adresse électronique valide"), ("en", "valid e-mail address")])
async def test_login_re_renders_with_field_error_and_saves_nothing_when_address_is_bad(
    kit: WebKit, locale: str, text: str
) -> None:
    kit.client.headers["accept-language"] = locale
    response = await kit.post("/login", {"email": "not an address"})
    assert response.status_code == 422
    assert text in response.text
    assert 'aria-invalid="true"' in response.text
    assert 'value="not an address"' in response.text
    assert await _count(kit, magic_tokens) == 0
    assert len(kit.sink.messages) == 0


async def test_session_cookie_is_httponly_lax_and_not_secure_over_http(kit: WebKit) -> None:
    link = await kit.ask_link("cookie@example.org")
    page = await kit.client.get(link.replace(BASE, ""))
    response = await kit.client.post(
        "/auth/magic", data={"csrf_token": csrf_of(page.text), "token": link.rpartition("token=")[2]}
    )
    cookie = next(v for v in response.headers.get_list("set-cookie") if v.startswith("creneau_session="))
    flags = cookie.lower()
    assert "httponly" in flags
    assert "samesite=lax" in flags
    assert "path=/" in flags
    assert "secure" not in flags
    raw = cookie.split(";")[0].partition("=")[2]
    assert len(raw) >= 43
    async with kit.store.read() as conn:
        hashes = (await conn.execute(select(web_sessions.c.token_hash))).scalars().all()
    assert raw not in hashes


async def test_session_cookie_is_secure_when_served_over_https(kit: WebKit) -> None:
    secure = kit.browser()
    secure.base_url = "https://testserver"  # type: ignore[assignment]
    try:
        link = await kit.ask_link("tls@example.org", secure)
        page = await secure.get(link.replace(BASE, ""))
        response = await secure.post(
            "/auth/magic", data={"csrf_token": csrf_of(page.text), "token": link.rpartition("token=")[2]}
        )
        cookie = next(v for v in response.headers.get_list("set-cookie") if v.startswith("creneau_session="))
        assert "secure" in cookie.lower()
    finally:
        await secure.aclose()


async def test_logout_deletes_session_row(both_kit: WebKit) -> None:
    kit = both_kit
    await kit.sign_in("bye@example.org")
    assert await _count(kit, web_sessions) == 1
    response = await kit.post("/logout", page="/account")
    assert response.status_code == 303
    assert await _count(kit, web_sessions) == 0
    assert (await kit.client.get("/account")).status_code == 303


async def test_session_can_be_revoked_from_another_browser(kit: WebKit) -> None:
    laptop = await kit.sign_in("two@example.org")
    phone = await kit.sign_in("two@example.org", kit.browser())
    try:
        async with kit.store.read() as conn:
            ids = sorted((await conn.execute(select(web_sessions.c.id))).scalars().all())
        page = await laptop.get("/account")
        assert page.text.count("/revoke") == 2
        response = await kit.post(f"/account/sessions/{ids[1]}/revoke", client=laptop, page="/account")
        assert response.status_code == 303
        assert (await phone.get("/account")).status_code == 303
        assert (await laptop.get("/account")).status_code == 200
    finally:
        await phone.aclose()


async def test_session_cannot_revoke_someone_elses_session(kit: WebKit) -> None:
    alice = await kit.sign_in("alice@example.org")
    bob = await kit.sign_in("bob@example.org", kit.browser())
    try:
        async with kit.store.read() as conn:
            bob_session = (await conn.execute(select(func.max(web_sessions.c.id)))).scalar_one()
        response = await kit.post(f"/account/sessions/{bob_session}/revoke", client=alice, page="/account")
        assert response.status_code == 404
        assert (await bob.get("/account")).status_code == 200
    finally:
        await bob.aclose()


async def test_session_expires_when_unused_for_its_lifetime(kit: WebKit) -> None:
    await kit.sign_in("idle@example.org")
    kit.clock.advance(kit.settings.web_session_days * 86400 + 1)
    assert (await kit.client.get("/account")).status_code == 303


async def test_session_is_extended_when_used(kit: WebKit) -> None:
    await kit.sign_in("busy-user@example.org")
    for _ in range(3):
        kit.clock.advance(kit.settings.web_session_days * 86400 * 0.6)
        assert (await kit.client.get("/account")).status_code == 200


async def test_admin_role_is_given_to_configured_addresses(kit: WebKit) -> None:
    await kit.sign_in("ops@example.org")
    await kit.sign_in("user@example.org", kit.browser())
    async with kit.store.read() as conn:
        roles = dict((await conn.execute(select(subscribers.c.email, accounts.c.role).join(accounts))).all())
    assert roles == {"ops@example.org": "admin", "user@example.org": "user"}
