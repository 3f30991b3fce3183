# SPDX-License-Identifier: AGPL-3.0-or-later
"""The hash chain of an evidence log and its export format (pure: no I/O).

Each entry of a watch's log is a JSON object (`body`) written in canonical form (keys sorted, no spaces,
UTF-8). Its hash is `SHA-256(prev + "\\n" + canonical(body))` in hex, where `prev` is the hash of the
entry before it; the first entry of a chain follows `genesis(chain_id)`. Changing an entry changes its
hash; removing or moving one breaks the `prev` link of the next.

Export (`creneau-evidence-chain`, version 1), one JSON object per line (JSON Lines):

    {"format":"creneau-evidence-chain","version":1,"chain":…,"from_seq":…,"to_seq":…,"count":…,
     "anchor":…,"final_hash":…,"period":{"from":…,"to":…},"exported_at":…,"seal":{"alg","kid","mac"}}
    {"seq":1,"prev":…,"hash":…,"body":{…}}
    …

`anchor` is the `prev` of the first exported entry (the genesis hash when `from_seq` is 1);
`final_hash` the hash of the last one. The seal is an HMAC of the canonical header without its seal, by
the instance's evidence key: a third party can check the chain, the instance can also check the seal.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

FORMAT = "creneau-evidence-chain"
VERSION = 1
_MAX_PROBLEMS = 20


def canonical(body: Mapping[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def genesis(chain_id: str) -> str:
    return hashlib.sha256(f"creneau-evidence-chain-v1:{chain_id}".encode()).hexdigest()


def link(prev: str, body_text: str) -> str:
    return hashlib.sha256(f"{prev}\n{body_text}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Entry:
    """One chained entry: `body_text` is exactly what was hashed (the store keeps it verbatim)."""

    seq: int
    prev: str
    hash: str
    body_text: str

    @property
    def body(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.body_text)
        return value


def append(prev: str, seq: int, body: Mapping[str, Any]) -> Entry:
    """The entry that follows `prev` with number `seq` (put into the body, so it is covered by the hash)."""
    text = canonical({**body, "seq": seq})
    return Entry(seq, prev, link(prev, text), text)


def header(
    chain_id: str,
    *,
    first_seq: int,
    last_seq: int,
    count: int,
    anchor: str,
    final_hash: str,
    period: Mapping[str, str],
    exported_at: str,
) -> dict[str, Any]:
    """The export header of a contiguous run of one chain (`anchor`: the first entry's `prev`), unsealed."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "chain": chain_id,
        "from_seq": first_seq,
        "to_seq": last_seq,
        "count": count,
        "anchor": anchor,
        "final_hash": final_hash,
        "period": dict(period),
        "exported_at": exported_at,
    }


def header_for(
    chain_id: str, entries: Sequence[Entry], *, period: Mapping[str, str], exported_at: str
) -> dict[str, Any]:
    """`header` for a list of entries held in memory."""
    return header(
        chain_id,
        first_seq=entries[0].seq if entries else 0,
        last_seq=entries[-1].seq if entries else 0,
        count=len(entries),
        anchor=entries[0].prev if entries else "",
        final_hash=entries[-1].hash if entries else "",
        period=period,
        exported_at=exported_at,
    )


def seal_bytes(head: Mapping[str, Any]) -> bytes:
    return canonical({k: v for k, v in head.items() if k != "seal"}).encode()


def line(entry: Entry) -> bytes:
    """One entry's export line (newline included); `body` is the stored canonical text, verbatim."""
    return f'{{"body":{entry.body_text},"hash":"{entry.hash}","prev":"{entry.prev}","seq":{entry.seq}}}\n'.encode()


def write(head: Mapping[str, Any], entries: Iterable[Entry]) -> bytes:
    """The JSON Lines export: the header, then one line per entry."""
    return canonical(head).encode() + b"\n" + b"".join(line(e) for e in entries)


