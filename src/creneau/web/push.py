# SPDX-License-Identifier: AGPL-3.0-or-later
"""Web push subscriptions: the page's `push.js` registers the service worker (`/static/sw.js`), subscribes
with the instance's VAPID public key and POSTs the subscription here; it becomes a `webpush` channel.

The VAPID key pair is made on first use (`notify/channels/webpush/vapid.py`: DATA_DIR/vapid_private.pem, or
`CRENEAU_WEBPUSH_VAPID_KEY`); the sender signs with the same key. The endpoint is a URL the browser chose,
so it goes through the same SSRF guard as webhooks before it is saved.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import JSONResponse, Response

from creneau.notify.base import ConfigError
from creneau.notify.channels.webhook.guard import check_destination
from creneau.notify.channels.webpush.vapid import load_or_create
from creneau.notify.errors import RefusedDestination
from creneau.notify.registry import channel_spec
from creneau.store import Conflict
from creneau.web.deps import SignedIn, web

router = APIRouter(include_in_schema=False)

MAX_BODY = 8192


async def vapid_public_key(request: Request) -> str:
    """The application server key browsers subscribe with; "" when the key cannot be read (push is then
    not offered, and the reason is in the log of the sender that fails the same way)."""
    state = request.app.state
    if not hasattr(state, "vapid_public_key"):
        try:
            key = await asyncio.to_thread(load_or_create, web(request).settings)
        except (OSError, ValueError):
            return ""
        state.vapid_public_key = key.public_key
    found: str = state.vapid_public_key
    return found


def _problem(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"ok": False, "detail": detail}, status_code=status)


@router.post("/push/subscribe")
async def subscribe(request: Request, user: SignedIn) -> Response:
    """Save `PushSubscription.toJSON()` (JSON body; the page sends its CSRF token as `X-CSRF-Token`)."""
    body = await request.body()
    if len(body) > MAX_BODY:
        raise HTTPException(status_code=413)
    try:
        data: Any = json.loads(body)
        keys = data.get("keys") or {}
        raw = {"endpoint": str(data["endpoint"]), "p256dh": str(keys["p256dh"]), "auth": str(keys["auth"])}
        config = channel_spec("webpush").parse_config(raw)
    except (ValueError, KeyError, TypeError, AttributeError, ConfigError):
        return _problem(422, "not a push subscription")
    w = web(request)
    try:
        await check_destination(raw["endpoint"], allow_private=w.settings.webhook_allow_private)
    except RefusedDestination:
        return _problem(422, "the push service is not on the public internet")
    except OSError:
        return _problem(422, "the push service cannot be found")
    try:
        channel = await w.store.subscribers.add_channel(
            user.subscriber_id, "webpush", raw["endpoint"], config.stored(), now=w.now()
        )
    except Conflict:
        return JSONResponse({"ok": True, "detail": "already subscribed"})
    return JSONResponse({"ok": True, "channel_id": channel.id}, status_code=201)
