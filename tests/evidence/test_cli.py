# SPDX-License-Identifier: AGPL-3.0-or-later
"""`creneau dossier|letter|evidence|profile|keys …`: real runs on a SQLite store, one-line errors."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from creneau.cli import CliError, build_app
from creneau.store import Store

from .conftest import seed_watch

runner = CliRunner()
APP = build_app()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "var"
    monkeypatch.setenv("CRENEAU_DATA_DIR", str(folder))
    monkeypatch.setenv("CRENEAU_EVIDENCE_KEY", "cli-test-key")

    async def seed() -> None:
        store = await Store.open(f"sqlite+aiosqlite:///{folder / 'creneau.sqlite3'}")
        await seed_watch(store, "amina@example.org")
        await store.close()

    asyncio.run(seed())
    return folder


def ok(*args: str) -> str:
    result = runner.invoke(APP, list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_dossier_export_then_verify_reports_ok_when_untouched(data_dir: Path, tmp_path: Path) -> None:
    ok("profile", "set", "--subscriber", "1", "--name", "Amina Diallo", "--numero-etranger", "7501234567")
    out = tmp_path / "dossier.pdf"
    said = ok(
        "dossier",
        "export",
        "--watch",
        "1",
        "--from",
        "2026-03-02",
        "--to",
        "02/03/2026",
        "--out",
        str(out),
        "--lang",
        "en",
    )
    assert "3 attempts over 1/1 days" in said
    text = PdfReader(out).pages[0].extract_text()
    assert "Amina Diallo" in text
    assert "7501234567" in text
    report = ok("dossier", "verify", str(out))
    assert "seal: valid" in report
    assert "result: OK" in report


def test_dossier_verify_exits_1_when_the_chain_was_edited(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "dossier.pdf"
    ok("dossier", "export", "--watch", "1", "--from", "2026-03-02", "--to", "2026-03-02", "--out", str(out))
    chain = PdfReader(io.BytesIO(out.read_bytes())).attachments["chain.jsonl"][0]
    lines = chain.splitlines()
    del lines[2]
    edited = tmp_path / "chain.jsonl"
    edited.write_bytes(b"\n".join(lines) + b"\n")
    result = runner.invoke(APP, ["dossier", "verify", str(edited)])
    assert result.exit_code == 1
    assert "result: TAMPERED" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["dossier", "export", "--watch", "99", "--from", "2026-03-02", "--to", "2026-03-03", "--out", "x.pdf"],
            "no watch 99",
            id="unknown-watch",
        ),
        pytest.param(
            ["dossier", "export", "--watch", "1", "--from", "2 March", "--to", "2026-03-03", "--out", "x.pdf"],
            "--from",
            id="bad-date",
        ),
        pytest.param(
            ["dossier", "export", "--watch", "1", "--from", "2026-03-04", "--to", "2026-03-03", "--out", "x.pdf"],
            "ends before",
            id="reversed",
        ),
        pytest.param(
            ["letter", "draft", "--watch", "1", "--kind", "lrar", "--from", "2026-03-02", "--to", "2026-03-02"],
            "full_name, postal_address",
            id="missing-facts",
        ),
    ],
)
def test_commands_fail_with_one_line_when_input_is_wrong(data_dir: Path, args: list[str], message: str) -> None:
    result = runner.invoke(APP, args)
    assert isinstance(result.exception, CliError), result.output
    assert message in str(result.exception)


def test_letter_save_refuses_text_when_a_blank_is_left(data_dir: Path, tmp_path: Path) -> None:
    letter = tmp_path / "lettre.txt"
    letter.write_text("Madame, Monsieur,\n\nJe soussigné [NOM]\n", encoding="utf-8")
    result = runner.invoke(APP, ["letter", "save", "--watch", "1", "--kind", "email", "--file", str(letter)])
    assert isinstance(result.exception, CliError)
    assert "[NOM]" in str(result.exception)


def test_letter_export_and_pack_write_files_when_the_profile_is_complete(data_dir: Path, tmp_path: Path) -> None:
    ok("profile", "set", "--subscriber", "1", "--name", "Amina Diallo", "--address", "12 rue des Lilas\\n75019 Paris")
    text = tmp_path / "email.txt"
    ok(
        "letter",
        "export",
        "--watch",
        "1",
        "--kind",
        "email",
        "--from",
        "2026-03-02",
        "--to",
        "2026-03-02",
        "--out",
        str(text),
    )
    assert "Amina Diallo" in text.read_text(encoding="utf-8")
    edited = tmp_path / "edited.txt"
    edited.write_text(text.read_text(encoding="utf-8") + "\nPost-scriptum ajouté.\n", encoding="utf-8")
    ok("letter", "save", "--watch", "1", "--kind", "email", "--file", str(edited))
    assert "Post-scriptum ajouté." in ok(
        "letter", "draft", "--watch", "1", "--kind", "email", "--from", "2026-03-02", "--to", "2026-03-02"
    )
    pack = tmp_path / "pack.zip"
    ok("letter", "pack", "--watch", "1", "--from", "2026-03-02", "--to", "2026-03-02", "--out", str(pack))
    assert pack.stat().st_size > 1000


def test_evidence_status_and_keys_rotate_report_when_run(data_dir: Path) -> None:
    assert "evidence mode on" in ok("evidence", "status", "--watch", "1")
    ok("profile", "set", "--subscriber", "1", "--numero-etranger", "7501234567", "--expiry", "2026-05-31")
    assert "•••••••567" in ok("profile", "show", "--subscriber", "1")
    assert "re-encrypted 0 values" in ok("keys", "rotate")
    assert ".ics" in ok("profile", "calendar", "--subscriber", "1")
