# SPDX-License-Identifier: AGPL-3.0-or-later
"""Webhook answers that disable the channel. For a webhook the status itself is the statement: 410 Gone
means "this endpoint is gone for good", whatever the body. Everything else follows
`known.classify_http`: 408/429/5xx and timeouts transient, other 4xx permanent for one message only.
An address refused by the SSRF guard is permanent and disables the channel too (`webhook.refused`).
"""

from __future__ import annotations

from creneau.notify.known import KnownError

PERMANENT: tuple[KnownError, ...] = (KnownError("webhook.gone", 410, r""),)
