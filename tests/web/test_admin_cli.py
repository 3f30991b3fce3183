# SPDX-License-Identifier: AGPL-3.0-or-later
"""`creneau admin grant|revoke|list`: the operator role from the command line; bad input is one error line
and changes nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from creneau.cli import main
from creneau.store import Store
from creneau.web.admin_cli import operators


@pytest.fixture(autouse=True)
def instance(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRENEAU_DATABASE_URL", db_url)
    monkeypatch.setenv("CRENEAU_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CRENEAU_WEB_ADMIN_EMAILS", '["listed@example.org"]')


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as caught:
        main(list(argv))
    out, err = capsys.readouterr()
    return int(caught.value.code or 0), out, err


def admins(db_url: str) -> list[str]:
    async def read() -> list[str]:
        store = await Store.open(db_url)
        try:
            return await operators(store)
        finally:
            await store.close()

    return asyncio.run(read())


def test_admin_grant_creates_the_account_when_the_person_never_signed_in(
    capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    code, out, err = run(capsys, "admin", "grant", " Ops@Example.org ")
    assert (code, err) == (0, "")
    assert "ops@example.org is an operator (new account" in out
    assert admins(db_url) == ["ops@example.org"]
    assert run(capsys, "admin", "list")[1] == "ops@example.org\n"


def test_admin_grant_then_revoke_changes_only_the_role_when_the_account_exists(
    capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    run(capsys, "admin", "grant", "ops@example.org")
    code, out, _ = run(capsys, "admin", "grant", "ops@example.org")
    assert (code, out) == (0, "ops@example.org is an operator\n")
    code, out, _ = run(capsys, "admin", "revoke", "ops@example.org")
    assert (code, out) == (0, "ops@example.org is no longer an operator\n")
    assert admins(db_url) == []
    assert run(capsys, "admin", "list")[1] == "(none)\n"


def test_admin_revoke_warns_when_the_address_is_in_the_admin_settings(capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "admin", "grant", "listed@example.org")
    code, out, _ = run(capsys, "admin", "revoke", "listed@example.org")
    assert code == 0
    assert "CRENEAU_WEB_ADMIN_EMAILS" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["grant", "not-an-address"], "not an e-mail address", id="grant-bad-address"),
        pytest.param(["revoke", "a@@example.org"], "not an e-mail address", id="revoke-bad-address"),
        pytest.param(["revoke", "nobody@example.org"], "no account for nobody@example.org", id="revoke-unknown"),
    ],
)
def test_admin_command_prints_one_error_line_and_changes_nothing_when_input_is_bad(
    capsys: pytest.CaptureFixture[str], db_url: str, argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, "admin", *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("creneau: error: ")
    assert message in err
    assert admins(db_url) == []
