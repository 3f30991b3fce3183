# SPDX-License-Identifier: AGPL-3.0-or-later
"""Closest-name suggestions for a commune name nobody recognises, fast enough for an interactive command.

A trigram index (built on first use, ~37,000 name keys) picks a short list of candidates sharing the most
trigrams with the query; `difflib` then scores only those. Scores are in [0, 1].
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from difflib import SequenceMatcher


def trigrams(key: str) -> set[str]:
    padded = f"  {key} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


class NameIndex:
    def __init__(self, keys: Iterable[str]) -> None:
        self.keys = sorted(set(keys))
        self._postings: dict[str, list[int]] = {}
        for i, key in enumerate(self.keys):
            for gram in trigrams(key):
                self._postings.setdefault(gram, []).append(i)

    def closest(self, key: str, limit: int = 5, shortlist: int = 60, cutoff: float = 0.55) -> list[tuple[str, float]]:
        """The best `limit` keys with their similarity to `key`, best first, none below `cutoff`."""
        if not key:
            return []
        counts: Counter[int] = Counter()
        for gram in trigrams(key):
            counts.update(self._postings.get(gram, ()))
        scored = []
        for index, _ in counts.most_common(shortlist):
            candidate = self.keys[index]
            score = SequenceMatcher(None, key, candidate, autojunk=False).ratio()
            if score >= cutoff:
                scored.append((candidate, score))
        scored.sort(key=lambda item: (-item[1], item[0]))
        return scored[:limit]
