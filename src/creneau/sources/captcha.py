# SPDX-License-Identifier: AGPL-3.0-or-later
"""The captcha desk: where an adapter files a captcha for a human, and finds the human's answer.

creneau never solves a captcha. When a site needs one, the adapter files a `CaptchaChallenge` (the image,
the target, and the site cookies of the walk it belongs to, since an answer is only valid in that walk)
and reports `human_check_required`. A person answers through a desk (`creneau captcha solve`, later the
web page or the Telegram bot); the next check of that target takes the answer once, submits it with the
challenge's cookies, and reports back whether the site accepted it.

`CaptchaDesk` is the contract every desk implements; `FileCaptchaDesk` keeps one JSON + one PNG file per
challenge so the monitor and a `creneau captcha solve` in another process share it.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Protocol

import aiohttp
from yarl import URL

from creneau.sources.http import new_cookie_jar

KEEP_CLOSED = timedelta(days=1)  # closed challenges stay this long for `captcha list --all` and debugging


class ChallengeStatus(StrEnum):
    PENDING = "pending"  # waiting for a person
    ANSWERED = "answered"  # a person answered; the next check submits it
    SUBMITTED = "submitted"  # taken by a check, result not known yet
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    UNCONFIRMED = "unconfirmed"  # submitted, but the site answered neither way (error page)
    EXPIRED = "expired"  # answered too late to be worth submitting
    SUPERSEDED = "superseded"  # a newer challenge was filed for the same target


class CaptchaDeskError(Exception):
    """A desk request a person can fix (unknown id, expired challenge, already answered)."""


@dataclass(frozen=True, slots=True)
class StoredCookie:
    """One site cookie, kept so a walk can resume in another check or process. The value is a secret."""

    name: str
    value: str = field(repr=False)
    domain: str
    path: str = "/"
    secure: bool = False
    httponly: bool = False

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "value": self.value,
            "domain": self.domain,
            "path": self.path,
            "secure": self.secure,
            "httponly": self.httponly,
        }


def cookies_from_jar(jar: aiohttp.CookieJar) -> tuple[StoredCookie, ...]:
    return tuple(
        StoredCookie(m.key, m.value, m["domain"], m["path"] or "/", bool(m["secure"]), bool(m["httponly"]))
        for m in jar
        if m["domain"]
    )


def jar_from_cookies(cookies: tuple[StoredCookie, ...]) -> aiohttp.CookieJar:
    """A new jar holding these cookies (as session cookies: the site decides when they stop working)."""
    jar = new_cookie_jar()
    for c in cookies:
        morsel: SimpleCookie = SimpleCookie()
        morsel[c.name] = c.value
        morsel[c.name]["domain"] = c.domain
        morsel[c.name]["path"] = c.path
        morsel[c.name]["secure"] = c.secure
        morsel[c.name]["httponly"] = c.httponly
        jar.update_cookies(morsel, URL.build(scheme="https", host=c.domain, path="/"))
    return jar


@dataclass(frozen=True, slots=True)
class CaptchaChallenge:
    """One captcha waiting for (or answered by) a person. `url` is the démarche's official page.

    `post_url` and `form` are what the adapter posts back with the answer (hidden inputs of the walk).
    """

    id: str
    target_id: str
    url: str
    captcha_id: str
    style: str
    image: bytes = field(repr=False)
    created_at: datetime
    expires_at: datetime
    cookies: tuple[StoredCookie, ...] = field(default=(), repr=False)
    post_url: str = ""
    form: Mapping[str, str] = field(default_factory=dict, repr=False)
    status: ChallengeStatus = ChallengeStatus.PENDING
    answer: str = field(default="", repr=False)
    answered_at: datetime | None = None
    closed_at: datetime | None = None

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def to_json(self) -> dict[str, object]:
        """Everything but the image (kept beside it as PNG)."""
        return {
            "id": self.id,
            "target_id": self.target_id,
            "url": self.url,
            "captcha_id": self.captcha_id,
            "style": self.style,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "cookies": [c.to_json() for c in self.cookies],
            "post_url": self.post_url,
            "form": dict(self.form),
            "status": self.status.value,
            "answer": self.answer,
            "answered_at": self.answered_at.isoformat() if self.answered_at else None,
            "closed_at": self.closed_at.isoformat() if self.closed_at else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object], image: bytes) -> CaptchaChallenge:
        def when(key: str) -> datetime | None:
            raw = data.get(key)
            return datetime.fromisoformat(raw) if isinstance(raw, str) else None

        cookies = data.get("cookies")
        form = data.get("form")
        created, expires = when("created_at"), when("expires_at")
        if created is None or expires is None:
            raise ValueError("challenge without its dates")
        return cls(
            id=str(data["id"]),
            target_id=str(data["target_id"]),
            url=str(data["url"]),
            captcha_id=str(data["captcha_id"]),
            style=str(data["style"]),
            image=image,
            created_at=created,
            expires_at=expires,
            cookies=tuple(StoredCookie(**c) for c in cookies) if isinstance(cookies, list) else (),
            post_url=str(data.get("post_url") or ""),
            form={str(k): str(v) for k, v in form.items()} if isinstance(form, dict) else {},
            status=ChallengeStatus(str(data.get("status") or "pending")),
            answer=str(data.get("answer") or ""),
            answered_at=when("answered_at"),
            closed_at=when("closed_at"),
        )


def write_private(path: Path, data: bytes) -> None:
    """Write a file atomically, readable by its owner only (it may hold site cookies)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def new_challenge_id() -> str:
    return secrets.token_hex(4)


