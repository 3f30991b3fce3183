# SPDX-License-Identifier: AGPL-3.0-or-later
"""`creneau captcha list` / `creneau captcha solve ID`: the command-line captcha desk.

The monitor (or `creneau check`) files captchas in `{data_dir}/captcha`; a person lists them, looks at the
image and types the code. The next check of that target submits it. Nothing here reads the image.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from creneau.cli import fail
from creneau.config import load_settings
from creneau.sources.captcha import CaptchaChallenge, CaptchaDeskError, ChallengeStatus, FileCaptchaDesk


def register(app: typer.Typer) -> None:
    """Add `creneau captcha …` to the main app."""
    captcha = typer.Typer(help="Captchas waiting for a person (the CLI captcha desk).", no_args_is_help=True)
    captcha.command("list")(list_pending)
    captcha.command("solve")(solve)
    app.add_typer(captcha, name="captcha")


def desk_for_settings() -> FileCaptchaDesk:
    """The desk the monitor and `creneau check` file into: `{data_dir}/captcha`."""
    return FileCaptchaDesk(load_settings().data_dir / "captcha")


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s"


def list_pending(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a table.")] = False,
) -> None:
    """List the captchas waiting for a person: id, target, age, time left."""
    now = datetime.now(UTC)
    pending = asyncio.run(desk_for_settings().pending(now))
    rows = [
        {
            "id": c.id,
            "target": c.target_id,
            "url": c.url,
            "created_at": c.created_at.isoformat(),
            "expires_at": c.expires_at.isoformat(),
            "age_s": round((now - c.created_at).total_seconds()),
            "expires_in_s": round((c.expires_at - now).total_seconds()),
        }
        for c in pending
    ]
    if as_json:
        typer.echo(json.dumps({"pending": rows}, ensure_ascii=False))
        return
    if not rows:
        typer.echo("no captcha waits for a person")
        return
    for row in rows:
        age, left = _duration(float(row["age_s"])), _duration(float(row["expires_in_s"]))  # type: ignore[arg-type]
        typer.echo(f"{row['id']}  {row['target']}  filed {age} ago, expires in {left}  {row['url']}")


def solve(
    challenge_id: Annotated[str, typer.Argument(help="Id shown by `creneau captcha list`.")],
    answer: Annotated[
        str | None, typer.Option("--answer", help="The code in the image (read from stdin when absent).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Where to save the image (default: the desk's copy).")
    ] = None,
) -> None:
    """Show one captcha's image (saved as a PNG file) and record the code a person reads in it."""
    desk = desk_for_settings()
    challenge = asyncio.run(desk.get(challenge_id))
    _check_answerable(challenge, challenge_id)
    assert challenge is not None
    path = desk.image_path(challenge.id)
    if out is not None:
        try:
            out.write_bytes(challenge.image)
        except OSError as exc:
            raise fail(f"cannot write {out}: {exc.strerror or exc}") from None
        path = out
    typer.echo(f"captcha {challenge.id} for {challenge.target_id} ({challenge.url})")
    typer.echo(f"image: {path}")
    _show_inline(challenge.image)
    code = answer if answer is not None else typer.prompt("code shown in the image")
    try:
        asyncio.run(desk.answer(challenge.id, code, datetime.now(UTC)))
    except CaptchaDeskError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"answer recorded: the next check of {challenge.target_id} submits it")


def _check_answerable(challenge: CaptchaChallenge | None, challenge_id: str) -> None:
    if challenge is None:
        raise fail(f"no captcha challenge with id {challenge_id!r} (see `creneau captcha list`)")
    if challenge.status is not ChallengeStatus.PENDING:
        raise fail(f"captcha challenge {challenge.id} is {challenge.status.value}, not waiting for an answer")
    if challenge.expired(datetime.now(UTC)):
        raise fail(
            f"captcha challenge {challenge.id} has expired; the next check of {challenge.target_id} files a new one"
        )


def _show_inline(image: bytes) -> None:
    """Draw the image in terminals that can (iTerm2/WezTerm, kitty); elsewhere the path printed is enough."""
    if not sys.stdout.isatty():
        return
    data = base64.b64encode(image).decode("ascii")
    if os.environ.get("TERM_PROGRAM") in ("iTerm.app", "WezTerm"):
        sys.stdout.write(f"\033]1337;File=inline=1;size={len(image)}:{data}\a\n")
    elif os.environ.get("TERM") == "xterm-kitty":
        chunks = [data[i : i + 4096] for i in range(0, len(data), 4096)]
        for i, chunk in enumerate(chunks):
            head = "f=100,a=T," if i == 0 else ""
            sys.stdout.write(f"\033_G{head}m={int(i < len(chunks) - 1)};{chunk}\033\\")
        sys.stdout.write("\n")
    sys.stdout.flush()
