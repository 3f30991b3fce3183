# SPDX-License-Identifier: AGPL-3.0-or-later
"""Provider-specific permanent errors, kept as data beside each transport.

A `KnownError` matches a status code and a pattern of the provider's own text. Only a match disables a
channel: an unknown error with the same status stays a one-delivery failure, because disabling a
working channel on a guess would silently stop someone's alerts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from creneau.notify.errors import NotifyError, PermanentError, TransientError


@dataclass(frozen=True, slots=True)
class KnownError:
    """`code` names the error in records and notices; `pattern` is searched case-insensitively."""

    code: str
    status: int
    pattern: str
    compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "compiled", re.compile(self.pattern, re.IGNORECASE))

    def matches(self, status: int, text: str) -> bool:
        return status == self.status and bool(self.compiled.search(text))


def match_known(table: Iterable[KnownError], status: int, text: str) -> KnownError | None:
    """The first entry of `table` matching this status and text, or None."""
    return next((entry for entry in table if entry.matches(status, text)), None)


def classify_http(
    table: Iterable[KnownError], status: int, body: str, *, prefix: str, retry_after_s: float | None = None
) -> NotifyError:
    """Class an HTTP error answer (status ≥ 400) from a provider whose dead destinations are in `table`:

    408/425/429 and 5xx → `TransientError` (with the provider's `Retry-After`); a `table` match →
    `PermanentError` that disables the channel; any other 4xx → `PermanentError(disable_channel=False)`.
    """
    reason = f"HTTP {status}: {' '.join(body.split())[:300]}".rstrip(": ")
    if status in (408, 425, 429) or status >= 500:
        return TransientError(reason, retry_after_s=retry_after_s, code=f"{prefix}.{status}")
    if known := match_known(table, status, body):
        return PermanentError(reason, code=known.code)
    return PermanentError(reason, disable_channel=False, code=f"{prefix}.{status}")
