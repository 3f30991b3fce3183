# SPDX-License-Identifier: AGPL-3.0-or-later
"""A fake Telegram Bot API server: `/bot{token}/{method}` answering like the real one.

- `getMe`, `sendMessage`, `sendPhoto`; any other method → 404 `Not Found`, a wrong token → 401.
- `updates` (`telegram_updates.UpdateQueue`): what people type and press, read by a bot with `getUpdates`.
- Parameters from the query string, a url-encoded or multipart form, or a JSON body (as the real API).
- `parse_mode=HTML` is checked like Telegram does (only its tags, well nested) → 400 `can't parse entities`;
  over 4096 characters after parsing → 400 `message is too long`.
- Flood limits with real 429 answers `{"ok":false,"error_code":429,"parameters":{"retry_after":N}}`:
  30 messages/s per bot, ~1/s per private chat, 20/min per group or channel. `clock` (monotonic seconds)
  is injectable so tests move time by hand.
- Chats: any numeric id is a chat that started the bot (positive: private, -100…: channel, other negative:
  group) unless `known_chats` restricts them; `@name` channels must be added with `add_channel`. `blocked`
  chats answer 403 `Forbidden: bot was blocked by the user`; `errors[chat]` forces any other answer.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from typing import Any

from aiohttp import web

from creneau.notify.fakes.server import AppServer, Inbox
from creneau.notify.fakes.telegram_updates import Handler, UpdateQueue
from creneau.notify.ratelimit import Rate, RateLimiter

ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "span",
                "tg-spoiler", "tg-emoji", "blockquote"}  # fmt: skip
BOT_ID = 7000000001
FAKE_TOKEN = "123456789:TEST-creneau-fake-token"  # noqa: S105 - the fake's own, accepted nowhere else
# Telegram's documented flood limits: ~30 messages/s per bot, ~1/s per private chat, 20/min per group.
GLOBAL_RATE = Rate(30, burst=30)
CHAT_RATE = Rate(1, burst=1)
GROUP_RATE = Rate.per_minute(20, burst=3)


@dataclass(frozen=True, slots=True)
class SentMessage:
    """One accepted message. `text` is what the bot sent (HTML if `parse_mode`), `plain` what people read."""

    message_id: int
    method: str
    chat_id: int | str
    text: str
    plain: str
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    params: dict[str, str] = field(repr=False)


class _EntityChecker(HTMLParser):
    """Telegram's HTML rules: only its tags, properly nested; collects the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []
        self.error = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.error = self.error or f'Unsupported start tag "{tag}"'
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.error = self.error or f'Unmatched end tag "{tag}"'

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_html(text: str) -> tuple[str, str]:
    """(visible text, error) of a `parse_mode=HTML` message."""
    checker = _EntityChecker()
    checker.feed(text)
    checker.close()
    if not checker.error and checker.stack:
        checker.error = f'Can\'t find end tag corresponding to start tag "{checker.stack[-1]}"'
    return unescape("".join(checker.text)), checker.error


