# SPDX-License-Identifier: AGPL-3.0-or-later
"""Answers that are alike for every visitor who is not signed in, served again without the framework.

The board, the public API and the target pages are made once per board snapshot (`Board.cached`), yet every
request still went through the router, the app-wide dependencies, query validation and a Response object:
about two thirds of what a cached answer cost. A route whose answer is the same for everyone who is not
signed in hands it to `share(request, body, …)`; `SharedMiddleware` keeps it, keyed by path, query,
language and htmx, for the board generation current when the request arrived, and answers the next identical
request from it (the browser's own CSRF token put in, the security headers added by `WebMiddleware` around
it). A request that finds its answer checks the board first, which starts a rebuild when the snapshot is
older than `web_board_refresh_s`; the answers of an older generation are never served, so what a page
shows is as fresh as the board. Requests with a session cookie always go through the app.

Conditional requests: every shared answer carries an `ETag` (per browser when the body holds its CSRF
token); an `If-None-Match` that matches gets a 304 without a body.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from creneau.web.deps import SESSION_COOKIE

if TYPE_CHECKING:
    from fastapi import Request

    from creneau.web.deps import WebState

CSRF_MARK: Final = "CRENEAUCSRFTOKENMARK"
"""Where a shared HTML page holds the browser's CSRF token (`templating.html_for_everyone` puts it there)."""
_CSRF_MARK_BYTES: Final = CSRF_MARK.encode()
MAX_ANSWERS: Final = 4096
MAX_BYTES: Final = 64 * 1024 * 1024
_STATE_KEY: Final = "shared_answer"


@dataclass(frozen=True, slots=True)
class Answer:
    """One 200 answer: its body (with `CSRF_MARK` where the token goes when `csrf`), its headers (without
    the length) and `tag`, naming these very bytes for the ETag."""

    body: bytes
    headers: tuple[tuple[bytes, bytes], ...]
    csrf: bool
    tag: str

    def etag(self, token: str) -> bytes:
        return f'"{self.tag}-{token[:16]}"'.encode() if self.csrf else f'"{self.tag}"'.encode()


def share(request: Request, body: bytes | str, media_type: str, headers: dict[str, str] | None = None) -> None:
    """Say that this request's 200 answer is alike for every visitor who is not signed in (a `str` body is
    an HTML page that may hold `CSRF_MARK`). Call it only with an answer made for nobody in particular."""
    raw = body.encode() if isinstance(body, str) else body
    extra = tuple((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items())
    request.scope["state"][_STATE_KEY] = Answer(
        body=raw,
        headers=((b"content-type", media_type.encode("latin-1")), *extra),
        csrf=isinstance(body, str) and CSRF_MARK in body,
        tag=_new_tag(),
    )


_TAG_PREFIX: Final = secrets.token_hex(4)
_tags = itertools.count(1)


def _new_tag() -> str:
    """A name for one answer's bytes, unique in this process and across restarts. Hashing the body would
    let equal bodies share it, but cost more than serving the answer (tens of µs for a page), and board
    answers change with every snapshot anyway."""
    return f"{_TAG_PREFIX}{next(_tags):x}"


class SharedAnswers:
    """The answers of one board generation (a newer generation drops them all), at most `MAX_ANSWERS` and
    `MAX_BYTES`."""

    def __init__(self) -> None:
        self._generation = -1
        self._answers: dict[tuple[object, ...], Answer] = {}
        self._bytes = 0

    def get(self, key: tuple[object, ...], generation: int) -> Answer | None:
        return self._answers.get(key) if generation == self._generation else None

    def holds(self, key: tuple[object, ...]) -> bool:
        return key in self._answers

    def put(self, key: tuple[object, ...], generation: int, answer: Answer) -> None:
        if generation < self._generation:
            return  # made from an older snapshot than the answers kept: never served
        if generation > self._generation or len(self._answers) >= MAX_ANSWERS or self._bytes > MAX_BYTES:
            self._answers.clear()
            self._bytes = 0
            self._generation = generation
        self._answers[key] = answer
        self._bytes += len(answer.body)


class SharedMiddleware:
    """See the module docstring. Runs inside `WebMiddleware` (which has parsed the cookies and the
    language, and adds the security headers to whatever is sent)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        state = scope["state"]
        if SESSION_COOKIE in state.get("cookies", ()):
            await self.app(scope, receive, send)
            return
        web: WebState | None = getattr(scope["app"].state, "web", None)
        if web is None:  # the app's own lifespan has not run (yet)
            await self.app(scope, receive, send)
            return
        board = web.board
        answers = board.answers
        key = (scope["path"], scope["query_string"], state.get("locale"), _hx(scope))
        if answers.holds(key):
            snapshot = await board.snapshot()  # starts a rebuild when the snapshot is too old
            answer = answers.get(key, snapshot.generation)
            if answer is not None:
                await _send_answer(scope, send, answer, web.csrf.token_of(state["csrf_cookie"]))
                return
        generation = board.generation
        await self.app(scope, receive, _with_etag(scope, send, web))
        answer = state.pop(_STATE_KEY, None)
        if answer is not None:
            if generation == 0 and board.generation == 1:
                generation = 1  # the first snapshot was built meanwhile: the only one the answer can come from
            answers.put(key, generation, answer)


def _hx(scope: Scope) -> bool:
    return (b"hx-request", b"true") in scope["headers"]


def _if_none_match(scope: Scope) -> bytes | None:
    for name, value in scope["headers"]:
        if name == b"if-none-match":
            return bytes(value)
    return None


def _matches(scope: Scope, etag: bytes) -> bool:
    wanted = _if_none_match(scope)
    return wanted is not None and (wanted.strip() == b"*" or etag in [v.strip() for v in wanted.split(b",")])


async def _send_answer(scope: Scope, send: Send, answer: Answer, token: str) -> None:
    etag = answer.etag(token)
    if _matches(scope, etag):
        await send({"type": "http.response.start", "status": 304, "headers": [(b"etag", etag)]})
        await send({"type": "http.response.body", "body": b""})
        return
    body = answer.body.replace(_CSRF_MARK_BYTES, token.encode()) if answer.csrf else answer.body
    headers = [*answer.headers, (b"etag", etag), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _with_etag(scope: Scope, send: Send, web: WebState) -> Send:
    """`send`, adding the ETag to a 200 answer the route shared (the first request of a generation)."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] == 200:
            answer: Answer | None = scope["state"].get(_STATE_KEY)
            if answer is not None:
                message["headers"] = [
                    *message.get("headers", ()),
                    (b"etag", answer.etag(web.csrf.token_of(scope["state"]["csrf_cookie"]))),
                ]
        await send(message)

    return sending
