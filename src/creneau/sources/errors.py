# SPDX-License-Identifier: AGPL-3.0-or-later
"""One base class for source errors, carrying a kind: callers decide from the kind, never from text."""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    NETWORK = "network"  # connection refused, reset, timeout: transient
    BLOCKED = "blocked"  # the site refuses us
    LAYOUT = "layout"  # the page is not what the adapter knows
    BAD_INPUT = "bad_input"  # a URL or file the adapter cannot handle (user-fixable)


class SourceError(Exception):
    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
