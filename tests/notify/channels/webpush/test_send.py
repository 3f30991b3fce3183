# SPDX-License-Identifier: AGPL-3.0-or-later
"""Web push transport against the fake push service: the payload decrypts (RFC 8291) to what the browser
shows, the VAPID JWT verifies, 404/410 disable the channel, other 4xx fail one message, 429/5xx retry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from creneau.config import load_settings
from creneau.notify.channels.webhook.guard import guarded_session
from creneau.notify.channels.webpush.config import WebPushConfig
from creneau.notify.channels.webpush.errors import PERMANENT
from creneau.notify.channels.webpush.transport import WebPushTransport
from creneau.notify.channels.webpush.vapid import VapidKey, load_or_create, parse_private_key, verify_authorization
from creneau.notify.errors import PermanentError, TransientError
from creneau.notify.fakes.push import FakePushService
from creneau.notify.message import Alert, ChannelDisabled
from creneau.types import Slot, System, Target

TARGET = Target("t", System.RDVPREF, "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/1/")
ALERT = Alert.from_opening(
    opening_id="o1", watch_id="1", channel_id="2", target=TARGET, detected_at=datetime(2026, 5, 4, 6, 0, tzinfo=UTC),
    slots=[Slot(datetime(2026, 5, 5, 7, 0, tzinfo=UTC), guichet="1", guichet_label="Guichet 1")],
)  # fmt: skip


@pytest.fixture
async def push() -> AsyncIterator[FakePushService]:
    async with FakePushService() as service:
        yield service


@pytest.fixture
async def transport(tmp_path: Path) -> AsyncIterator[WebPushTransport]:
    settings = load_settings(data_dir=tmp_path, webhook_allow_private=True, operator_contact="ops@example.org")
    session = guarded_session(allow_private=True, user_agent="creneau-test")
    sender = WebPushTransport(session, settings, owns_session=True)
    try:
        yield sender
    finally:
        await sender.close()


def _config(subscription: dict[str, object]) -> WebPushConfig:
    keys = subscription["keys"]
    assert isinstance(keys, dict)
    return WebPushConfig(endpoint=str(subscription["endpoint"]), p256dh=keys["p256dh"], auth=keys["auth"])


def test_webpush_known_errors_are_404_and_410() -> None:
    assert [(entry.code, entry.status) for entry in PERMANENT] == [("webpush.not_found", 404), ("webpush.gone", 410)]


async def test_webpush_send_delivers_an_encrypted_signed_payload_when_the_subscription_is_live(
    transport: WebPushTransport, push: FakePushService
) -> None:
    receipt = await transport.send(ALERT, _config(push.subscribe()), locale="en")
    (received,) = await push.received.wait_for(1)
    assert receipt.status == 201
    assert receipt.provider_id == f"{push.url}/message/1"
    assert received.vapid["sub"] == "mailto:ops@example.org"
    assert received.json["title"].startswith("Slot available")
    assert "Tuesday 5 May 2026: 09:00" in received.json["body"]
    assert received.json["url"] == TARGET.url
    assert int(received.headers["TTL"]) == 6 * 3600


async def test_webpush_notice_goes_with_normal_urgency_and_no_link(
    transport: WebPushTransport, push: FakePushService
) -> None:
    notice = ChannelDisabled(
        event_id="e", watch_id="-", channel_id="3", disabled_kind="email", disabled_destination="a…@example.org",
        reason="smtp.mailbox_unknown", disabled_at=datetime(2026, 5, 4, 6, 0, tzinfo=UTC),
    )  # fmt: skip
    await transport.send(notice, _config(push.subscribe()), locale="fr")
    (received,) = await push.received.wait_for(1)
    assert received.headers["Urgency"] == "normal"
    assert received.json["url"] is None
    assert "smtp.mailbox_unknown" in received.json["body"]


@pytest.mark.parametrize("gone", [True, False], ids=["410", "404"])
async def test_webpush_send_disables_the_channel_when_the_subscription_is_gone(
    transport: WebPushTransport, push: FakePushService, gone: bool
) -> None:
    subscription = push.subscribe()
    config = _config(subscription)
    if gone:
        push.gone.add(config.endpoint.rpartition("/")[2])
    else:
        config = config.model_copy(update={"endpoint": config.endpoint + "-unknown"})
    with pytest.raises(PermanentError) as caught:
        await transport.send(ALERT, config, locale="fr")
    assert caught.value.disable_channel
    assert caught.value.code == ("webpush.gone" if gone else "webpush.not_found")


@pytest.mark.parametrize("status", [400, 403, 413], ids=str)
async def test_webpush_send_keeps_the_channel_when_another_4xx_is_answered(
    transport: WebPushTransport, push: FakePushService, status: int
) -> None:
    config = _config(push.subscribe())
    push.answers[config.endpoint.rpartition("/")[2]] = (status, "nope", {})
    with pytest.raises(PermanentError) as caught:
        await transport.send(ALERT, config, locale="fr")
    assert not caught.value.disable_channel


async def test_webpush_send_is_transient_with_the_services_retry_after_when_throttled(
    transport: WebPushTransport, push: FakePushService
) -> None:
    config = _config(push.subscribe())
    push.answers[config.endpoint.rpartition("/")[2]] = (429, "", {"Retry-After": "9"})
    with pytest.raises(TransientError) as caught:
        await transport.send(ALERT, config, locale="fr")
    assert caught.value.retry_after_s == 9.0


async def test_webpush_send_refuses_a_private_endpoint_when_the_guard_is_on(
    tmp_path: Path, push: FakePushService
) -> None:
    settings = load_settings(data_dir=tmp_path)
    sender = WebPushTransport(guarded_session(allow_private=False, user_agent="t"), settings, owns_session=True)
    try:
        with pytest.raises(PermanentError) as caught:
            await sender.send(ALERT, _config(push.subscribe()), locale="fr")
    finally:
        await sender.close()
    assert caught.value.code in ("webpush.refused", "webpush.network")
    assert push.received == []


def test_vapid_key_is_made_once_and_reused_when_loaded_again(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    first, second = load_or_create(settings), load_or_create(settings)
    assert first.public_key == second.public_key
    assert (tmp_path / "vapid_private.pem").stat().st_mode & 0o777 == 0o600
    header = first.authorization("https://push.example.net/s/1", subject="mailto:a@b.c", now_s=1_000_000.0)
    assert verify_authorization(header, audience="https://push.example.net", now_s=1_000_000.0) is not None
    assert verify_authorization(header, audience="https://evil.example.net", now_s=1_000_000.0) is None
    assert verify_authorization(header, audience="https://push.example.net", now_s=2_000_000.0) is None


BROWSER_KEY = VapidKey(parse_private_key("c2VjcmV0LXNjYWxhci1mb3ItdGVzdHMtb25seS0hIQ")).public_key


@pytest.mark.parametrize(
    ("field", "value"),
    [("endpoint", "ftp://x/y"), ("p256dh", "AAAA"), ("auth", "AAAA"), ("p256dh", "BA" + "A" * 85)],
    ids=["scheme", "short-key", "short-auth", "off-curve"],
)
def test_webpush_config_refuses_a_broken_subscription(field: str, value: str) -> None:
    good = {"endpoint": "https://push.example.net/s/1", "p256dh": BROWSER_KEY, "auth": "c2l4dGVlbi1ieXRlcy0hIQ"}
    WebPushConfig.model_validate(good)
    with pytest.raises(ValueError, match="push"):
        WebPushConfig.model_validate({**good, field: value})
