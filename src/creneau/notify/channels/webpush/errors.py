# SPDX-License-Identifier: AGPL-3.0-or-later
"""Push service answers that end a subscription (RFC 8030 §7.3, and what FCM, Mozilla autopush and Apple
answer in practice): 404 Not Found and 410 Gone mean the browser unsubscribed or the subscription expired,
whatever the body. Everything else follows `known.classify_http`: 429/5xx transient (with Retry-After), other
4xx (413 payload too large, 400 bad VAPID) permanent for one message only. An address refused by the SSRF
guard disables the channel too (`webpush.refused`).
"""

from __future__ import annotations

from creneau.notify.known import KnownError

PERMANENT: tuple[KnownError, ...] = (
    KnownError("webpush.not_found", 404, r""),
    KnownError("webpush.gone", 410, r""),
)
