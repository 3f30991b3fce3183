# SPDX-License-Identifier: AGPL-3.0-or-later
"""`creneau subscriber …`, `creneau watch …` and `creneau serve`: bad input is one error line and stores
nothing; good input is stored and listed. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests import pipeline_kit as kit
from tests.pipeline_kit import TARGET_ID

from creneau.cli import main

db_url, pg_url, migrated_sqlite = kit.db_url, kit.pg_url, kit.migrated_sqlite  # fixtures


@pytest.fixture(autouse=True)
def instance(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRENEAU_DATABASE_URL", db_url)
    monkeypatch.setenv("CRENEAU_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("CRENEAU_WEBHOOK_ALLOW_PRIVATE", raising=False)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as caught:
        main(list(argv))
    out, err = capsys.readouterr()
    return int(caught.value.code or 0), out, err


def listed(capsys: pytest.CaptureFixture[str], what: str) -> list[dict[str, object]]:
    code, out, _ = run(capsys, what, "list", "--json")
    assert code == 0
    rows: list[dict[str, object]] = json.loads(out)
    return rows


def add_alice(capsys: pytest.CaptureFixture[str]) -> int:
    code, out, err = run(capsys, "subscriber", "add", "--email", "alice@example.org", "--telegram", "4242", "--json")
    assert (code, err) == (0, "")
    subscriber: int = json.loads(out)["id"]
    return subscriber


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["--email", "alice.example.org"], "email address", id="email-without-at"),
        pytest.param(["--email", "a@example.org", "--telegram", "12ab"], "invalid chat", id="bad-chat-id"),
        pytest.param(["--email", "a@example.org", "--telegram", "@x"], "invalid chat", id="bad-channel-name"),
        pytest.param(["--email", "a@example.org", "--ntfy", "no spaces"], "ntfy topic", id="bad-ntfy-topic"),
        pytest.param(
            ["--email", "a@example.org", "--webhook", "http://127.0.0.1:9/h", "--webhook-secret", "s" * 20],
            "SSRF",
            id="loopback-webhook",
        ),
        pytest.param(
            ["--email", "a@example.org", "--webhook", "http://169.254.169.254/", "--webhook-secret", "s" * 20],
            "link-local",
            id="metadata-webhook",
        ),
        pytest.param(
            ["--email", "a@example.org", "--webhook", "ftp://example.org/h", "--webhook-secret", "s" * 20],
            "webhook URL",
            id="not-http-webhook",
        ),
        pytest.param(["--email", "a@example.org", "--webhook", "https://example.org/h"], "go together", id="no-secret"),
        pytest.param(["--email", "a@example.org", "--locale", "de"], "--locale", id="bad-locale"),
    ],
)
def test_subscriber_add_refuses_and_stores_nothing_when_a_value_is_bad(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, "subscriber", "add", *argv)
    assert code == 2
    assert out == ""
    (line,) = err.splitlines()
    assert line.startswith("creneau: error: ")
    assert message in line
    assert listed(capsys, "subscriber") == []


def test_subscriber_add_stores_every_channel_and_lists_them_redacted_when_valid(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(
        capsys, "subscriber", "add", "--email", "Alice@Example.org", "--telegram", "@creneau_isere",
        "--ntfy", "alice-7f3k9q", "--locale", "en",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert "email, telegram, ntfy" in out

    (row,) = listed(capsys, "subscriber")
    assert row["locale"] == "en"
    channels = row["channels"]
    assert isinstance(channels, list)
    assert [c["kind"] for c in channels] == ["email", "telegram", "ntfy"]
    assert "alice" not in json.dumps(channels).lower().replace("alice-", "")  # destinations are redacted


def test_subscriber_add_refuses_a_second_subscriber_when_the_email_is_taken(capsys: pytest.CaptureFixture[str]) -> None:
    add_alice(capsys)
    code, _, err = run(capsys, "subscriber", "add", "--email", "alice@example.org", "--ntfy", "other-topic")
    assert code == 2
    assert "already exists" in err
    (row,) = listed(capsys, "subscriber")
    assert len(row["channels"]) == 2  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        pytest.param(["--subscriber", "99", "--target", TARGET_ID], "no subscriber 99", id="unknown-subscriber"),
        pytest.param(["--target", "nowhere-1"], "unknown target 'nowhere-1'", id="unknown-target"),
        pytest.param(["--target", TARGET_ID, "--before", "2026-02-30"], "is not a date", id="bad-date"),
        pytest.param(["--target", TARGET_ID, "--before", "soon"], "is not a date", id="not-a-date"),
    ],
)
def test_watch_add_refuses_and_stores_nothing_when_a_value_is_bad(
    capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    subscriber = add_alice(capsys)
    argv = extra if "--subscriber" in extra else ["--subscriber", str(subscriber), *extra]
    code, out, err = run(capsys, "watch", "add", *argv)
    assert (code, out) == (2, "")
    (line,) = err.splitlines()
    assert message in line
    assert listed(capsys, "watch") == []


def test_watch_add_stores_the_filters_and_remove_deletes_it_when_valid(capsys: pytest.CaptureFixture[str]) -> None:
    subscriber = add_alice(capsys)
    code, out, err = run(
        capsys, "watch", "add", "--subscriber", str(subscriber), "--target", TARGET_ID,
        "--before", "01/06/2026", "--guichet", "Guichet A",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert "slots before 2026-06-01" in out

    (watch,) = listed(capsys, "watch")
    assert watch["targets"] == [TARGET_ID]
    assert watch["filters"] == {"before": "2026-06-01", "guichets": ["guichet a"], "places": []}
    assert run(capsys, "watch", "remove", str(watch["id"]))[0] == 0
    assert listed(capsys, "watch") == []
    code, _, err = run(capsys, "watch", "remove", str(watch["id"]))
    assert code == 2
    assert "no watch" in err


def test_subscriber_remove_erases_the_subscriber_with_their_watches(capsys: pytest.CaptureFixture[str]) -> None:
    subscriber = add_alice(capsys)
    run(capsys, "watch", "add", "--subscriber", str(subscriber), "--target", TARGET_ID)
    assert run(capsys, "subscriber", "remove", str(subscriber))[0] == 0
    assert listed(capsys, "subscriber") == []
    assert listed(capsys, "watch") == []


def test_serve_once_runs_a_round_and_exits_when_nothing_is_watched(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run(capsys, "serve", "--once", "--role", "monitor")
    assert code == 0


def test_serve_refuses_an_unknown_role(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "serve", "--role", "everything")
    assert code == 2
    assert "--role" in err
