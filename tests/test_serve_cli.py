# SPDX-License-Identifier: AGPL-3.0-or-later
"""`creneau serve` (and its alias `creneau web`) as a real process: the web app answers next to the pipeline,
SIGTERM stops it cleanly, a busy port is one error line."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import httpx2
import pytest

from creneau.cli import main

START_S = 90.0


def instance_env(tmp_path: Path) -> dict[str, str]:
    return os.environ | {
        "CRENEAU_DATA_DIR": str(tmp_path / "var"),
        "CRENEAU_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'creneau.sqlite3'}",
        "CRENEAU_WEB_SECRET": "s" * 40,
        "CRENEAU_BOT_ENABLED": "false",
        "CRENEAU_LOG_LEVEL": "WARNING",
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def start(argv: list[str], env: dict[str, str]) -> tuple[asyncio.subprocess.Process, str]:
    """Start `creneau ARGV` and wait for the line that says where the web app listens."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "creneau.cli", *argv, env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), START_S)
    if not line:
        assert process.stderr is not None
        raise AssertionError(f"exited before serving: {(await process.stderr.read()).decode()}")
    return process, line.decode()


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["serve"], id="serve-all-roles"),
        pytest.param(["serve", "--role", "web"], id="serve-web-role"),
        pytest.param(["web"], id="web-alias"),
    ],
)
@pytest.mark.timeout(180)
async def test_serve_answers_http_and_stops_cleanly_when_sent_sigterm(tmp_path: Path, argv: list[str]) -> None:
    port = free_port()
    process, line = await start([*argv, "--port", str(port)], instance_env(tmp_path))
    try:
        assert f"http://127.0.0.1:{port}" in line
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            home = await client.get("/")
            targets = await client.get("/api/v1/targets", params={"limit": 5})
        assert home.status_code == 200
        assert "creneau" in home.text
        assert targets.status_code == 200
        assert isinstance(targets.json(), list)
    finally:
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 60)
    assert process.stderr is not None
    err = (await process.stderr.read()).decode()
    assert code == 0, err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv", [pytest.param(["serve"], id="serve"), pytest.param(["web"], id="web-alias")])
async def test_serve_refuses_in_one_line_when_the_port_is_busy(tmp_path: Path, argv: list[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "creneau.cli", *argv, "--port", str(port), env=instance_env(tmp_path),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(process.communicate(), START_S)
    assert process.returncode == 2
    assert out == b""
    (message,) = err.decode().splitlines()
    assert message.startswith(f"creneau: error: web app: cannot listen on 127.0.0.1:{port}")
    assert "--port" in message
    assert not (tmp_path / "creneau.sqlite3").exists()  # nothing started


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["serve", "--role", "kiosk"], "--role must be one of", id="unknown-role"),
        pytest.param(["serve", "--role", "monitor", "--port", "8001"], "--host and --port", id="port-without-web"),
        pytest.param(["serve", "--port", "70000"], "--port must be between", id="port-out-of-range"),
        pytest.param(["serve", "--role", "web", "--once"], "--once", id="web-once"),
    ],
)
def test_serve_refuses_in_one_line_when_options_conflict(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    out, err = capsys.readouterr()
    assert caught.value.code == 2
    assert out == ""
    (line,) = err.splitlines()
    assert line.startswith("creneau: error: ")
    assert message in line


async def test_serve_web_ends_with_one_error_line_when_the_app_cannot_start(tmp_path: Path) -> None:
    env = instance_env(tmp_path) | {"CRENEAU_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "creneau.cli", "serve", "--role", "web", "--port", str(free_port()), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(process.communicate(), START_S)
    assert process.returncode == 2
    assert err.decode().splitlines()[-1] == "creneau: error: the web app did not start (its error is in the log above)"
