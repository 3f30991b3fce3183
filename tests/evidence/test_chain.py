# SPDX-License-Identifier: AGPL-3.0-or-later
"""The hash chain and its export: any change, removal, insertion or reordering is detected."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from creneau.evidence import chain
from creneau.evidence.crypto import Keyring

KEYRING = Keyring("chain-test-key")


def build(n: int, *, first: int = 1) -> list[chain.Entry]:
    prev = chain.genesis("c1")
    out: list[chain.Entry] = []
    for seq in range(1, first + n):
        entry = chain.append(prev, seq, {"kind": "attempt", "outcome": "no_slots", "at": f"2026-03-{seq % 28 + 1:02d}"})
        prev = entry.hash
        if seq >= first:
            out.append(entry)
    return out


def export(entries: list[chain.Entry]) -> bytes:
    head = chain.header_for("c1", entries, period={"from": "2026-03-01", "to": "2026-03-31"}, exported_at="now")
    head["seal"] = KEYRING.seal(chain.seal_bytes(head))
    return chain.write(head, entries)


def lines_of(data: bytes) -> list[bytes]:
    return data.rstrip(b"\n").split(b"\n")


def test_verify_accepts_export_when_untouched() -> None:
    verdict = chain.verify(export(build(12)), check_seal=KEYRING.check_seal)
    assert verdict.ok, verdict.problems
    assert (verdict.count, verdict.seal) == (12, "valid")


def test_verify_accepts_export_when_it_starts_mid_chain() -> None:
    verdict = chain.verify(export(build(5, first=8)), check_seal=KEYRING.check_seal)
    assert verdict.ok, verdict.problems
    assert verdict.head["from_seq"] == 8


@pytest.mark.parametrize(
    ("check", "expected"),
    [
        pytest.param(None, "unknown-key", id="no-key"),
        pytest.param(Keyring("other").check_seal, "unknown-key", id="other-key"),
        pytest.param(Keyring("other", ["chain-test-key"]).check_seal, "valid", id="rotated-key"),
    ],
)
def test_verify_reports_seal_when_key_is_missing_or_old(check: object, expected: str) -> None:
    assert chain.verify(export(build(3)), check_seal=check).seal == expected


def test_verify_flags_seal_when_header_is_rewritten() -> None:
    data = lines_of(export(build(4)))
    head = json.loads(data[0])
    head["period"]["from"] = "2026-02-01"
    verdict = chain.verify(b"\n".join([json.dumps(head).encode(), *data[1:]]), check_seal=KEYRING.check_seal)
    assert verdict.seal == "invalid"
    assert not verdict.ok


def test_read_refuses_file_when_it_is_not_a_chain() -> None:
    with pytest.raises(ValueError, match="not a creneau evidence chain"):
        chain.read(b"hello\nworld\n")


@st.composite
def tampered(draw: st.DrawFn) -> tuple[bytes, str]:
    n = draw(st.integers(min_value=2, max_value=15))
    data = lines_of(export(build(n)))
    head, body = data[0], data[1:]
    action = draw(st.sampled_from(["edit-field", "edit-byte", "remove", "swap", "duplicate", "move"]))
    i = draw(st.integers(min_value=0, max_value=n - 1))
    if action == "edit-field":
        item = json.loads(body[i])
        field = draw(st.sampled_from(["outcome", "at", "kind", "seq", "extra"]))
        old = item["body"].get(field)
        item["body"][field] = draw(st.text(min_size=1, max_size=8).filter(lambda v: v != old))
        body[i] = json.dumps(item, ensure_ascii=False).encode()
    elif action == "edit-byte":
        line = bytearray(body[i])
        k = draw(st.integers(min_value=0, max_value=len(line) - 1))
        line[k] = draw(st.integers(min_value=32, max_value=126).filter(lambda b: b != line[k]))
        body[i] = bytes(line)
    elif action == "remove":
        del body[i]
    elif action == "swap":
        j = draw(st.integers(min_value=0, max_value=n - 1).filter(lambda j: j != i))
        body[i], body[j] = body[j], body[i]
    elif action == "duplicate":
        body.insert(i, body[i])
    else:
        j = draw(st.integers(min_value=0, max_value=n - 1).filter(lambda j: j != i))
        body.insert(j, body.pop(i))
    return b"\n".join([head, *body]) + b"\n", action


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tampered())
def test_verify_detects_tampering_when_entries_are_edited_removed_or_reordered(case: tuple[bytes, str]) -> None:
    data, action = case
    verdict = chain.verify(data, check_seal=KEYRING.check_seal)
    assert not verdict.ok, f"{action} went unnoticed"
    assert verdict.problems or verdict.seal == "invalid"
