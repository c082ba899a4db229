"""The matching engine of one tenant's knowledge base (saas.services.knowledge_base keeps one
per tenant and process, rebuilt when the tenant's knowledge-base version moves)."""
from __future__ import annotations

from typing import Iterable

from .decide import LEXICAL_THRESHOLDS, SEMANTIC_THRESHOLDS, Decision, Thresholds, decide
from .ranker import Entry, LexicalIndex, Match
from .text import MAX_TEXT_CHARS, has_cjk

__all__ = ["KnowledgeMatcher"]

# Blend of the two scores when the semantic re-rank runs: score = (1 - w) * lexical + w * cosine.
# Calibrated with the thresholds (bench/bot_quality.py --calibrate).
SEMANTIC_WEIGHT = 0.8
# How many entries the re-rank looks at: the lexical top N plus the semantic top N.
CANDIDATES = 30


class KnowledgeMatcher:
    """Lexical BM25 ranking, an optional semantic re-rank, and the answer/suggest/fallback decision.

    ``semantic``: False (lexical only), True (load the packaged model; raises if the extra is
    missing), "auto" (use it when installed), or an ``Embedder`` to share.

    Queries: a non-string raises TypeError; an empty or blank one is a fallback; anything longer
    than ``MAX_TEXT_CHARS`` characters is cut to that length before any work. Text is only ever
    matched as text (HTML is not parsed or rendered here).

    The Chinese part of the knowledge base is matched lexically only: the packaged model is an
    English one. A query containing Chinese characters is scored with the lexical score and
    thresholds even when the semantic re-rank is on.
    """

    def __init__(
        self,
        entries: Iterable[Entry] = (),
        *,
        semantic=False,
        lexical_thresholds: Thresholds = LEXICAL_THRESHOLDS,
        semantic_thresholds: Thresholds = SEMANTIC_THRESHOLDS,
        semantic_weight: float = SEMANTIC_WEIGHT,
        candidates: int = CANDIDATES,
        lexical_options: dict | None = None,
    ):
        entries = list(entries)
        self.lexical = LexicalIndex(entries, **(lexical_options or {}))
        self.semantic = None
        embedder = self._embedder(semantic)
        if embedder is not None:
            from .semantic import SemanticIndex

            self.semantic = SemanticIndex(embedder)
            self.semantic.set_entries(entries)
        self.lexical_thresholds = lexical_thresholds
        self.semantic_thresholds = semantic_thresholds
        self.semantic_weight = semantic_weight
        self.candidates = candidates

    @staticmethod
    def _embedder(semantic):
        if semantic is False or semantic is None:
            return None
        from . import semantic as sem

        if semantic == "auto":
            return sem.default_embedder() if sem.semantic_available() else None
        if semantic is True:
            return sem.default_embedder()
        return semantic  # an Embedder (or anything with .encode)

    @property
    def uses_semantic(self) -> bool:
        return self.semantic is not None

    # ---- entries --------------------------------------------------------------------------
    def add(self, entry: Entry) -> None:
        """Add or replace an entry (by id); visible to the next query."""
        if self.semantic is not None:
            self.semantic.set_entry(entry)  # encode first: the slow part stays outside the lexical write lock
        self.lexical.add(entry)

    update = upsert = add

    def remove(self, entry_id: str) -> bool:
        removed = self.lexical.remove(entry_id)
        if self.semantic is not None:
            self.semantic.remove(entry_id)
        return removed

    def get(self, entry_id: str) -> Entry | None:
        return self.lexical.get(entry_id)

    def __len__(self) -> int:
        return len(self.lexical)

    # ---- queries --------------------------------------------------------------------------
    @staticmethod
    def _prepare(query) -> str:
        if not isinstance(query, str):
            raise TypeError(f"query must be str, not {type(query).__name__}")
        return query[:MAX_TEXT_CHARS].strip()

    def _semantic_applies(self, query: str) -> bool:
        return self.semantic is not None and not has_cjk(query)

    def search(self, query: str, k: int = 5) -> list[Match]:
        """Best ``k`` enabled entries, best first, scored on the scale of the thresholds in use."""
        query = self._prepare(query)
        if not query or k <= 0:
            return []
        if not self._semantic_applies(query):
            return self.lexical.search(query, k)
        lexical = {m.entry_id: m for m in self.lexical.search(query, self.candidates)}
        sims = self.semantic.similarities(self.semantic.encode_query(self.lexical.spell_corrected(query)))
        ids = set(lexical) | set(sorted(sims, key=sims.get, reverse=True)[: self.candidates])
        w = self.semantic_weight
        out = []
        for entry_id in ids:
            cos = sims.get(entry_id)
            if cos is None:  # disabled, or without texts
                continue
            lex = lexical.get(entry_id)
            lex_score = lex.lexical if lex else 0.0
            score = (1 - w) * lex_score + w * max(0.0, cos)
            out.append(
                Match(entry_id, score, lex_score, lex.bm25 if lex else 0.0, lex.matched if lex else "", semantic=cos)
            )
        out.sort(key=lambda m: (m.score, m.lexical), reverse=True)
        return out[:k]

    def thresholds_for(self, query: str) -> Thresholds:
        return self.semantic_thresholds if self._semantic_applies(self._prepare(query)) else self.lexical_thresholds

    def decide(self, query: str) -> Decision:
        """answer / suggest (up to 3) / fallback for one visitor message."""
        query = self._prepare(query)
        if not query:
            return Decision("fallback", reason="empty query")
        thresholds = self.thresholds_for(query)
        matches = self.search(query, k=max(thresholds.max_suggestions, 2) + 1)
        return decide(matches, self.lexical.get, thresholds)
