# SPDX-License-Identifier: AGPL-3.0-or-later
"""Channels: where a person is told. E-mail (verified by link), Telegram (linked by the bot's deep link),
web push (`web/push.py`), ntfy topic, webhook (behind the SSRF guard); remove or re-enable one.

E-mail: the address one signed in with is proven already and is added at once. Any other address gets a
link; opening it (GET) only shows a button, pressing it (POST) creates the channel. Until then the address
is only a pending verification (`store/verifications.py`), so it receives nothing.

Every route that takes a channel id acts only on the signed-in person's own channels (else 404).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from email.message import EmailMessage
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Query, Request
from starlette.responses import RedirectResponse, Response

from creneau.bot.linking import telegram_link
from creneau.notify.base import ConfigError
from creneau.notify.channels.webhook.guard import check_destination
from creneau.notify.errors import RefusedDestination
from creneau.notify.links import check_unsubscribe_token
from creneau.notify.registry import channel_spec
from creneau.store import ChannelRecord, ChannelStatus, Conflict, SessionUser
from creneau.store.accounts import TokenProblem
from creneau.store.errors import NotFound
from creneau.store.verifications import EmailVerificationRepo
from creneau.web.auth import normalise_email
from creneau.web.deps import SignedIn, web
from creneau.web.i18n import _
from creneau.web.mailer import MailError, plain_message
from creneau.web.push import vapid_public_key
from creneau.web.security import csrf_exempt
from creneau.web.templating import render

router = APIRouter(include_in_schema=False)

VERIFY_TTL = timedelta(hours=24)
VERIFY_PER_HOUR = 5
UNSUBSCRIBED = "unsubscribed with the one-click link"


def shown(channel: ChannelRecord) -> str:
    """A channel as its owner sees it (secrets redacted by the channel's own config model)."""
    try:
        return channel_spec(channel.kind).parse_config(channel.config).redacted()
    except ConfigError:
        return channel.kind


async def owned_channel(request: Request, user: SessionUser, channel_id: int) -> ChannelRecord:
    try:
        channel = await web(request).store.subscribers.get_channel(channel_id)
    except NotFound:
        raise HTTPException(status_code=404) from None
    if channel.subscriber_id != user.subscriber_id:
        raise HTTPException(status_code=404)
    return channel


async def _context(request: Request, user: SessionUser, **values: Any) -> dict[str, Any]:
    w = web(request)
    channels = await w.store.subscribers.list_channels(user.subscriber_id)
    context: dict[str, Any] = {
        "channels": [{"c": c, "shown": shown(c), "active": c.status is ChannelStatus.ACTIVE} for c in channels],
        "pending": await EmailVerificationRepo(w.store).pending(user.subscriber_id, now=w.now()),
        "has_sign_in_email": any(c.kind == "email" and c.address == user.email for c in channels),
        "vapid_key": await vapid_public_key(request),
        "telegram": bool(w.settings.bot_username),
        "email": "",
        "topic": f"creneau-{secrets.token_urlsafe(12).replace('_', '-').lower()}",
        "server": "",
        "url": "",
        "errors": {},
    }
    return context | values


def _page(context: dict[str, Any], request: Request, status: int = 422) -> Response:
    return render(request, "channels/list.html", context, status_code=status)


async def _refuse(
    request: Request, user: SessionUser, field: str, text: str, status: int = 422, **values: Any
) -> Response:
    """The channels page again, with `text` under `field` and what the person typed."""
    return _page(await _context(request, user, errors={field: text}, **values), request, status)


@router.get("/channels")
async def channels_page(request: Request, user: SignedIn) -> Response:
    return render(request, "channels/list.html", await _context(request, user))


def verification_message(sender: str, to: str, url: str) -> EmailMessage:
    return plain_message(
        sender,
        to,
        _("Confirm your e-mail address for creneau alerts"),
        (
            _("Hello,"),
            _(
                "Someone (probably you) asked creneau to send appointment alerts to this address. To confirm, "
                "open this link and press “Confirm”:"
            ),
            url,
            _(
                "The link works once, for 24 hours. If you did not ask for it, ignore this e-mail: nothing will be sent."
            ),
        ),
    )


async def _add(request: Request, user: SessionUser, kind: str, address: str, config: dict[str, Any]) -> None:
    """Add the channel, or re-enable it when the person already had it (raises Conflict if active)."""
    w = web(request)
    try:
        await w.store.subscribers.add_channel(user.subscriber_id, kind, address, config, now=w.now())
    except Conflict:
        existing = [
            c
            for c in await w.store.subscribers.list_channels(user.subscriber_id)
            if c.kind == kind and c.address == address
        ]
        if not existing or not await w.store.subscribers.enable_channel(existing[0].id):
            raise


@router.post("/channels/email")
async def add_email(request: Request, user: SignedIn, email: Annotated[str, Form(max_length=320)] = "") -> Response:
    w = web(request)
    address = normalise_email(email)
    if address is None:
        return await _refuse(
            request, user, "email", _("Enter a valid e-mail address, like name@example.org."), email=email
        )
    if address == user.email:
        try:
            await _add(request, user, "email", address, {"address": address})
        except Conflict:
            return await _refuse(request, user, "email", _("You already receive alerts at this address."), email=email)
        return RedirectResponse("/channels", status_code=303)
    repo = EmailVerificationRepo(w.store)
    if await repo.started_since(user.subscriber_id, w.now() - timedelta(hours=1)) >= VERIFY_PER_HOUR:
        text = _("Too many addresses were added. Wait an hour, then try again.")
        return await _refuse(request, user, "email", text, status=429, email=email)
    token = await repo.start(user.subscriber_id, address, now=w.now(), ttl=VERIFY_TTL)
    url = f"{w.base_url()}/channels/verify?token={quote(token)}"
    try:
        await w.mailer.send(verification_message(w.settings.smtp_from, address, url), address)
    except MailError:
        text = _("We could not send the e-mail right now. Please try again later.")
        return await _refuse(request, user, "email", text, status=503, email=email)
    return RedirectResponse("/channels", status_code=303)


def _problem(request: Request, problem: TokenProblem) -> Response:
    texts = {
        TokenProblem.UNKNOWN: _("This confirmation link is not valid."),
        TokenProblem.USED: _("This confirmation link was already used."),
        TokenProblem.EXPIRED: _("This confirmation link has expired. Add the address again to get a new one."),
    }
    status = 400 if problem is TokenProblem.UNKNOWN else 410
    return render(
        request, "channels/verify.html", {"problem": texts[problem], "token": "", "address": ""}, status_code=status
    )


@router.get("/channels/verify")
async def verify_confirm(request: Request, token: Annotated[str, Query(max_length=200)] = "") -> Response:
    """Only shows the "Confirm" button: opening the link (as mail scanners do) changes nothing."""
    w = web(request)
    found = await EmailVerificationRepo(w.store).peek(token, now=w.now())
    if isinstance(found, TokenProblem):
        return _problem(request, found)
    return render(request, "channels/verify.html", {"problem": "", "token": token, "address": found[1]})


@router.post("/channels/verify")
async def verify_use(request: Request, token: Annotated[str, Form(max_length=200)] = "") -> Response:
    w = web(request)
    found = await EmailVerificationRepo(w.store).use(token, now=w.now())
    if isinstance(found, TokenProblem):
        return _problem(request, found)
    subscriber_id, address = found
    try:
        await w.store.subscribers.add_channel(subscriber_id, "email", address, {"address": address}, now=w.now())
    except Conflict:
        for channel in await w.store.subscribers.list_channels(subscriber_id):
            if channel.kind == "email" and channel.address == address:
                await w.store.subscribers.enable_channel(channel.id)
    return render(request, "channels/verified.html", {"address": address})


@router.post("/channels/ntfy")
async def add_ntfy(
    request: Request,
    user: SignedIn,
    topic: Annotated[str, Form(max_length=100)] = "",
    server: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    values: dict[str, Any] = {"topic": topic, "server": server}
    try:
        config = channel_spec("ntfy").parse_config({"topic": topic.strip(), "server": server.strip() or None})
    except ConfigError as exc:
        if "server" in str(exc):
            return await _refuse(
                request, user, "server", _("Enter the server's address, like https://ntfy.sh."), **values
            )
        return await _refuse(request, user, "topic", _("Use 1 to 64 letters, digits, - or _."), **values)
    if refused := await _guard(request, server.strip()):
        return await _refuse(request, user, "server", refused, **values)
    try:
        await _add(request, user, "ntfy", config.destination_key(), config.stored())
    except Conflict:
        return await _refuse(request, user, "topic", _("You already have this channel."), **values)
    return RedirectResponse("/channels", status_code=303)


async def _guard(request: Request, url: str) -> str:
    """The SSRF guard on an address someone typed: why it is refused, or "" when it may be used."""
    if not url:
        return ""
    try:
        await check_destination(url, allow_private=web(request).settings.webhook_allow_private)
    except RefusedDestination:
        return _("This address is not on the public internet: private and local addresses are refused.")
    except OSError:
        return _("We could not find this server. Check the address.")
    return ""


@router.post("/channels/webhook")
async def add_webhook(
    request: Request,
    user: SignedIn,
    url: Annotated[str, Form(max_length=2048)] = "",
    secret: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    try:
        config = channel_spec("webhook").parse_config({"url": url.strip(), "secret": secret})
    except ConfigError as exc:
        if "secret" in str(exc):
            return await _refuse(request, user, "secret", _("The secret must be at least 16 characters long."), url=url)
        return await _refuse(request, user, "url", _("Enter an address like https://example.org/hook."), url=url)
    if refused := await _guard(request, url.strip()):
        return await _refuse(request, user, "url", refused, url=url)
    try:
        await _add(request, user, "webhook", url.strip(), config.stored())
    except Conflict:
        return await _refuse(request, user, "url", _("You already have this channel."), url=url)
    return RedirectResponse("/channels", status_code=303)


@router.post("/channels/{channel_id}/delete")
async def delete_channel(request: Request, user: SignedIn, channel_id: int) -> Response:
    await owned_channel(request, user, channel_id)
    await web(request).store.subscribers.remove_channel(channel_id)
    return RedirectResponse("/channels", status_code=303)


@router.post("/channels/{channel_id}/enable")
async def enable_channel(request: Request, user: SignedIn, channel_id: int) -> Response:
    await owned_channel(request, user, channel_id)
    await web(request).store.subscribers.enable_channel(channel_id)
    return RedirectResponse("/channels", status_code=303)


@router.post("/channels/telegram")
async def telegram_page(request: Request, user: SignedIn) -> Response:
    """Issue a one-time Telegram link (older unused ones stop working) and show it; without a configured
    bot, say so plainly: nothing is linked."""
    w = web(request)
    link = await telegram_link(w.settings, w.store, user.subscriber_id, now=w.now())
    return render(request, "channels/telegram.html", {"link": link})


# --- one-click unsubscribe (RFC 8058) --------------------------------------------------------------------
async def _unsubscribable(request: Request, channel_id: int, token: str) -> ChannelRecord | None:
    """The channel when `token` is its signed unsubscribe token (400 otherwise); None if it is gone."""
    secret = web(request).settings.link_secret.get_secret_value().encode()
    if len(token) > 64 or not check_unsubscribe_token(secret, str(channel_id), token):
        raise HTTPException(status_code=400)
    try:
        return await web(request).store.subscribers.get_channel(channel_id)
    except NotFound:
        return None


@router.get("/unsubscribe/{channel_id}/{token}")
async def unsubscribe_confirm(request: Request, channel_id: int, token: str) -> Response:
    """The link opened in a browser: a button, nothing changed yet (mail scanners open links too)."""
    channel = await _unsubscribable(request, channel_id, token)
    context = {
        "channel": shown(channel) if channel else "",
        "done": False,
        "active": bool(channel and channel.status is ChannelStatus.ACTIVE),
    }
    return render(request, "channels/unsubscribe.html", context)


@router.post("/unsubscribe/{channel_id}/{token}")
@csrf_exempt
async def unsubscribe(request: Request, channel_id: int, token: str) -> Response:
    """RFC 8058 one-click: a mail client POSTs `List-Unsubscribe=One-Click` from anywhere; the signed token
    is the proof, so this is the one POST without a CSRF token. The channel is disabled (its owner can
    re-enable it from /channels), and its waiting deliveries are given up."""
    w = web(request)
    channel = await _unsubscribable(request, channel_id, token)
    if channel is not None:
        await w.store.subscribers.disable_channel(channel_id, reason=UNSUBSCRIBED, now=w.now())
    context = {"channel": shown(channel) if channel else "", "done": True, "active": False}
    return render(request, "channels/unsubscribe.html", context)
