# SPDX-License-Identifier: AGPL-3.0-or-later
"""The two ways a send can fail. The outbox decides what to do from the class, never from the text.

- `TransientError`: try again later (network, 5xx, SMTP 4xx, 429). `retry_after_s` is the provider's own
  wait when it gave one (Telegram `retry_after`, HTTP `Retry-After`); the outbox waits at least that long.
- `PermanentError`: trying the same message again cannot work. With `disable_channel=True` (the default:
  bot blocked, chat not found, 410 Gone, mailbox does not exist…) the destination itself is dead: the
  outbox disables that channel and tells its owner. With `disable_channel=False` only this delivery is given
  up (an unknown 4xx: the channel may still work for the next message).

`code` is a short stable identifier (`telegram.blocked`, `http.410`…) for records and notices; `reason`
the provider's own words (never a secret).
"""

from __future__ import annotations


class NotifyError(Exception):
    """Base class of delivery failures raised by transports."""

    def __init__(self, reason: str, *, code: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class TransientError(NotifyError):
    def __init__(
        self, reason: str = "temporary failure", *, retry_after_s: float | None = None, code: str = ""
    ) -> None:
        super().__init__(reason, code=code)
        self.retry_after_s = retry_after_s


class PermanentError(NotifyError):
    def __init__(self, reason: str, *, disable_channel: bool = True, code: str = "") -> None:
        super().__init__(reason, code=code)
        self.disable_channel = disable_channel


class RefusedDestination(OSError):
    """The SSRF guard refused an address (private, loopback, link-local…). An `OSError` so that aiohttp
    passes it through its connector; transports turn it into a `PermanentError`."""