@dataclass(slots=True)
class Verdict:
    """What `verify` found. `ok` only when no problem at all; `seal` is valid/invalid/unknown-key/absent."""

    count: int = 0
    final_hash: str = ""
    chain: str = ""
    head: dict[str, Any] = field(default_factory=dict)
    seal: str = "absent"
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.seal != "invalid"

    def add(self, problem: str) -> None:
        if len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(problem)
        elif len(self.problems) == _MAX_PROBLEMS:
            self.problems.append("… more problems not listed")


def read(data: bytes) -> tuple[dict[str, Any], Iterator[tuple[int, Any]]]:
    """Split an export into its header and its (line number, parsed line or None) pairs, parsed lazily;
    raises ValueError when it is not a creneau chain at all."""
    first, _, rest = data.partition(b"\n")
    try:
        head = json.loads(first)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValueError("not a creneau evidence chain (first line is not JSON)") from None
    if not isinstance(head, dict) or head.get("format") != FORMAT:
        raise ValueError("not a creneau evidence chain (no creneau-evidence-chain header)")
    if head.get("version") != VERSION:
        raise ValueError(f"unsupported chain version {head.get('version')!r}")

    def lines() -> Iterator[tuple[int, Any]]:
        position, number = 0, 1
        while position < len(rest):
            end = rest.find(b"\n", position)
            end = len(rest) if end < 0 else end
            raw = rest[position:end]
            position, number = end + 1, number + 1
            if not raw.strip():
                continue
            try:
                yield number, json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                yield number, None

    return head, lines()


def verify(data: bytes, *, check_seal: Any = None) -> Verdict:
    """Check an export: every entry's hash, every link, the numbering, and the header's count, anchor and
    final hash; `check_seal(bytes, seal) -> bool | None` (a `Keyring.check_seal`) checks the seal.

    Any change, removal, insertion or reordering of entries gives at least one problem.
    """
    head, lines = read(data)
    verdict = Verdict(chain=str(head.get("chain", "")), head=head)
    expected_prev = str(head.get("anchor", ""))
    expected_seq = int(head.get("from_seq", 0))
    if expected_seq == 1 and expected_prev != genesis(verdict.chain):
        verdict.add("header: the chain does not start at its genesis")
    last_hash = ""
    for number, item in lines:
        if not isinstance(item, dict) or not isinstance(item.get("body"), dict):
            verdict.add(f"line {number}: not a chain entry")
            continue
        seq, prev, claimed = item.get("seq"), item.get("prev"), item.get("hash")
        text = canonical(item["body"])
        if item["body"].get("seq") != seq:
            verdict.add(f"line {number}: entry number {seq} differs from the number inside it")
        if link(str(prev), text) != claimed:
            verdict.add(f"line {number}: entry {seq} was changed (its hash does not match its content)")
        if prev != expected_prev:
            verdict.add(f"line {number}: entry {seq} does not follow the entry before it (removed, inserted or moved)")
        if seq != expected_seq:
            verdict.add(f"line {number}: entry {seq} found where entry {expected_seq} was expected")
        expected_prev = str(claimed)
        expected_seq = (seq if isinstance(seq, int) else expected_seq) + 1
        last_hash = str(claimed)
        verdict.count += 1
    verdict.final_hash = last_hash
    if verdict.count != head.get("count"):
        verdict.add(f"header: {head.get('count')} entries announced, {verdict.count} found")
    if last_hash != head.get("final_hash", ""):
        verdict.add("header: the final hash differs from the last entry's (entries removed or added at the end)")
    if verdict.count and head.get("to_seq") != expected_seq - 1:
        verdict.add("header: the last entry number differs from the header's")
    seal = head.get("seal")
    if isinstance(seal, dict):
        result = check_seal(seal_bytes(head), seal) if check_seal is not None else None
        verdict.seal = "unknown-key" if result is None else ("valid" if result else "invalid")
    return verdict
