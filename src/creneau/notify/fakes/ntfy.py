# SPDX-License-Identifier: AGPL-3.0-or-later
"""An ntfy sink speaking the ntfy publish protocol.

- `POST`/`PUT /{topic}`: the body is the message; `Title`, `Priority`, `Tags`, `Click`, `Actions`,
  `Markdown` come from headers (also their `X-` and short forms, and query parameters); RFC 2047 encoded
  headers are decoded.
- `POST`/`PUT /` with a JSON body `{"topic": …, "message": …, "title": …, "tags": […], …}`.
- `GET /{topic}/json?poll=1`: the topic's messages as JSON lines (ntfy's subscribe API, poll mode).

Answers like ntfy, errors included (`{"code":40301,"http":403,"error":"forbidden"}`). `protected` maps a
topic to the access token it requires; `errors[topic]` forces an answer; other paths get ntfy's 404.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from typing import Any

from aiohttp import web

from creneau.notify.fakes.server import AppServer, Inbox

_TOPIC = re.compile(r"^[-_A-Za-z0-9]{1,64}$")
MESSAGE_LIMIT = 4096
FIELDS = {
    "title": ("x-title", "title", "t"),
    "priority": ("x-priority", "priority", "prio", "p"),
    "tags": ("x-tags", "tags", "tag", "ta"),
    "click": ("x-click", "click"),
    "actions": ("x-actions", "actions", "action"),
    "markdown": ("x-markdown", "markdown", "md"),
}
PRIORITIES = {"min": 1, "low": 2, "default": 3, "high": 4, "max": 5, "urgent": 5}


@dataclass(frozen=True, slots=True)
class Published:
    id: str
    topic: str
    message: str
    title: str | None
    priority: int
    tags: tuple[str, ...]
    click: str | None
    actions: tuple[dict[str, Any], ...]
    markdown: bool
    authorization: str | None = field(default=None, repr=False)

    def json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "time": int(time.time()), "expires": int(time.time()) + 43200,
                                "event": "message", "topic": self.topic, "message": self.message}  # fmt: skip
        optional = {"title": self.title, "tags": list(self.tags) or None, "click": self.click,
                    "actions": list(self.actions) or None}  # fmt: skip
        body.update({k: v for k, v in optional.items() if v})
        if self.priority != 3:
            body["priority"] = self.priority
        if self.markdown:
            body["content_type"] = "text/markdown"
        return body


class NtfySink(AppServer):
    def __init__(self) -> None:
        app = web.Application()
        app.router.add_route("GET", "/{topic}/json", self._poll)
        app.router.add_route("*", "/{topic}", self._publish_topic)
        app.router.add_route("*", "/", self._publish_json)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        super().__init__(app)
        self.messages: Inbox[Published] = Inbox()
        self.protected: dict[str, str] = {}
        self.errors: dict[str, tuple[int, int, str]] = {}

    def on(self, topic: str) -> list[Published]:
        return [m for m in self.messages if m.topic == topic]

    async def _publish_topic(self, request: web.Request) -> web.Response:
        if request.method not in ("POST", "PUT"):
            return await self._not_found(request)
        options: dict[str, Any] = {}
        for name, aliases in FIELDS.items():
            for alias in aliases:
                if value := request.headers.get(alias) or request.query.get(alias):
                    options[name] = _decode(value)
                    break
        if "tags" in options:
            options["tags"] = [t.strip() for t in options["tags"].split(",") if t.strip()]
        if "actions" in options:
            options["actions"] = _actions(options["actions"])
        text = (await request.read()).decode("utf-8", errors="replace")
        return await self._accept(request, request.match_info["topic"], text, options)

    async def _publish_json(self, request: web.Request) -> web.Response:
        if request.method not in ("POST", "PUT"):
            return await self._not_found(request)
        try:
            data = json.loads(await request.read())
        except ValueError:
            return _error(400, 40017, "invalid request: request body must be message JSON")
        if not isinstance(data, dict) or not isinstance(data.get("topic"), str):
            return _error(400, 40017, "invalid request: request body must be message JSON")
        return await self._accept(request, data["topic"], str(data.get("message", "")), data)

    async def _accept(self, request: web.Request, topic: str, text: str, options: dict[str, Any]) -> web.Response:
        if not _TOPIC.match(topic):
            return _error(400, 40009, "invalid request: topic invalid")
        if topic in self.errors:
            return _error(*self.errors[topic])
        auth = request.headers.get("Authorization")
        if topic in self.protected:
            if auth is None:
                return _error(403, 40301, "forbidden")
            if auth != f"Bearer {self.protected[topic]}":
                return _error(401, 40101, "unauthorized")
        if len(text.encode()) > MESSAGE_LIMIT:
            return _error(413, 41301, "limit reached: message too large")
        priority = options.get("priority", 3)
        priority = PRIORITIES.get(str(priority).lower(), priority)
        try:
            priority = int(priority)
        except ValueError:
            return _error(400, 40007, "invalid request: priority invalid")
        markdown = str(options.get("markdown", "")).lower() in ("true", "yes", "1")
        published = Published(
            id=secrets.token_urlsafe(9)[:12], topic=topic, message=text or "triggered", title=options.get("title"),
            priority=priority, tags=tuple(options.get("tags") or ()), click=options.get("click"),
            actions=tuple(options.get("actions") or ()), markdown=markdown, authorization=auth,
        )  # fmt: skip
        await self.messages.put(published)
        return web.json_response(published.json())

    async def _not_found(self, request: web.Request) -> web.Response:
        return _error(404, 40401, "page not found")

    async def _poll(self, request: web.Request) -> web.Response:
        lines = [json.dumps(m.json()) for m in self.on(request.match_info["topic"])]
        return web.Response(text="".join(line + "\n" for line in lines), content_type="application/x-ndjson")


def _decode(value: str) -> str:
    return str(make_header(decode_header(value))) if "=?" in value else value


def _actions(value: Any) -> list[dict[str, Any]]:
    """ntfy actions: a JSON array, or the short form `view, Label, https://…, clear=true; …`."""
    if isinstance(value, list):
        return value
    if value.lstrip().startswith("["):
        parsed: list[dict[str, Any]] = json.loads(value)
        return parsed
    actions = []
    for part in value.split(";"):
        items = [i.strip() for i in part.split(",")]
        if len(items) >= 3:
            action: dict[str, Any] = {"action": items[0], "label": items[1], "url": items[2]}
            action.update(dict(i.split("=", 1) for i in items[3:] if "=" in i))
            actions.append(action)
    return actions


def _error(status: int, code: int, error: str) -> web.Response:
    return web.json_response({"code": code, "http": status, "error": error}, status=status)