class CaptchaDesk(Protocol):
    """What an adapter and the answering front ends (CLI, web, Telegram) need from a desk."""

    async def file(self, challenge: CaptchaChallenge) -> None:
        """Keep a new challenge; older open challenges of the same target become superseded."""

    async def get(self, challenge_id: str) -> CaptchaChallenge | None: ...

    async def pending(self, now: datetime, target_id: str | None = None) -> list[CaptchaChallenge]:
        """Challenges waiting for a person (unanswered, unexpired), oldest first."""

    async def answer(self, challenge_id: str, code: str, now: datetime) -> CaptchaChallenge:
        """Record a person's answer. Raises CaptchaDeskError: unknown id, expired, no longer pending."""

    async def take_answer(self, target_id: str, now: datetime) -> CaptchaChallenge | None:
        """The target's answered challenge, marked submitted so it is used once; None when there is none.

        An answer that arrives after the challenge expired is marked expired and not returned.
        """

    async def resolve(self, challenge_id: str, status: ChallengeStatus, now: datetime) -> None:
        """Record what the site said about a submitted answer (accepted, rejected, unconfirmed)."""


class FileCaptchaDesk:
    """A desk kept in a folder: `{id}.json` + `{id}.png` per challenge, written atomically (0600).

    Several processes share it (the monitor files, `creneau captcha solve` answers): every change is a
    read-modify-write under an exclusive `flock` on `.lock`. Methods are async for the protocol; the file
    work runs in a thread.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    # --- protocol ----------------------------------------------------------------------------
    async def file(self, challenge: CaptchaChallenge) -> None:
        await asyncio.to_thread(self._file, challenge)

    async def get(self, challenge_id: str) -> CaptchaChallenge | None:
        return await asyncio.to_thread(self._get, challenge_id)

    async def pending(self, now: datetime, target_id: str | None = None) -> list[CaptchaChallenge]:
        return await asyncio.to_thread(self._pending, now, target_id)

    async def answer(self, challenge_id: str, code: str, now: datetime) -> CaptchaChallenge:
        return await asyncio.to_thread(self._answer, challenge_id, code, now)

    async def take_answer(self, target_id: str, now: datetime) -> CaptchaChallenge | None:
        return await asyncio.to_thread(self._take_answer, target_id, now)

    async def resolve(self, challenge_id: str, status: ChallengeStatus, now: datetime) -> None:
        await asyncio.to_thread(self._resolve, challenge_id, status, now)

    def image_path(self, challenge_id: str) -> Path:
        return self.folder / f"{_safe_id(challenge_id)}.png"

    # --- files -------------------------------------------------------------------------------
    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.folder / ".lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _save(self, challenge: CaptchaChallenge, *, image: bool = False) -> None:
        if image:
            write_private(self.image_path(challenge.id), challenge.image)
        data = json.dumps(challenge.to_json(), ensure_ascii=False, indent=1).encode()
        write_private(self.folder / f"{_safe_id(challenge.id)}.json", data)

    def _load(self, path: Path) -> CaptchaChallenge | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            image_file = path.with_suffix(".png")
            image = image_file.read_bytes() if image_file.exists() else b""
            return CaptchaChallenge.from_json(data, image)
        except (OSError, ValueError, KeyError, TypeError):
            return None  # a half-removed or foreign file: not a challenge

    def _all(self) -> list[CaptchaChallenge]:
        if not self.folder.is_dir():
            return []
        found = [c for p in sorted(self.folder.glob("*.json")) if (c := self._load(p)) is not None]
        return sorted(found, key=lambda c: c.created_at)

    def _get(self, challenge_id: str) -> CaptchaChallenge | None:
        try:
            path = self.folder / f"{_safe_id(challenge_id)}.json"
        except CaptchaDeskError:
            return None
        return self._load(path) if path.exists() else None

    # --- operations --------------------------------------------------------------------------
    def _file(self, challenge: CaptchaChallenge) -> None:
        with self._locked():
            for old in self._all():
                if old.target_id == challenge.target_id and old.status in _OPEN:
                    self._save(replace(old, status=ChallengeStatus.SUPERSEDED, closed_at=challenge.created_at))
                elif old.closed_at is not None and old.closed_at < challenge.created_at - KEEP_CLOSED:
                    for suffix in (".json", ".png"):
                        (self.folder / f"{_safe_id(old.id)}{suffix}").unlink(missing_ok=True)
            self._save(challenge, image=True)

    def _pending(self, now: datetime, target_id: str | None) -> list[CaptchaChallenge]:
        return [
            c
            for c in self._all()
            if c.status is ChallengeStatus.PENDING
            and not c.expired(now)
            and (target_id is None or c.target_id == target_id)
        ]

    def _answer(self, challenge_id: str, code: str, now: datetime) -> CaptchaChallenge:
        code = code.strip()
        if not code:
            raise CaptchaDeskError("empty answer")
        with self._locked():
            challenge = self._get(challenge_id)
            if challenge is None:
                raise CaptchaDeskError(f"no captcha challenge with id {challenge_id!r}")
            if challenge.status is not ChallengeStatus.PENDING:
                raise CaptchaDeskError(f"captcha challenge {challenge_id} is {challenge.status.value}, not pending")
            if challenge.expired(now):
                raise CaptchaDeskError(
                    f"captcha challenge {challenge_id} expired at {challenge.expires_at:%H:%M:%S %Z}; "
                    "the next check files a new one"
                )
            answered = replace(challenge, status=ChallengeStatus.ANSWERED, answer=code, answered_at=now)
            self._save(answered)
            return answered

    def _take_answer(self, target_id: str, now: datetime) -> CaptchaChallenge | None:
        with self._locked():
            for challenge in reversed(self._all()):
                if challenge.target_id != target_id or challenge.status is not ChallengeStatus.ANSWERED:
                    continue
                if challenge.expired(now):
                    self._save(replace(challenge, status=ChallengeStatus.EXPIRED, closed_at=now))
                    continue
                taken = replace(challenge, status=ChallengeStatus.SUBMITTED)
                self._save(taken)
                return taken
        return None

    def _resolve(self, challenge_id: str, status: ChallengeStatus, now: datetime) -> None:
        with self._locked():
            challenge = self._get(challenge_id)
            if challenge is not None:
                self._save(replace(challenge, status=status, closed_at=now))


_OPEN = (ChallengeStatus.PENDING, ChallengeStatus.ANSWERED)


def _safe_id(challenge_id: str) -> str:
    """Challenge ids name files: anything but hex digits is refused (no path tricks from the CLI)."""
    if not challenge_id or not all(ch in "0123456789abcdef" for ch in challenge_id.lower()):
        raise CaptchaDeskError(f"no captcha challenge with id {challenge_id!r}")
    return challenge_id.lower()
