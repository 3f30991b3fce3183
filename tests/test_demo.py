# SPDX-License-Identifier: AGPL-3.0-or-later
"""`creneau demo`: the simulator, the fakes and the service together, on real ports, stopping cleanly.

The demo scenario runs at ×30 so its first publications (one to five scenario minutes in) are seen within
seconds of real time. The run is stopped the way a person stops it: SIGINT, as Ctrl-C sends.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from creneau.catalog.core import load_catalog
from creneau.catalog.urls import target_from_url
from creneau.cli import main
from creneau.demo import (
    DEFAULT_SCENARIO,
    MARKER,
    load_world,
    prepare_data_dir,
    watch_targets,
)
from creneau.demo_session import bind_web
from creneau.types import System

pytestmark = pytest.mark.e2e


def _interrupt_once_sent(database: Path, timeout_s: float) -> None:
    """Send Ctrl-C (SIGINT) to this process once the demo's store records a sent delivery (or at `timeout_s`).

    The demo installs its signal handlers before it creates the store, so the signal always finds them.
    """
    deadline = time.monotonic() + timeout_s
    pause = threading.Event()  # never set: waits 0.2 s between looks (this thread only)
    while time.monotonic() < deadline:
        if database.exists():
            with contextlib.suppress(sqlite3.Error), contextlib.closing(sqlite3.connect(database, timeout=1)) as db:
                if db.execute("SELECT count(*) FROM deliveries WHERE status = 'sent'").fetchone()[0]:
                    break
        pause.wait(0.2)
    os.kill(os.getpid(), signal.SIGINT)


def test_demo_alerts_reach_the_sinks_and_ctrl_c_exits_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "demo"
    watcher = threading.Thread(target=_interrupt_once_sent, args=(folder / "creneau.sqlite3", 40.0), daemon=True)
    watcher.start()

    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--no-web", "--speed", "30", "--data-dir", str(folder)])
    watcher.join()

    out, err = capsys.readouterr()
    assert exit_info.value.code == 0, err
    assert "Traceback" not in out + err
    summary = re.search(r"(\d+) checks \((.*)\); (\d+) openings.*messages received: email (\d+), telegram (\d+)", out)
    assert summary is not None, out
    checks, outcomes, openings, emails, telegrams = summary.groups()
    assert int(checks) >= 5
    assert int(openings) >= 1
    assert int(emails) + int(telegrams) >= 1
    # RDV Préfecture targets wait for a person: the demo files their captchas and never answers them itself.
    assert "human_check_required" in outcomes
    assert "needs a human check" in out
    assert "creneau captcha solve" in out
    assert "slots_available" not in _rdvpref_outcomes(folder / "creneau.sqlite3")
    assert (folder / "demo.log").exists()


def _rdvpref_outcomes(database: Path) -> set[str]:
    with contextlib.closing(sqlite3.connect(database)) as db:
        rows = db.execute(
            "SELECT o.outcome FROM observations o JOIN targets t ON t.id = o.target_id WHERE t.system = 'rdvpref'"
        ).fetchall()
    return {row[0] for row in rows}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--speed", "0"], "--speed must be above 0", id="speed-zero"),
        pytest.param(["--duration", "-3"], "--duration must be a positive", id="negative-duration"),
        pytest.param(["--web-port", "70000"], "--web-port must be between", id="port-out-of-range"),
        pytest.param(["--scenario", "missing.yaml"], "scenario file not found", id="missing-scenario"),
        pytest.param(["--scenario", "bad.yaml"], "bad.yaml", id="invalid-scenario"),
        pytest.param(["--data-dir", "mine"], "was not made by creneau demo", id="foreign-folder"),
    ],
)
def test_demo_refuses_in_one_line_when_input_is_bad(
    args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.yaml").write_text("seed: 1\ntargets: 12\n", encoding="utf-8")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me", encoding="utf-8")

    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--no-web", "--duration", "1", *args])

    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.startswith("creneau: error: ")
    assert message in err
    assert "Traceback" not in err
    assert (tmp_path / "mine" / "notes.txt").exists()


def test_demo_refuses_when_the_web_port_is_taken(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    taken = bind_web(0)
    try:
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit) as exit_info:
            main(["demo", "--web-port", str(port), "--duration", "1", "--data-dir", str(tmp_path / "d")])
    finally:
        taken.close()
    assert exit_info.value.code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_watch_targets_use_the_catalog_record_when_it_has_the_official_url() -> None:
    world = load_world(DEFAULT_SCENARIO, datetime.now(UTC))
    targets = watch_targets(world, load_catalog())

    ids = {sim.id: target.id for target, sim in targets.values()}
    assert ids["essonne-sejour"] == "legacy-essonne-23014"
    assert ids["isere-naturalisation"] == "rdvpref-3762"
    bordeaux = next(t for t, sim in targets.values() if sim.id == "ants-bordeaux")  # the catalog has no ANTS search
    assert bordeaux.system is System.ANTS
    assert bordeaux.url.startswith("https://api.rendezvouspasseport.ants.gouv.fr/api/SlotsFromPosition?")
    assert ids["ants-bordeaux"] == target_from_url(bordeaux.url).id  # what `creneau target add URL` would name it
    assert len(targets) == len(world.targets)


def test_prepare_data_dir_empties_only_a_folder_the_demo_made(tmp_path: Path) -> None:
    folder = prepare_data_dir(tmp_path / "demo")
    (folder / "creneau.sqlite3").write_bytes(b"old")

    again = prepare_data_dir(folder)

    assert sorted(p.name for p in again.iterdir()) == [MARKER]