class FakeTelegram(AppServer):
    def __init__(
        self,
        *,
        token: str = FAKE_TOKEN,
        clock: Callable[[], float] = time.monotonic,
        global_rate: Rate = GLOBAL_RATE,
        chat_rate: Rate = CHAT_RATE,
        group_rate: Rate = GROUP_RATE,
        known_chats: set[int] | None = None,
    ) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        super().__init__(app)
        self.token = token
        self.messages: Inbox[SentMessage] = Inbox()
        self.blocked: set[int | str] = set()
        self.errors: dict[int | str, tuple[int, str]] = {}
        self.channels: dict[str, int] = {}
        self.known_chats = known_chats
        self.flood_answers = 0
        self._limiter = RateLimiter(global_rate, clock)
        self._chat_rate = chat_rate
        self._group_rate = group_rate
        self.updates = UpdateQueue(self)

    @property
    def api_base(self) -> str:
        return self.url

    def add_channel(self, name: str) -> int:
        """Register a public channel `@name` (the bot is its admin); returns its -100… id."""
        chat_id = -1_000_000_000_000 - len(self.channels) - 1
        self.channels[name.lower()] = chat_id
        return chat_id

    async def close(self) -> None:
        await self.updates.release()
        await super().close()

    def sent_to(self, chat_id: int | str) -> list[SentMessage]:
        wanted = self._resolve(chat_id)
        return [m for m in self.messages if self._resolve(m.chat_id) == wanted]

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"].lower()
        handlers: dict[str, Handler] = {"getme": self._get_me, "sendmessage": self._send, "sendphoto": self._send}
        handler = handlers.get(method) or self.updates.handlers().get(method)
        if handler is None:
            return _error(404, "Not Found")
        return await handler(request.match_info["method"], await _params(request))

    async def _get_me(self, method: str, params: dict[str, str]) -> web.Response:
        return _ok({"id": BOT_ID, "is_bot": True, "first_name": "creneau", "username": "creneau_fake_bot",
                    "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False})  # fmt: skip

    async def _send(self, method: str, params: dict[str, str]) -> web.Response:
        raw_chat = params.get("chat_id", "")
        chat = self._resolve(raw_chat)
        if chat is None:
            return _error(400, "Bad Request: chat not found")
        if chat in self.errors:
            return _error(*self.errors[chat])
        if chat in self.blocked:
            return _error(403, "Forbidden: bot was blocked by the user")
        photo = method.lower() == "sendphoto"
        text = params.get("caption" if photo else "text", "")
        if photo and not params.get("photo"):
            return _error(400, "Bad Request: there is no photo in the request")
        if not photo and not text.strip():
            return _error(400, "Bad Request: message text is empty")
        parse_mode = params.get("parse_mode") or None
        plain, problem = parse_html(text) if (parse_mode or "").lower() == "html" else (text, "")
        if problem:
            return _error(400, f"Bad Request: can't parse entities: {problem}")
        if len(plain) > (1024 if photo else 4096):
            return _error(
                400, "Bad Request: message caption is too long" if photo else "Bad Request: message is too long"
            )
        wait = self._limiter.take(f"chat:{chat}", self._chat_rate if chat > 0 else self._group_rate)
        if wait > 0:
            self.flood_answers += 1
            retry = max(1, math.ceil(wait))
            return _error(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})
        markup = json.loads(params["reply_markup"]) if params.get("reply_markup") else None
        sent = SentMessage(len(self.messages) + 1, method, chat, text, plain, parse_mode, markup, params)
        await self.messages.put(sent)
        return _ok(self._message_json(sent, photo))

    def _resolve(self, chat: int | str) -> int | None:
        text = str(chat).strip()
        if text.startswith("@"):
            return self.channels.get(text.lower())
        try:
            number = int(text)
        except ValueError:
            return None
        if number == 0 or (self.known_chats is not None and number not in self.known_chats):
            return None
        return number

    def _message_json(self, sent: SentMessage, photo: bool) -> dict[str, Any]:
        chat_id = int(sent.chat_id)
        kind = "private" if chat_id > 0 else ("channel" if chat_id <= -1_000_000_000_000 else "group")
        chat: dict[str, Any] = {"id": chat_id, "type": kind}
        if kind == "private":
            chat["first_name"] = "Camille"
        else:
            chat["title"] = f"creneau {kind}"
        body: dict[str, Any] = {"message_id": sent.message_id, "date": int(time.time()), "chat": chat}
        if kind != "channel":
            body["from"] = {"id": BOT_ID, "is_bot": True, "first_name": "creneau"}
        if photo:
            body["photo"] = [{"file_id": f"photo-{sent.message_id}", "file_unique_id": f"u{sent.message_id}",
                              "width": 320, "height": 240}]  # fmt: skip
            if sent.plain:
                body["caption"] = sent.plain
        else:
            body["text"] = sent.plain
        return body


async def _params(request: web.Request) -> dict[str, str]:
    params = dict(request.query)
    if request.content_type == "application/json":
        data = await request.json()
        params.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()})
    elif request.can_read_body:
        form = await request.post()
        params.update({k: v if isinstance(v, str) else f"upload:{getattr(v, 'filename', '')}" for k, v in form.items()})
        for k, v in form.items():  # an uploaded file is also kept as its SHA-256, for tests to compare
            if isinstance(v, web.FileField):
                params[f"{k}_sha256"] = hashlib.sha256(v.file.read()).hexdigest()
        for k, v in list(params.items()):  # `photo=attach://<field>` names the multipart field of the file
            field = v.removeprefix("attach://")
            if v.startswith("attach://") and f"{field}_sha256" in params:
                params[k], params[f"{k}_sha256"] = params[field], params[f"{field}_sha256"]
    return params


def _ok(result: dict[str, Any]) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(code: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=code)
