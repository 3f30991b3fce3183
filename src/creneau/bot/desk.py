# SPDX-License-Identifier: AGPL-3.0-or-later
"""A captcha desk kept in the store's `captcha_challenges` table, shared by every process and machine.

It implements `creneau.sources.captcha.CaptchaDesk`, so the monitor's adapters file challenges here and the
Telegram bot (and the web desk) answer them, wherever each runs. `FileCaptchaDesk` only works on one
machine; `open_desk` picks one of the two from `CRENEAU_CAPTCHA_DESK`.

Mapping onto the table: a challenge's desk id is its row id (decimal); what the adapter needs to resume its
walk (cookies, form, captcha id) lives in the `session` JSON. The table's four statuses are coarser than
the desk's: `used` holds submitted / accepted / rejected / unconfirmed and `expired` holds expired /
superseded, the exact one being kept in `session["state"]`. Closed challenges lose their image and are
deleted after `KEEP`; answers are counted (never named: `answered_by` is always "desk").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from creneau.config import Settings
from creneau.sources.captcha import (
    CaptchaChallenge,
    CaptchaDesk,
    CaptchaDeskError,
    ChallengeStatus,
    FileCaptchaDesk,
    StoredCookie,
)
from creneau.store import CAPTCHA, Store
from creneau.store import models as m

cc = m.captcha_challenges
KEEP = timedelta(days=30)  # closed challenges are kept this long, for "answers that kept a target alive"
ANSWERED_BY = "desk"

_COLUMN = {
    ChallengeStatus.PENDING: "open",
    ChallengeStatus.ANSWERED: "answered",
    ChallengeStatus.SUBMITTED: "used",
    ChallengeStatus.ACCEPTED: "used",
    ChallengeStatus.REJECTED: "used",
    ChallengeStatus.UNCONFIRMED: "used",
    ChallengeStatus.EXPIRED: "expired",
    ChallengeStatus.SUPERSEDED: "expired",
}
_DEFAULT = {"open": ChallengeStatus.PENDING, "answered": ChallengeStatus.ANSWERED,
            "used": ChallengeStatus.SUBMITTED, "expired": ChallengeStatus.EXPIRED}  # fmt: skip


def _status(row: Any) -> ChallengeStatus:
    """The exact state when `session` holds one that agrees with the column, else the column's default."""
    try:
        state = ChallengeStatus(str((row.session or {}).get("state")))
    except ValueError:
        return _DEFAULT[row.status]
    return state if _COLUMN[state] == row.status else _DEFAULT[row.status]


def _closed_at(session: Mapping[str, Any]) -> datetime | None:
    raw = session.get("closed_at")
    return datetime.fromisoformat(raw) if isinstance(raw, str) else None


def _challenge(row: Any) -> CaptchaChallenge:
    session: Mapping[str, Any] = row.session or {}
    form = session.get("form")
    return CaptchaChallenge(
        id=str(row.id),
        target_id=row.target_id,
        url=str(session.get("url", "")),
        captcha_id=str(session.get("captcha_id", "")),
        style=str(session.get("style", "")),
        image=row.image or b"",
        created_at=row.created_at,
        expires_at=row.expires_at,
        cookies=tuple(StoredCookie(**c) for c in session.get("cookies", ())),
        post_url=str(session.get("post_url", "")),
        form={str(k): str(v) for k, v in form.items()} if isinstance(form, dict) else {},
        status=_status(row),
        answer=row.answer or "",
        answered_at=row.answered_at,
        closed_at=_closed_at(session),
    )


def _session(challenge: CaptchaChallenge) -> dict[str, Any]:
    return {
        "ref": challenge.id,
        "url": challenge.url,
        "captcha_id": challenge.captcha_id,
        "style": challenge.style,
        "cookies": [c.to_json() for c in challenge.cookies],
        "post_url": challenge.post_url,
        "form": dict(challenge.form),
    }


def _row_id(challenge_id: str) -> int | None:
    return int(challenge_id) if challenge_id.isdigit() and len(challenge_id) < 18 else None


