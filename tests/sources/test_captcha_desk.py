# SPDX-License-Identifier: AGPL-3.0-or-later
"""The file-backed captcha desk and its CLI: filing, listing, answering, taking an answer once."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from creneau.cli import CliError, build_app
from creneau.sources.captcha import (
    CaptchaChallenge,
    CaptchaDeskError,
    ChallengeStatus,
    FileCaptchaDesk,
    StoredCookie,
    cookies_from_jar,
    jar_from_cookies,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
URL = "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/3762/"
COOKIE = StoredCookie("JSESSIONID", "VM-01~secret.VM", "www.rdv-prefecture.interieur.gouv.fr", "/rdvpref", True, True)


def challenge(t0: datetime, ident: str = "0a1b2c3d", target: str = "rdvpref-3762", **kw: object) -> CaptchaChallenge:
    fields: dict[str, object] = {
        "id": ident,
        "target_id": target,
        "url": URL,
        "captcha_id": "5c1e8b0a",
        "style": "captchaFR",
        "image": PNG,
        "created_at": t0,
        "expires_at": t0 + timedelta(minutes=5),
        "cookies": (COOKIE,),
        "post_url": URL + "_validerCaptcha",
        "form": {"BDC_VCID_captchaFR": "5c1e8b0a"},
    }
    fields.update(kw)
    return CaptchaChallenge(**fields)  # type: ignore[arg-type]


@pytest.fixture
def desk(tmp_path: Path) -> FileCaptchaDesk:
    return FileCaptchaDesk(tmp_path / "captcha")


async def test_desk_lists_a_filed_challenge_when_pending(desk: FileCaptchaDesk, t0: datetime) -> None:
    await desk.file(challenge(t0))
    pending = await desk.pending(t0 + timedelta(seconds=30))
    assert [c.id for c in pending] == ["0a1b2c3d"]
    assert pending[0].image == PNG
    assert pending[0].cookies == (COOKIE,)
    assert await desk.pending(t0 + timedelta(minutes=6)) == []


async def test_desk_keeps_files_private_when_filing(desk: FileCaptchaDesk, t0: datetime) -> None:
    await desk.file(challenge(t0))
    for path in desk.folder.glob("0a1b2c3d.*"):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert "secret" not in repr(challenge(t0))


async def test_desk_supersedes_older_challenge_when_new_one_filed_for_same_target(
    desk: FileCaptchaDesk, t0: datetime
) -> None:
    await desk.file(challenge(t0, "00000001"))
    await desk.file(challenge(t0, "00000002", target="rdvpref-9999"))
    await desk.file(challenge(t0 + timedelta(seconds=10), "00000003"))
    assert [c.id for c in await desk.pending(t0 + timedelta(seconds=20))] == ["00000002", "00000003"]
    old = await desk.get("00000001")
    assert old is not None
    assert old.status is ChallengeStatus.SUPERSEDED


async def test_desk_gives_an_answer_once_when_taken(desk: FileCaptchaDesk, t0: datetime) -> None:
    await desk.file(challenge(t0))
    answered = await desk.answer("0a1b2c3d", " AB12C ", t0 + timedelta(seconds=40))
    assert answered.answer == "AB12C"
    assert await desk.pending(t0 + timedelta(seconds=41)) == []
    taken = await desk.take_answer("rdvpref-3762", t0 + timedelta(seconds=60))
    assert taken is not None
    assert taken.answer == "AB12C"
    assert taken.status is ChallengeStatus.SUBMITTED
    assert await desk.take_answer("rdvpref-3762", t0 + timedelta(seconds=61)) is None
    await desk.resolve("0a1b2c3d", ChallengeStatus.ACCEPTED, t0 + timedelta(seconds=62))
    final = await desk.get("0a1b2c3d")
    assert final is not None
    assert final.status is ChallengeStatus.ACCEPTED


async def test_desk_drops_an_answer_when_challenge_expired_before_use(desk: FileCaptchaDesk, t0: datetime) -> None:
    await desk.file(challenge(t0))
    await desk.answer("0a1b2c3d", "AB12C", t0 + timedelta(seconds=290))
    assert await desk.take_answer("rdvpref-3762", t0 + timedelta(seconds=301)) is None
    expired = await desk.get("0a1b2c3d")
    assert expired is not None
    assert expired.status is ChallengeStatus.EXPIRED


@pytest.mark.parametrize(
    ("ident", "when", "message"),
    [
        pytest.param("ffffffff", 10, "no captcha challenge", id="unknown"),
        pytest.param("../../etc", 10, "no captcha challenge", id="path"),
        pytest.param("0a1b2c3d", 400, "expired", id="expired"),
    ],
)
async def test_desk_refuses_an_answer_when_challenge_is_not_answerable(
    desk: FileCaptchaDesk, t0: datetime, ident: str, when: int, message: str
) -> None:
    await desk.file(challenge(t0))
    with pytest.raises(CaptchaDeskError, match=message):
        await desk.answer(ident, "AB12C", t0 + timedelta(seconds=when))


async def test_cookies_survive_a_round_trip_through_a_jar() -> None:
    jar = jar_from_cookies((COOKIE,))
    assert cookies_from_jar(jar) == (COOKIE,)


# --- CLI ------------------------------------------------------------------------------------------------
@pytest.fixture
def filed(tmp_path: Path) -> tuple[Path, CaptchaChallenge]:
    """A desk in tmp_path/captcha holding one challenge filed a minute ago (wall clock: the CLI uses it)."""
    from datetime import UTC

    now = datetime.now(UTC) - timedelta(minutes=1)
    ch = challenge(now)
    import asyncio

    asyncio.run(FileCaptchaDesk(tmp_path / "captcha").file(ch))
    return tmp_path, ch


def _run(data_dir: Path, *args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
    env = {"CRENEAU_DATA_DIR": str(data_dir)}
    return CliRunner().invoke(build_app(), ["captcha", *args], input=stdin, env=env)


def test_captcha_list_prints_pending_challenges_when_json(filed: tuple[Path, CaptchaChallenge]) -> None:
    data_dir, ch = filed
    result = _run(data_dir, "list", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [c["id"] for c in data["pending"]] == [ch.id]
    assert data["pending"][0]["target"] == "rdvpref-3762"
    assert 50 <= data["pending"][0]["age_s"] <= 120


def test_captcha_solve_saves_the_image_and_records_stdin_answer(
    filed: tuple[Path, CaptchaChallenge], tmp_path: Path
) -> None:
    data_dir, ch = filed
    out = tmp_path / "shown.png"
    result = _run(data_dir, "solve", ch.id, "--out", str(out), stdin="XY7Q2\n")
    assert result.exit_code == 0, result.output
    assert str(out) in result.output
    assert out.read_bytes() == PNG
    import asyncio

    saved = asyncio.run(FileCaptchaDesk(data_dir / "captcha").get(ch.id))
    assert saved is not None
    assert saved.answer == "XY7Q2"
    assert saved.status is ChallengeStatus.ANSWERED


def test_captcha_solve_takes_answer_option_without_reading_stdin(filed: tuple[Path, CaptchaChallenge]) -> None:
    data_dir, ch = filed
    result = _run(data_dir, "solve", ch.id, "--answer", "K3M9")
    assert result.exit_code == 0, result.output
    assert "K3M9" not in result.output.split("answer")[0]


def test_captcha_solve_fails_in_one_line_when_id_unknown(filed: tuple[Path, CaptchaChallenge]) -> None:
    data_dir, _ = filed
    result = _run(data_dir, "solve", "deadbeef", "--answer", "X")
    assert isinstance(result.exception, CliError)
    assert "no captcha challenge with id 'deadbeef'" in str(result.exception)


def test_creneau_captcha_solve_exits_2_with_one_error_line_when_id_unknown(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "from creneau.cli import main; main()", "captcha", "solve", "nope", "--answer", "X"],
        capture_output=True,
        text=True,
        env={**os.environ, "CRENEAU_DATA_DIR": str(tmp_path)},
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert proc.stderr.startswith("creneau: error: no captcha challenge")
