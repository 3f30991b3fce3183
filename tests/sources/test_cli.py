# SPDX-License-Identifier: AGPL-3.0-or-later
"""`creneau parse` and `creneau check`: one JSON object or a summary, one error line for bad input."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from creneau.cli import main
from creneau.sim.clock import SystemClock
from creneau.sim.model import Planning, RateRules, SimSlot, SimTarget, World
from creneau.sim.server import SimServer
from creneau.sim.sites.ants import ANTS_HOST
from creneau.sources.common import MAX_PAGE_BYTES
from creneau.types import System

TESTS = Path(__file__).parent
LEGACY = TESTS / "legacy" / "fixtures"
ANTS = TESTS / "ants" / "fixtures"
SSD = "www.seine-saint-denis.gouv.fr"
NO_RULES = RateRules(legacy_burst_rps=0, legacy_hourly_limit=0, rdvpref_challenge_per_min=0, ants_per_min=0)
ANTS_URL = (
    "https://api.rendezvouspasseport.ants.gouv.fr/api/SlotsFromPosition?longitude=3.06&latitude=50.63&radius_km=10"
)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as caught:
        main(list(argv))
    out, err = capsys.readouterr()
    return int(caught.value.code or 0), out, err


def test_parse_prints_one_json_object_when_json_asked(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "parse", str(LEGACY / "val-doise-11343-step2-no-slot.html"), "--json")
    assert (code, err) == (0, "")
    (line,) = out.splitlines()
    summary = json.loads(line)
    assert (summary["outcome"], summary["slots"], summary["notices"]) == ("no_slots", [], [])
    # The system and URL came from the browser's "saved from url" comment.
    assert summary["url"] == "https://www.val-doise.gouv.fr/booking/create/11343/2"


def test_parse_lists_slots_as_iso_datetimes_when_week_has_free_cells(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(LEGACY / "week-with-free-cells.html")
    code, out, _ = run(capsys, "parse", path, "--system", "legacy", "--page", "week", "--json")
    summary = json.loads(out)
    assert code == 0
    assert summary["outcome"] == "slots_available"
    assert summary["slots"] == ["2026-05-05T07:00:00+00:00", "2026-05-07T12:30:00+00:00"]


def test_parse_prints_a_summary_when_json_not_asked(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "parse", str(ANTS / "slots-from-position-with-slots.json"), "--system", "ants")
    assert code == 0
    assert out.startswith("slots_available")
    assert "Mairie de Roubaix" in out
    assert "Mon 15/06/2026 14:00" in out  # Paris time


def test_parse_refuses_unparsed_when_saved_page_is_over_the_size_limit(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    body = (TESTS / "rdvpref" / "fixtures" / "creneau_slots.html").read_bytes()
    saved = tmp_path / "creneau.html"
    saved.write_bytes(body + b"<!--" + b"x" * MAX_PAGE_BYTES + b"-->")
    code, out, _ = run(capsys, "parse", str(saved), "--system", "rdvpref", "--json")
    summary = json.loads(out)
    assert (code, summary["outcome"], summary["slots"]) == (0, "layout_unknown", [])
    assert f"over the {MAX_PAGE_BYTES:,}-byte limit for a booking page, not parsed" in summary["evidence"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["parse", "/nonexistent/page.html", "--system", "legacy"], "cannot read", id="missing-file"),
        pytest.param(["parse", str(LEGACY), "--system", "legacy"], "cannot read", id="directory"),
        pytest.param(["parse", str(LEGACY / "terms.html"), "--system", "doctolib"], "unknown system", id="system"),
        pytest.param(["parse", str(LEGACY / "terms.html")], "--system", id="no-system-no-url"),
        pytest.param(["parse", str(LEGACY / "terms.html"), "--system", "legacy", "--page", "x"], "page", id="page"),
        pytest.param(["check", "https://www.doctolib.fr/"], "no adapter recognises", id="unknown-url"),
        pytest.param(["check", "not a url"], "no adapter recognises", id="not-a-url"),
        pytest.param(["check", "https://example.com/booking/create/1/0", "--system", "legacy"], "gouv.fr", id="host"),
        pytest.param(["check", ANTS_URL.replace("radius_km=10", "radius_km=7")], "radius_km", id="ants-radius"),
        pytest.param(
            ["check", "https://rendezvouspasseport.ants.gouv.fr/", "--system", "ants"], "API URL", id="public"
        ),
    ],
)
def test_cli_prints_one_error_line_when_input_is_bad(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    (line,) = err.splitlines()
    assert line.startswith("creneau: error: ")
    assert message in line


def _world() -> World:
    """Slots relative to the real clock: the command checks with the system clock."""
    soon = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
    lille = SimTarget("lille", System.ANTS, ANTS_HOST, 77, name="Mairie de Lille", latitude=50.63, longitude=3.06)
    form = SimTarget("ssd", System.LEGACY, SSD, 9846, (Planning("17637", "Guichet A"), Planning("17638", "Guichet B")))
    rdv = SimTarget("isere", System.RDVPREF, "www.rdv-prefecture.interieur.gouv.fr", 3762, name="Titre de séjour")
    slots = [
        SimSlot(1, "lille", soon, soon - timedelta(days=9), None),
        SimSlot(2, "ssd", soon, soon - timedelta(days=9), None, planning_id="17638"),
    ]
    return World({t.id: t for t in (lille, form, rdv)}, slots, rules=NO_RULES)


@pytest.fixture
def simulator(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """The simulator in a background thread (the command runs its own event loop); yields the data dir."""
    loop = asyncio.new_event_loop()
    server = SimServer(_world(), SystemClock())
    loop.run_until_complete(server.start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("CRENEAU_ROUTE_OVERRIDES", server.route_overrides_json())
    monkeypatch.setenv("CRENEAU_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CRENEAU_LEGACY_REQUEST_GAP_S", "0")
    yield tmp_path / "var"
    asyncio.run_coroutine_threadsafe(server.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


@pytest.mark.e2e
def test_check_prints_one_json_object_when_url_is_an_ants_search(
    capsys: pytest.CaptureFixture[str], simulator: Path
) -> None:
    code, out, err = run(capsys, "check", ANTS_URL, "--json")
    assert (code, err) == (0, "")
    summary = json.loads(out)
    assert (summary["outcome"], len(summary["slots"]), summary["http_status"]) == ("slots_available", 1, 200)


@pytest.mark.e2e
def test_check_reads_every_guichet_when_url_is_a_legacy_form(
    capsys: pytest.CaptureFixture[str], simulator: Path
) -> None:
    code, out, _ = run(capsys, "check", f"https://{SSD}/booking/create/9846/0", "--json")
    summary = json.loads(out)
    assert (code, summary["outcome"]) == (0, "slots_available")
    assert [d["guichet_label"] for d in summary["slot_details"]] == ["Guichet B"]
    code, out, _ = run(capsys, "check", f"https://{SSD}/booking/create/9846/0")
    assert out.startswith("slots_available legacy-seine-saint-denis-9846")
    assert "Guichet B" in out


@pytest.mark.e2e
def test_check_files_the_captcha_for_a_person_when_url_is_rdv_prefecture(
    capsys: pytest.CaptureFixture[str], simulator: Path
) -> None:
    url = "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/3762/"
    code, out, _ = run(capsys, "check", url, "--json")
    assert (code, json.loads(out)["outcome"]) == (0, "human_check_required")
    assert len(list((simulator / "captcha").glob("*.png"))) == 1