class StoreCaptchaDesk:
    """`CaptchaDesk` on the store. Every change is one transaction; filing and answering wake `CAPTCHA`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def file(self, challenge: CaptchaChallenge) -> None:
        now = challenge.created_at
        async with self.store.write() as tx:
            older = await tx.conn.execute(
                select(cc.c.id, cc.c.session).where(
                    cc.c.target_id == challenge.target_id, cc.c.status.in_(("open", "answered"))
                )
            )
            for row in older.all():
                await _close(tx.conn, row.id, row.session, ChallengeStatus.SUPERSEDED, now)
            await tx.conn.execute(delete(cc).where(cc.c.created_at < now - KEEP))
            await tx.conn.execute(
                cc.insert().values(
                    target_id=challenge.target_id, status="open", prompt="", image=challenge.image,
                    image_type="image/png", session=_session(challenge), created_at=now,
                    expires_at=challenge.expires_at,
                )
            )  # fmt: skip
            await tx.wake(CAPTCHA)

    async def get(self, challenge_id: str) -> CaptchaChallenge | None:
        row_id = _row_id(challenge_id)
        if row_id is None:
            return None
        async with self.store.read() as conn:
            row = (await conn.execute(select(cc).where(cc.c.id == row_id))).first()
        return _challenge(row) if row is not None else None

    async def pending(self, now: datetime, target_id: str | None = None) -> list[CaptchaChallenge]:
        stmt = select(cc).where(cc.c.status == "open", cc.c.expires_at > now).order_by(cc.c.created_at, cc.c.id)
        if target_id is not None:
            stmt = stmt.where(cc.c.target_id == target_id)
        async with self.store.read() as conn:
            return [_challenge(row) for row in await conn.execute(stmt)]

    async def answer(self, challenge_id: str, code: str, now: datetime) -> CaptchaChallenge:
        code = code.strip()
        if not code:
            raise CaptchaDeskError("empty answer")
        row_id = _row_id(challenge_id)
        if row_id is not None:
            async with self.store.write() as tx:
                result = await tx.conn.execute(
                    update(cc)
                    .where(cc.c.id == row_id, cc.c.status == "open", cc.c.expires_at > now)
                    .values(status="answered", answer=code, answered_by=ANSWERED_BY, answered_at=now)
                    .returning(*cc.c)
                )
                row = result.first()
                if row is not None:
                    await tx.wake(CAPTCHA)
                    return _challenge(row)
        found = await self.get(challenge_id)
        if found is None:
            raise CaptchaDeskError(f"no captcha challenge with id {challenge_id!r}")
        if found.status is not ChallengeStatus.PENDING:
            raise CaptchaDeskError(f"captcha challenge {challenge_id} is {found.status.value}, not pending")
        raise CaptchaDeskError(
            f"captcha challenge {challenge_id} expired at {found.expires_at:%H:%M:%S %Z}; the next check files a new one"
        )

    async def take_answer(self, target_id: str, now: datetime) -> CaptchaChallenge | None:
        async with self.store.write() as tx:
            rows = await tx.conn.execute(
                select(cc)
                .where(cc.c.target_id == target_id, cc.c.status == "answered")
                .order_by(cc.c.created_at.desc(), cc.c.id.desc())
            )
            for row in rows.all():
                if row.expires_at <= now:
                    await _close(tx.conn, row.id, row.session, ChallengeStatus.EXPIRED, now)
                    continue
                await _set_state(tx.conn, row.id, row.session, ChallengeStatus.SUBMITTED)
                return replace(_challenge(row), status=ChallengeStatus.SUBMITTED)
        return None

    async def resolve(self, challenge_id: str, status: ChallengeStatus, now: datetime) -> None:
        row_id = _row_id(challenge_id)
        if row_id is None:
            return
        async with self.store.write() as tx:
            session = (await tx.conn.execute(select(cc.c.session).where(cc.c.id == row_id))).scalar()
            if session is not None:
                await _close(tx.conn, row_id, session, status, now)

    async def answer_count(self, target_id: str, *, since: datetime) -> int:
        """How many answers people gave for this target's challenges since `since` (never who)."""
        stmt = select(func.count()).where(cc.c.target_id == target_id, cc.c.answered_at >= since)
        async with self.store.read() as conn:
            return int((await conn.execute(stmt)).scalar_one())


async def _set_state(conn: AsyncConnection, row_id: int, session: Mapping[str, Any] | None, state: ChallengeStatus,
                     **values: Any) -> None:  # fmt: skip
    data = {**(session or {}), "state": state.value}
    await conn.execute(update(cc).where(cc.c.id == row_id).values(status=_COLUMN[state], session=data, **values))


async def _close(
    conn: AsyncConnection, row_id: int, session: Mapping[str, Any] | None, state: ChallengeStatus, now: datetime
) -> None:
    """A challenge is over: keep the verdict, drop the image (nobody needs it any more)."""
    data = {**(session or {}), "closed_at": now.isoformat()}
    await _set_state(conn, row_id, data, state, image=None)


def open_desk(settings: Settings, store: Store | None) -> CaptchaDesk:
    """The desk `CRENEAU_CAPTCHA_DESK` names: files in DATA_DIR/captcha, or the store (several machines)."""
    if settings.captcha_desk == "store":
        if store is None:
            raise ValueError("the store captcha desk needs an open store")
        return StoreCaptchaDesk(store)
    return FileCaptchaDesk(settings.data_dir / "captcha")
