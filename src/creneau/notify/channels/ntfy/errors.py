# SPDX-License-Identifier: AGPL-3.0-or-later
"""ntfy answers that prove a destination is dead, matched on ntfy's own error codes
(`{"code":40301,"http":403,"error":"forbidden"}`). Everything else follows `known.classify_http`:
429/5xx transient, other 4xx permanent for one message only.
"""

from __future__ import annotations

from creneau.notify.known import KnownError

PERMANENT: tuple[KnownError, ...] = (
    KnownError("ntfy.unauthorized", 401, r'"code":\s*40101'),  # the topic's access token was rejected
    KnownError("ntfy.forbidden", 403, r'"code":\s*40301'),  # no (more) write access to the topic
    KnownError("ntfy.gone", 410, r'"code":\s*410\d\d|"error":\s*"gone'),
)
