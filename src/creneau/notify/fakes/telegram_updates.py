# SPDX-License-Identifier: AGPL-3.0-or-later
"""The incoming half of the fake Bot API: what people type and press, delivered to a bot by long polling.

Tests play the person: `send_text(chat, "/start TOKEN")`, `press(message, "Button text")`, `reply(message,
"x7kq")`. The bot reads them with `getUpdates` (offset, limit, timeout, as the real API: an update is gone
once a later offset confirms it; with nothing waiting the call holds until `timeout`); `handled(id)` waits
until the bot confirmed an update, so a test knows every answer to it was sent. The fake also answers
the calls an interactive bot makes: `answerCallbackQuery` (kept in `callback_answers`), `editMessageText` and
`editMessageReplyMarkup` (kept in `messages` with the edited message's id), `deleteWebhook`, `setMyCommands`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from creneau.notify.fakes.server import Inbox

if TYPE_CHECKING:
    from creneau.notify.fakes.telegram import FakeTelegram, SentMessage

Handler = Callable[[str, dict[str, str]], Awaitable[web.Response]]
FIRST_USER_MESSAGE_ID = 1_000_000  # people's message ids, kept apart from the bot's (1, 2, …)


class UpdateQueue:
    def __init__(self, fake: FakeTelegram) -> None:
        self._fake = fake
        self._updates: list[dict[str, Any]] = []
        self._next_update = 1
        self._next_message = FIRST_USER_MESSAGE_ID
        self._arrived = asyncio.Condition()
        self._released = False
        self.callback_answers: Inbox[dict[str, str]] = Inbox()
        self.commands: list[dict[str, str]] = []
        self.polls = 0
        self.confirmed = 0  # the bot handled every update up to this id (it asked for a later offset)

    def handlers(self) -> dict[str, Handler]:
        return {
            "getupdates": self._get_updates,
            "answercallbackquery": self._answer_callback,
            "editmessagetext": self._edit,
            "editmessagereplymarkup": self._edit,
            "deletewebhook": self._true,
            "setmycommands": self._set_commands,
        }

    # --- the person's side -------------------------------------------------------------------------
    async def send_text(
        self, chat_id: int, text: str, *, language: str | None = "fr", reply_to: SentMessage | None = None
    ) -> int:
        """A person types `text` in their private chat; returns the update id."""
        message: dict[str, Any] = {
            "message_id": self._message_id(), "date": int(time.time()), "chat": _chat(chat_id),
            "from": _user(chat_id, language), "text": text,
        }  # fmt: skip
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        if reply_to is not None:
            message["reply_to_message"] = self._bot_message(reply_to)
        return await self.push({"message": message})

    async def reply(self, to: SentMessage, text: str, *, language: str | None = "fr") -> int:
        return await self.send_text(int(to.chat_id), text, language=language, reply_to=to)

    async def press(self, message: SentMessage, button: str, *, user_id: int | None = None) -> int:
        """A person presses the inline button whose text contains `button` under the latest version of
        `message`; raises LookupError when no such button is there."""
        latest = self.latest(message)
        rows = (latest.reply_markup or {}).get("inline_keyboard", [])
        found = [b for row in rows for b in row if button in b.get("text", "")]
        if not found:
            raise LookupError(f"no button {button!r} under message {message.message_id}: {rows}")
        return await self.press_data(latest, found[0]["callback_data"], user_id=user_id)

    async def press_data(self, message: SentMessage, data: str, *, user_id: int | None = None) -> int:
        """A callback query with any `data` (what a modified client could send)."""
        who = int(message.chat_id) if user_id is None else user_id
        query = {"id": f"cb{self._next_update}", "from": _user(who, "fr"), "chat_instance": f"ci{message.chat_id}",
                 "data": data, "message": self._bot_message(self.latest(message))}  # fmt: skip
        return await self.push({"callback_query": query})

    async def push(self, update: dict[str, Any]) -> int:
        update_id = self._next_update
        self._next_update += 1
        self._updates.append({"update_id": update_id, **update})
        async with self._arrived:
            self._arrived.notify_all()
        return update_id

    def latest(self, message: SentMessage) -> SentMessage:
        """The last version of a bot message (after edits)."""
        versions = [
            m for m in self._fake.messages if m.message_id == message.message_id and m.chat_id == message.chat_id
        ]
        return versions[-1] if versions else message

    async def handled(self, update_id: int, timeout_s: float = 10.0) -> None:
        """Wait until the bot confirmed `update_id`: a bot that handles updates in order has then finished
        with it (and sent whatever it answers)."""
        async with asyncio.timeout(timeout_s), self._arrived:
            await self._arrived.wait_for(lambda: self.confirmed >= update_id)

    @property
    def waiting(self) -> int:
        """Updates not yet confirmed by the bot."""
        return len(self._updates)

    async def release(self) -> None:
        """Let every pending long poll return now (the server is closing)."""
        self._released = True
        async with self._arrived:
            self._arrived.notify_all()

    # --- the bot's side ----------------------------------------------------------------------------
    async def _get_updates(self, method: str, params: dict[str, str]) -> web.Response:
        self.polls += 1
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = max(0.0, float(params.get("timeout") or 0))
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            if offset - 1 > self.confirmed:
                self.confirmed = offset - 1
                async with self._arrived:
                    self._arrived.notify_all()
        if not self._updates and timeout and not self._released:
            async with self._arrived:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._arrived.wait_for(self._has_news), timeout)
        return _ok(self._updates[:limit])

    def _has_news(self) -> bool:
        return bool(self._updates) or self._released

    async def _answer_callback(self, method: str, params: dict[str, str]) -> web.Response:
        await self.callback_answers.put(params)
        return _ok(True)

    async def _edit(self, method: str, params: dict[str, str]) -> web.Response:
        from creneau.notify.fakes.telegram import SentMessage, parse_html

        chat = self._fake._resolve(params.get("chat_id", ""))
        message_id = int(params.get("message_id") or 0)
        original = next((m for m in self._fake.messages if m.message_id == message_id and m.chat_id == chat), None)
        if chat is None or original is None:
            return _error(400, "Bad Request: message to edit not found")
        text = params.get("text", original.text) if method.lower() == "editmessagetext" else original.text
        parse_mode = params.get("parse_mode") or original.parse_mode
        plain, problem = parse_html(text) if (parse_mode or "").lower() == "html" else (text, "")
        if problem:
            return _error(400, f"Bad Request: can't parse entities: {problem}")
        markup = json.loads(params["reply_markup"]) if params.get("reply_markup") else None
        edited = SentMessage(message_id, method, chat, text, plain, parse_mode, markup, params)
        await self._fake.messages.put(edited)
        return _ok(self._bot_message(edited))

    async def _set_commands(self, method: str, params: dict[str, str]) -> web.Response:
        self.commands.append(params)
        return _ok(True)

    async def _true(self, method: str, params: dict[str, str]) -> web.Response:
        return _ok(True)

    # --- helpers -----------------------------------------------------------------------------------
    def _message_id(self) -> int:
        self._next_message += 1
        return self._next_message

    def _bot_message(self, sent: SentMessage) -> dict[str, Any]:
        body = self._fake._message_json(sent, sent.method.lower() == "sendphoto")
        if sent.reply_markup is not None and "inline_keyboard" in sent.reply_markup:  # Telegram shows no other
            body["reply_markup"] = sent.reply_markup
        return body


def _chat(chat_id: int) -> dict[str, Any]:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "Camille"}
    return {"id": chat_id, "type": "group", "title": "creneau group"}


def _user(user_id: int, language: str | None) -> dict[str, Any]:
    user: dict[str, Any] = {"id": abs(user_id), "is_bot": False, "first_name": "Camille"}
    if language:
        user["language_code"] = language
    return user


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(code: int, description: str) -> web.Response:
    return web.json_response({"ok": False, "error_code": code, "description": description}, status=code)
