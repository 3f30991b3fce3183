# SPDX-License-Identifier: AGPL-3.0-or-later
"""Every catalog command through typer's CliRunner, including bad input (one error line, nothing written)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from creneau.catalog.core import shipped_data_dir
from creneau.cli import CliError, build_app, main

runner = CliRunner()
APP = build_app()
NEW_URL = "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/777002/"


def ok(*args: str) -> str:
    result = runner.invoke(APP, list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def data(*args: str) -> object:
    return json.loads(ok(*args, "--json"))


def error(*args: str) -> str:
    result = runner.invoke(APP, list(args))
    assert isinstance(result.exception, CliError), (result.output, result.exception)
    message = str(result.exception)
    assert "\n" not in message
    return message


@pytest.mark.usefixtures("data_dir")
class TestFind:
    def test_find_prints_competent_office_when_commune_resolves(self) -> None:
        output = ok("find", "Paris 15e", "--demarche", "natz.decree")
        assert "Préfecture de police" in output
        assert "paris-pp-naturalisation" in output

    def test_find_json_gives_office_reason_targets_and_alternatives_when_resolved(self) -> None:
        doc = data("find", "Palaiseau", "-d", "sejour.renewal")
        assert isinstance(doc, dict)
        assert doc["status"] == "resolved"
        assert [o["id"] for o in doc["competent"]["offices"]] == ["spref-91-palaiseau"]
        assert doc["competent"]["override"] == "foreigners-spref-91-palaiseau"
        assert {t["id"] for t in doc["related_targets"]} == {"rdvpref-2246", "rdvpref-2282"}
        assert {a["office"]["id"] for a in doc["alternatives"]} == {"pref-91", "spref-91-etampes"}

    def test_find_lists_communes_when_postcode_is_ambiguous(self) -> None:
        doc = data("find", "91190")
        assert isinstance(doc, dict)
        assert doc["status"] == "choose"
        assert len(doc["communes"]) > 1
        assert "choose one" in ok("find", "91190")

    def test_find_suggests_names_when_name_is_unknown(self) -> None:
        doc = data("find", "Sant Etiene du Rouvray")
        assert isinstance(doc, dict)
        assert doc["suggestions"][0]["name_key"] == "saint etienne du rouvray"
        assert "Saint-Étienne-du-Rouvray" in ok("find", "Sant Etiene du Rouvray")

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["find", "Paris", "-d", "nope"], "unknown démarche"),
            (["find", "Xyzzyqq"], "no commune matches"),
            (["find", "  "], "empty query"),
        ],
    )
    def test_find_fails_in_one_line_when_input_is_bad(self, args: list[str], message: str) -> None:
        assert message in error(*args)


@pytest.mark.usefixtures("data_dir")
class TestGuides:
    def test_portal_gives_dated_fees_and_free_notice_when_known(self) -> None:
        doc = data("portal", "sejour.first", "--on", "2026-06-01")
        assert isinstance(doc, dict)
        assert doc["fees"][0]["amount_eur"] == 350
        assert doc["fees"][0]["in_force"] is True
        assert doc["appointments_free"] is True
        assert doc["watchable"] is True
        text = ok("portal", "sejour.renewal", "--on", "2026-06-01")
        assert "250 €" in text
        assert "free" in text

    def test_portal_marks_fee_not_in_force_when_before_its_date(self) -> None:
        doc = data("portal", "id.passport", "--on", "2026-04-30")
        assert isinstance(doc, dict)
        assert doc["fees"][0]["amount_eur"] == 86
        assert doc["fees"][0]["in_force"] is False

    @pytest.mark.parametrize(
        ("args", "message"),
        [(["portal", "nope"], "unknown démarche"), (["portal", "id.cni", "--on", "tomorrow"], "--on must be a date")],
    )
    def test_portal_fails_in_one_line_when_input_is_bad(self, args: list[str], message: str) -> None:
        assert message in error(*args)

    def test_offices_filters_by_departement_when_asked(self) -> None:
        doc = data("offices", "--dept", "91")
        assert isinstance(doc, list)
        assert [o["id"] for o in doc] == ["pref-91", "spref-91-etampes", "spref-91-palaiseau"]
        assert len(data("offices")) == 357  # type: ignore[arg-type]
        assert "pref-2a" in ok("offices", "--dept", "2a")

    def test_offices_fails_in_one_line_when_departement_is_unknown(self) -> None:
        assert "unknown département" in error("offices", "--dept", "00")

    def test_demarches_lists_required_keys_when_asked(self) -> None:
        doc = data("demarches")
        assert isinstance(doc, list)
        keys = {d["key"] for d in doc}
        assert keys >= {
            "sejour.first", "sejour.renewal", "sejour.collection", "sejour.biometrics", "sejour.duplicate",
            "natz.decree", "natz.declaration", "asylum", "permis.exchange", "permis.medical",
            "vehicle.registration", "id.passport", "id.cni", "travel.document",
        }  # fmt: skip
        assert "sejour.first" in ok("demarches")


class TestTargets:
    def test_target_add_list_remove_round_trip_when_valid(self, data_dir: Path) -> None:
        assert "added rdvpref-777002" in ok(
            "target", "add", NEW_URL, "--office", "pref-38", "--demarche", "sejour.renewal"
        )
        listed = data("target", "list", "--office", "pref-38")
        assert isinstance(listed, list)
        assert {t["id"] for t in listed} == {"rdvpref-3762", "rdvpref-777002"}
        assert "rdvpref-777002" in ok("target", "list")
        assert "removed rdvpref-777002" in ok("target", "remove", "rdvpref-777002")
        assert "rdvpref-777002" not in ok("target", "list", "--office", "pref-38")

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (
                [
                    "target",
                    "add",
                    "https://evil.example/booking/create/1",
                    "--office",
                    "pref-38",
                    "--demarche",
                    "sejour.first",
                ],
                "official",
            ),
            (["target", "add", NEW_URL, "--office", "nope", "--demarche", "sejour.first"], "unknown office"),
            (["target", "add", NEW_URL, "--office", "pref-38", "--demarche", "nope"], "unknown démarche"),
            (
                [
                    "target",
                    "add",
                    NEW_URL.replace("777002", "16040"),
                    "--office",
                    "pref-94",
                    "--demarche",
                    "sejour.collection",
                ],
                "already target",
            ),
            (["target", "remove", "nope"], "unknown target"),
            (["target", "remove", "rdvpref-16040"], "ships with creneau"),
            (["target", "list", "--office", "nope"], "unknown office"),
        ],
        ids=["not-official", "office", "demarche", "duplicate", "remove-unknown", "remove-shipped", "list-office"],
    )
    def test_target_commands_fail_in_one_line_and_write_nothing_when_refused(
        self, data_dir: Path, args: list[str], message: str
    ) -> None:
        assert message in error(*args)
        assert not (data_dir / "targets.local.csv").exists()


@pytest.mark.usefixtures("data_dir")
class TestCatalogAdmin:
    def test_catalog_check_reports_ok_when_shipped_data_is_sound(self) -> None:
        assert data("catalog", "check") == {"ok": True, "problems": []}

    def test_catalog_refresh_writes_nothing_when_not_confirmed(self, tmp_path: Path) -> None:
        folder = tmp_path / "data"
        shutil.copytree(shipped_data_dir(), folder)
        annuaire = folder / "annuaire.tsv"
        annuaire.write_text(
            "id\tnom\ttype_service_local\tsite_internet\ttelephone\tadresse_courriel\tcomplement1\tcomplement2\t"
            "numero_voie\tcode_postal\tnom_commune\n"
            "52540ade-49fd-4b93-9de0-d1b7834097c5\tPréfecture - Ain\tprefecture\thttp://www.ain.gouv.fr\t"
            "04 00 00 00 00\tprefecture@ain.gouv.fr\tQuartier Bourg centre\t\t45 avenue Alsace-Lorraine\t01000\t"
            "Bourg-en-Bresse\n",
            encoding="utf-8",
        )
        before = (folder / "offices.csv").read_bytes()
        args = ["catalog", "refresh", "--annuaire", str(annuaire), "--into", str(folder)]
        refused = runner.invoke(APP, args, input="n\n")
        assert "office pref-01: phone" in refused.output
        assert "nothing written" in refused.output
        assert (folder / "offices.csv").read_bytes() == before
        assert "wrote offices.csv" in ok(*args, "--yes")
        assert "04 00 00 00 00" in (folder / "offices.csv").read_text(encoding="utf-8")

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["catalog", "refresh"], "give --cog"),
            (["catalog", "refresh", "--cog", "/nonexistent/cog"], "not found"),
            (["catalog", "refresh", "--annuaire", "/nonexistent.tsv"], "not found"),
            (["catalog", "refresh", "--annuaire", "x", "--annuaire-date", "soon"], "--annuaire-date"),
        ],
    )
    def test_catalog_refresh_fails_in_one_line_when_input_is_bad(self, args: list[str], message: str) -> None:
        assert message in error(*args)


def test_main_prints_one_error_line_and_exits_2_when_input_is_bad(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["portal", "nope"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("creneau: error: unknown démarche")
    assert err.count("\n") == 1
