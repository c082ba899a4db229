"""From ranked matches to what the bot does: answer, "Did you mean…" suggestions, or fallback.

* **answer**: the best entry's score is at least ``answer`` *and* it leads the runner-up by at
  least ``margin`` (two entries that match equally well are a question for the visitor, not a coin
  toss);
* **suggest**: otherwise, up to ``max_suggestions`` entries scoring at least ``suggest`` and within
  ``window`` of the best;
* **fallback**: nothing reaches ``suggest``.

The default thresholds were calibrated on the calibration half of the labelled set in
``bench/data/`` (``bench/bot_quality.py --calibrate`` redoes it) and are reported on the other,
held-out half. They differ between lexical-only scores (an IDF-weighted share of the query's words)
and lexical+semantic scores (a blend with the cosine similarity of sentence embeddings), which have
different scales.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .ranker import Entry, Match

__all__ = ["Thresholds", "Decision", "LEXICAL_THRESHOLDS", "SEMANTIC_THRESHOLDS", "decide"]

Kind = Literal["answer", "suggest", "fallback"]


@dataclass(frozen=True)
class Thresholds:
    answer: float
    suggest: float
    margin: float = 0.0
    window: float = 1.0
    max_suggestions: int = 3

    def __post_init__(self):
        if not 0 <= self.suggest <= self.answer:
            raise ValueError("need 0 <= suggest <= answer")


# Calibrated with `bench/bot_quality.py --calibrate` on the calibration half of bench/data: grid
# search for the most right answers (plus half a point per suggestion list holding the right entry)
# subject to >= 90% correct fallback and <= 3% wrong answers, with margin >= 0.03 as a product rule
# (near-ties are asked about); among equally good settings the middle one. README "Bot matching
# quality" has how they do on the held-out half.
#
# Lexical scores are an IDF-weighted share of the query's words: paraphrases rarely reach 0.82, so
# lexical-only mostly suggests. With the semantic re-rank (0.2 lexical + 0.8 cosine) the calibrated
# suggest threshold equals the answer threshold: below 0.60 out-of-scope questions were about as
# common as in-scope ones, so "Did you mean…" is kept for entries within 0.03 of each other above
# 0.60. A tenant that prefers suggestions to fallbacks lowers ``suggest`` (the benchmark prints the
# trade-off).
LEXICAL_THRESHOLDS = Thresholds(answer=0.82, suggest=0.52, margin=0.05, window=0.15)
SEMANTIC_THRESHOLDS = Thresholds(answer=0.60, suggest=0.60, margin=0.03, window=0.15)


@dataclass(frozen=True)
class Decision:
    kind: Kind
    entry: Entry | None = None  # the answer, when kind == "answer"
    suggestions: tuple[Entry, ...] = ()  # when kind == "suggest" (1 to 3 entries)
    score: float = 0.0  # best score seen
    matches: tuple[Match, ...] = field(default=(), repr=False)  # what the decision was made from
    reason: str = ""

    @property
    def answered(self) -> bool:
        return self.kind == "answer"


def decide(matches: list[Match], entries: dict[str, Entry] | callable, thresholds: Thresholds) -> Decision:
    """Apply ``thresholds`` to ranked ``matches`` (best first); ``entries`` resolves ids."""
    lookup = entries.get if isinstance(entries, dict) else entries
    resolved = [(m, lookup(m.entry_id)) for m in matches]
    resolved = [(m, e) for m, e in resolved if e is not None and e.enabled]
    if not resolved:
        return Decision("fallback", reason="no match")
    top, top_entry = resolved[0]
    runner_up = resolved[1][0].score if len(resolved) > 1 else 0.0
    if top.score >= thresholds.answer and top.score - runner_up >= thresholds.margin:
        return Decision("answer", entry=top_entry, score=top.score, matches=tuple(m for m, _ in resolved), reason="confident")
    picks = tuple(
        e for m, e in resolved[: thresholds.max_suggestions]
        if m.score >= thresholds.suggest and top.score - m.score <= thresholds.window
    )
    if picks:
        why = "close runner-up" if top.score >= thresholds.answer else "middling score"
        return Decision("suggest", suggestions=picks, score=top.score, matches=tuple(m for m, _ in resolved), reason=why)
    return Decision("fallback", score=top.score, matches=tuple(m for m, _ in resolved), reason="low score")
