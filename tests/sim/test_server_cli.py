# SPDX-License-Identifier: AGPL-3.0-or-later
"""`creneau sim`: one-line errors, and a real run that serves, prints its overrides and stops on Ctrl-C."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from creneau.cli import main

SCENARIO = """\
seed: 1
start: 2026-05-04T08:00:00+02:00
duration: 1h
targets:
  - id: isere
    system: rdvpref
    demarche: 3762
    name: Préfecture de l'Isère
"""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scenario", "nowhere.yaml"], "scenario file not found: nowhere.yaml"),
        (["--scenario", "x.yaml", "--speed", "0"], "--speed must be a positive number"),
        (["--scenario", "x.yaml", "--port", "70000"], "--port must be between 0 and 65535"),
    ],
    ids=["missing-file", "zero-speed", "bad-port"],
)
def test_sim_prints_one_error_line_when_the_input_is_bad(capsys, args, message) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["sim", *args])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err == f"creneau: error: {message}\n"


def test_sim_names_the_line_when_the_scenario_is_invalid(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(SCENARIO.replace("system: rdvpref", "system: minitel"), encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["sim", "--scenario", str(bad)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("creneau: error: ")
    assert err.count("\n") == 1
    assert "Traceback" not in err


async def test_sim_serves_the_scenario_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    scenario = tmp_path / "one.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    truth = tmp_path / "truth.jsonl"
    args = (
        "-m",
        "creneau.cli",
        "sim",
        "--scenario",
        str(scenario),
        "--port",
        "0",
        "--test-hooks",
        "--truth",
        str(truth),
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        while not any("CRENEAU_ROUTE_OVERRIDES" in line for line in lines):
            line = (await asyncio.wait_for(proc.stdout.readline(), timeout=60)).decode()
            assert line, "the simulator exited early"
            lines.append(line)
        overrides = json.loads(lines[-1].split("=", 1)[1].strip().strip("'"))
        base = overrides["*"]
        assert f"at {base}" in lines[0]
        async with aiohttp.ClientSession() as session:
            url = f"{base}/rdvpref/reservation/demarche/3762/"
            async with session.get(url, headers={"Host": "www.rdv-prefecture.interieur.gouv.fr"}) as r:
                assert r.status == 200
            async with session.get(f"{base}/__sim__/now") as r:
                assert (await r.json())["now"].startswith("2026-05-04T06:00")
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 0
    assert b"Traceback" not in err
    assert truth.exists()
