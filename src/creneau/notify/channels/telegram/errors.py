# SPDX-License-Identifier: AGPL-3.0-or-later
"""Telegram answers that prove a destination is dead (the channel gets disabled), and how the rest is classed.

- 429 → `TransientError(retry_after_s=retry_after)`; 5xx and network errors → transient;
- 401 (bad bot token) and 404 (wrong API URL) are the operator's problem: transient, nobody loses a channel;
- a 400/403 in `PERMANENT` → `PermanentError` that disables the channel; any other 400/403 → permanent for
  this message only.
"""

from __future__ import annotations

from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)

from creneau.notify.errors import NotifyError, PermanentError, TransientError
from creneau.notify.known import KnownError, match_known

PERMANENT: tuple[KnownError, ...] = (
    KnownError("telegram.blocked", 403, r"bot was blocked by the user"),
    KnownError("telegram.user_deactivated", 403, r"user is deactivated"),
    KnownError("telegram.kicked", 403, r"bot was kicked from|bot is not a member of the"),
    KnownError("telegram.cannot_initiate", 403, r"bot can't initiate conversation with a user"),
    KnownError("telegram.group_deleted", 403, r"the group chat was deleted"),
    KnownError("telegram.chat_not_found", 400, r"chat not found"),
    KnownError("telegram.no_rights", 400, r"not enough rights to send|have no rights to send"),
    KnownError("telegram.upgraded", 400, r"group chat was upgraded to a supergroup"),
)

_STATUS: tuple[tuple[type[TelegramAPIError], int], ...] = (
    (TelegramBadRequest, 400),
    (TelegramUnauthorizedError, 401),
    (TelegramForbiddenError, 403),
    (TelegramNotFound, 404),
    (TelegramConflictError, 409),
)


def classify(exc: TelegramAPIError, *, token: str = "") -> NotifyError:
    """Map an aiogram exception to our error classes; `token` is scrubbed from the reason."""
    reason = exc.message.replace(token, "***") if token else exc.message
    if isinstance(exc, TelegramRetryAfter):
        return TransientError(reason, retry_after_s=float(exc.retry_after), code="telegram.429")
    if isinstance(exc, TelegramMigrateToChat):
        return PermanentError(f"group moved to supergroup {exc.migrate_to_chat_id}", code="telegram.migrated")
    if isinstance(exc, TelegramEntityTooLarge):  # a TelegramNetworkError subclass, but not transient
        return PermanentError(reason, disable_channel=False, code="telegram.413")
    if isinstance(exc, TelegramServerError | TelegramNetworkError):
        return TransientError(reason, code="telegram.unreachable")
    status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 0)
    if status in (401, 404):
        return TransientError(reason, code=f"telegram.{status}")
    if known := match_known(PERMANENT, status, exc.message):
        return PermanentError(reason, code=known.code)
    return PermanentError(reason, disable_channel=False, code=f"telegram.{status or 'error'}")
