# SPDX-License-Identifier: AGPL-3.0-or-later
"""Writing an alert e-mail as bytes: `multipart/alternative` with a text and an HTML part.

Written by hand rather than with `email.message`, whose header machinery costs several milliseconds per
message: a fan-out to thousands of addresses renders each body once (see `render`) and only fills in the
per-recipient parts here. Headers are ASCII (RFC 2047 words for the subject), parts are UTF-8 in base64,
lines end in CRLF. The boundary derives from the message id, so the same delivery gives the same bytes
apart from the Date header.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Iterable
from email.header import Header

MAX_LINE = 78


@functools.lru_cache(maxsize=1024)
def encoded_word(text: str) -> str:
    """A header value, RFC 2047-encoded when it is not plain ASCII (cached: the stdlib encoder is slow and
    a fan-out repeats the same subject)."""
    return text if text.isascii() else Header(text, "utf-8", maxlinelen=MAX_LINE).encode(linesep="\r\n")


def header_line(name: str, value: str) -> str:
    """`Name: value`, with a long single-token value moved to a folded continuation line."""
    if len(name) + 2 + len(value) > MAX_LINE and " " not in value:
        return f"{name}:\r\n {value}\r\n"
    return f"{name}: {value}\r\n"


def _part(subtype: str, body: str) -> str:
    encoded = base64.encodebytes(body.encode()).decode().replace("\n", "\r\n")
    return f'Content-Type: text/{subtype}; charset="utf-8"\r\nContent-Transfer-Encoding: base64\r\n\r\n{encoded}'


def build(headers: Iterable[tuple[str, str]], text: str, html: str, boundary: str) -> bytes:
    """The whole message: `headers` (already ASCII/encoded values) then the two parts."""
    head = "".join(header_line(name, value) for name, value in headers)
    head += f'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'
    body = f"--{boundary}\r\n{_part('plain', text)}--{boundary}\r\n{_part('html', html)}--{boundary}--\r\n"
    return (head + body).encode("ascii")
