# SPDX-License-Identifier: AGPL-3.0-or-later
"""`creneau db upgrade|current` on both engines; bad URLs end as one error line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from creneau.cli import CliError, build_app
from creneau.store.migrate import head_revision
from creneau.store.testing import pg_schema_or_skip

from .conftest import BACKENDS

runner = CliRunner()
APP = build_app()


@pytest.fixture(params=BACKENDS)
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'var' / 'creneau.sqlite3'}"
        return
    with pg_schema_or_skip() as url:
        yield url


def test_db_upgrade_migrates_then_current_reports_head_when_run(fresh_url: str) -> None:
    before = runner.invoke(APP, ["db", "current", "--url", fresh_url])
    assert (before.exit_code, before.output.strip()) == (0, "none")
    result = runner.invoke(APP, ["db", "upgrade", "--url", fresh_url])
    assert result.exit_code == 0, (result.output, result.exception)
    assert f"revision {head_revision()}" in result.output
    after = runner.invoke(APP, ["db", "current", "--url", fresh_url])
    assert after.output.strip() == head_revision()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        pytest.param("mysql://x@localhost/db", "unsupported database 'mysql'", id="unsupported"),
        pytest.param("postgresql+psycopg://nobody@127.0.0.1:1/none", "cannot use the database", id="unreachable"),
    ],
)
def test_db_upgrade_prints_one_error_line_when_database_is_unusable(url: str, message: str) -> None:
    result = runner.invoke(APP, ["db", "upgrade", "--url", url])
    assert isinstance(result.exception, CliError), (result.output, result.exception)
    assert message in str(result.exception)
    assert "\n" not in str(result.exception)
