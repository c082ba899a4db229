"""Lexical ranking of knowledge-base entries: BM25 over questions and phrasings.

Every enabled entry contributes one *document* per text (its question and each phrasing). A query
is scored with BM25 against every document that shares a term with it, and an entry's score is the
best score of its documents (max aggregation): phrasings are alternative ways of asking the same
thing, so a query needs to match one of them well, not all of them a little. Two refinements:

* **IDF is counted over entries, not documents.** An entry with six phrasings that all say
  "refund" would otherwise make "refund" look common and weaken exactly the word that identifies
  it. Term frequency and length normalisation stay per document.
* **A confidence in [0, 1]** is reported next to the raw BM25 score, because raw BM25 grows with
  the query's length and can't be compared with a fixed threshold. The confidence is the
  IDF-weighted share of the query's terms that the entry's best document contains, where terms the
  knowledge base has never seen count too (with weight ``oov_weight``): "reset my router password"
  shares "reset" and "password" with the password entry, but "router" is unknown, so it is a
  partial match, not a confident one. A small factor also rewards documents that are covered by
  the query (so that "password" alone does not fully match a 10-word phrasing).

Misspelt query words (an unknown word of 4+ letters one edit away from a word of the entries:
insertion, deletion, substitution or swap of neighbours) are corrected against the index's
vocabulary with a symmetric-delete table, and unknown run-together words are split into two known
ones ("giftcard"), both at a discount (``typo_weight``). ``spell_corrected()`` gives the corrected
query text to the semantic model, which has no typo tolerance of its own.

Updates are incremental: ``add``/``update``/``remove`` touch only the postings of the entry's own
terms; the per-document length norms are recomputed lazily (one pass over the documents, on the
next search after a change of the average length). Reads take a shared lock and writes an exclusive
one, so searches from many threads run alongside each other and never see a half-applied update.
"""
from __future__ import annotations

import heapq
import math
import re
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Iterable

from .text import english_term, term_pairs

__all__ = ["Entry", "Match", "LexicalIndex", "RWLock"]


@dataclass(frozen=True)
class Entry:
    """One knowledge-base entry: the question, other ways of asking it, and the answer."""

    id: str
    question: str
    phrasings: tuple[str, ...] = ()
    answer: str = ""
    enabled: bool = True
    category: str = ""

    def __post_init__(self):
        if not isinstance(self.id, str) or not self.id:
            raise ValueError("entry id must be a non-empty string")
        phrasings = self.phrasings
        if isinstance(phrasings, str):
            phrasings = tuple(p for p in phrasings.split("|"))
        object.__setattr__(self, "phrasings", tuple(p.strip() for p in phrasings if p and p.strip()))

    def texts(self) -> list[str]:
        """The question and the phrasings: the documents this entry is matched on."""
        out = []
        for text in (self.question, *self.phrasings):
            if text and text.strip() and text.strip() not in out:
                out.append(text.strip())
        return out


@dataclass(frozen=True)
class Match:
    entry_id: str
    score: float  # what results are ranked by; in [0, 1]
    lexical: float  # lexical confidence in [0, 1]
    bm25: float  # raw BM25 of the best document
    matched: str  # text of the entry's best document
    semantic: float | None = None  # cosine similarity, when a semantic re-rank ran


class RWLock:
    """Many readers or one writer; a waiting writer holds off new readers."""

    def __init__(self):
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0

    def acquire_read(self):
        with self._cond:
            while self._writer or self._writers_waiting:
                self._cond.wait()
            self._readers += 1

    def release_read(self):
        with self._cond:
            self._readers -= 1
            if not self._readers:
                self._cond.notify_all()

    def acquire_write(self):
        with self._cond:
            self._writers_waiting += 1
            while self._writer or self._readers:
                self._cond.wait()
            self._writers_waiting -= 1
            self._writer = True

    def release_write(self):
        with self._cond:
            self._writer = False
            self._cond.notify_all()

    class _Guard:
        def __init__(self, acquire, release):
            self._acquire, self._release = acquire, release

        def __enter__(self):
            self._acquire()

        def __exit__(self, *exc):
            self._release()

    def read(self):
        return self._Guard(self.acquire_read, self.release_read)

    def write(self):
        return self._Guard(self.acquire_write, self.release_write)


@dataclass
class _Doc:
    entry_id: str
    text: str
    tf: Counter
    length: int


def _deletes(term: str) -> set[str]:
    """The term and every string one deletion away from it (symmetric-delete spelling keys)."""
    return {term} | {term[:i] + term[i + 1 :] for i in range(len(term))}


def _within_one_edit(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance <= 1 (insert, delete, substitute, swap neighbours)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    if la > lb:
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1 :]


class LexicalIndex:
    """BM25 index of one tenant's entries. See the module docstring for the scoring."""

    def __init__(
        self,
        entries: Iterable[Entry] = (),
        *,
        k1: float = 1.2,
        b: float = 0.5,
        oov_weight: float = 0.6,
        typo_weight: float = 0.7,
        doc_coverage_weight: float = 0.15,
    ):
        self.k1, self.b = k1, b
        self.oov_weight, self.typo_weight = oov_weight, typo_weight
        self.doc_coverage_weight = doc_coverage_weight
        self._lock = RWLock()
        self._entries: dict[str, Entry] = {}
        self._entry_docs: dict[str, list[int]] = {}
        self._entry_terms: dict[str, set[str]] = {}
        self._docs: dict[int, _Doc] = {}
        self._postings: dict[str, dict[int, int]] = {}
        self._df: dict[str, int] = {}  # number of enabled entries whose texts contain the term
        self._words: Counter = Counter()  # surface words of enabled texts (for spelling)
        self._spell: dict[str, set[str]] = {}  # deletion key -> surface words
        self._next_doc = 0
        self._total_len = 0
        self._norms: dict[int, float] | None = None  # doc -> k1 * (1 - b + b * len / avglen)
        self._norm_avg = 0.0
        self.version = 0  # bumped by every change
        for entry in entries:
            self._add(entry)

    # ---- writes ---------------------------------------------------------------------------
    def add(self, entry: Entry) -> None:
        """Add an entry; an entry with the same id is replaced."""
        with self._lock.write():
            self._remove(entry.id)
            self._add(entry)

    update = add

    def remove(self, entry_id: str) -> bool:
        with self._lock.write():
            return self._remove(entry_id)

    def _add(self, entry: Entry) -> None:
        self._entries[entry.id] = entry
        self.version += 1
        if not entry.enabled:
            return
        doc_ids, seen = [], set()
        for text in entry.texts():
            pairs = term_pairs(text)
            if not pairs:
                continue
            terms = [term for _, term in pairs]
            doc_id, self._next_doc = self._next_doc, self._next_doc + 1
            tf = Counter(terms)
            self._docs[doc_id] = _Doc(entry.id, text, tf, len(terms))
            self._total_len += len(terms)
            for term, count in tf.items():
                self._postings.setdefault(term, {})[doc_id] = count
            for word, _ in pairs:
                self._words[word] += 1
                if self._words[word] == 1 and len(word) >= 3 and word.isascii():
                    for key in _deletes(word):
                        self._spell.setdefault(key, set()).add(word)
            seen.update(tf)
            doc_ids.append(doc_id)
        self._entry_docs[entry.id] = doc_ids
        self._entry_terms[entry.id] = seen
        for term in seen:
            self._df[term] = self._df.get(term, 0) + 1
        if self._norms is not None:
            if self._avg_changed():
                self._norms = None
            else:
                for doc_id in doc_ids:
                    self._norms[doc_id] = self._norm(self._docs[doc_id].length)

    def _remove(self, entry_id: str) -> bool:
        entry = self._entries.pop(entry_id, None)
        if entry is None:
            return False
        self.version += 1
        for doc_id in self._entry_docs.pop(entry_id, []):
            doc = self._docs.pop(doc_id)
            self._total_len -= doc.length
            for term in doc.tf:
                postings = self._postings[term]
                del postings[doc_id]
                if not postings:
                    del self._postings[term]
            for word, _ in term_pairs(doc.text):
                self._words[word] -= 1
                if self._words[word] <= 0:
                    del self._words[word]
                    if len(word) >= 3 and word.isascii():
                        for key in _deletes(word):
                            bucket = self._spell.get(key)
                            if bucket is not None:
                                bucket.discard(word)
                                if not bucket:
                                    del self._spell[key]
            if self._norms is not None:
                self._norms.pop(doc_id, None)
        for term in self._entry_terms.pop(entry_id, set()):
            df = self._df[term] - 1
            if df:
                self._df[term] = df
            else:
                del self._df[term]
        if self._norms is not None and self._avg_changed():
            self._norms = None
        return True

    # ---- reads ----------------------------------------------------------------------------
    def get(self, entry_id: str) -> Entry | None:
        return self._entries.get(entry_id)

    def entries(self) -> list[Entry]:
        with self._lock.read():
            return list(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def n_enabled(self) -> int:
        return len(self._entry_docs)

    @property
    def n_docs(self) -> int:
        return len(self._docs)

    def vocabulary_size(self) -> int:
        return len(self._df)

    def search(self, query: str, k: int | None = 5) -> list[Match]:
        """The ``k`` best enabled entries for ``query`` (all matching ones if k is None), best first."""
        if not isinstance(query, str):
            raise TypeError(f"query must be str, not {type(query).__name__}")
        if k is not None and k <= 0:
            return []
        pairs = term_pairs(query)
        if not pairs:
            return []
        with self._lock.read():
            return self._search(pairs, k)

    def spell_corrected(self, query: str) -> str:
        """``query`` with misspelt words replaced by the knowledge base's spelling ("canel" ->
        "cancel"); the query itself when nothing needed correcting. Feeds the semantic model, which
        has no typo tolerance of its own."""
        if not isinstance(query, str):
            raise TypeError(f"query must be str, not {type(query).__name__}")
        replacements = {}
        with self._lock.read():
            for word, term in term_pairs(query):
                if term not in self._df and word not in replacements:
                    fixed = self._correct(word)
                    if fixed is not None:
                        replacements[word] = fixed
        if not replacements:
            return query
        pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in replacements) + r")\b", re.IGNORECASE)
        return pattern.sub(lambda m: replacements.get(m.group(0).casefold(), m.group(0)), query)

    # ---- internals ------------------------------------------------------------------------
    def _avg(self) -> float:
        return self._total_len / len(self._docs) if self._docs else 1.0

    def _avg_changed(self) -> bool:
        avg = self._avg()
        return abs(avg - self._norm_avg) > 0.02 * max(self._norm_avg, 1e-9)

    def _norm(self, length: int) -> float:
        return self.k1 * (1 - self.b + self.b * length / self._norm_avg)

    def _ensure_norms(self) -> dict[int, float]:
        norms = self._norms
        if norms is None:
            # Built under a read lock: two readers may both build it; either result is right.
            self._norm_avg = self._avg()
            norms = {doc_id: self._norm(doc.length) for doc_id, doc in self._docs.items()}
            self._norms = norms
        return norms

    def _idf(self, df: int) -> float:
        n = len(self._entry_docs)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def _correct(self, word: str) -> str | None:
        """A known word one edit away from the unknown ``word`` (the most frequent); else None."""
        if not 4 <= len(word) <= 30 or not word.isascii() or not word.isalpha():
            return None
        candidates: set[str] = set()
        for key in _deletes(word):
            candidates |= self._spell.get(key, set())
        best = None
        for cand in candidates:
            if english_term(cand) in self._df and _within_one_edit(word, cand):
                if best is None or (self._words[cand], cand) > (self._words[best], best):
                    best = cand
        return best

    def _split_compound(self, word: str) -> list[str]:
        """Known terms that an unknown run-together word is made of ("giftcard" -> gift, card)."""
        if not 6 <= len(word) <= 30 or not word.isascii() or not word.isalpha():
            return []
        for i in range(3, len(word) - 2):
            left, right = english_term(word[:i]), english_term(word[i:])
            if left and right and left in self._df and right in self._df:
                return [left, right]
        return []

    def _search(self, pairs: list[tuple[str, str]], k: int | None) -> list[Match]:
        if not self._docs:
            return []
        norms = self._ensure_norms()
        k1p1 = self.k1 + 1.0
        max_idf = self._idf(0)
        weighted: dict[str, float] = {}  # index term -> idf * discount
        query_mass = 0.0
        seen = set()
        for word, term in pairs:
            if term in seen:
                continue
            seen.add(term)
            if term in self._df:
                w = self._idf(self._df[term])
                weighted[term] = weighted.get(term, 0.0) + w
                query_mass += w
                continue
            fixed = self._correct(word)
            parts = [english_term(fixed)] if fixed is not None else self._split_compound(word)
            if parts:
                for part in parts:
                    w = self._idf(self._df[part]) * self.typo_weight
                    weighted[part] = weighted.get(part, 0.0) + w
                    query_mass += w
            else:
                query_mass += max_idf * self.oov_weight
        if not weighted:
            return []
        scores: dict[int, float] = {}
        matched: dict[int, float] = {}
        for term, w in weighted.items():
            for doc_id, tf in self._postings[term].items():
                scores[doc_id] = scores.get(doc_id, 0.0) + w * tf * k1p1 / (tf + norms[doc_id])
                matched[doc_id] = matched.get(doc_id, 0.0) + w
        # Best document per entry.
        best: dict[str, tuple[float, int]] = {}
        docs = self._docs
        for doc_id, score in scores.items():
            entry_id = docs[doc_id].entry_id
            held = best.get(entry_id)
            if held is None or score > held[0]:
                best[entry_id] = (score, doc_id)
        dcw = self.doc_coverage_weight
        idf_cache: dict[str, float] = {}
        df = self._df
        ranked = []
        for entry_id, (score, doc_id) in best.items():
            doc = docs[doc_id]
            q_cov = matched[doc_id] / query_mass
            doc_mass = 0.0
            for t in doc.tf:
                w = idf_cache.get(t)
                if w is None:
                    w = idf_cache[t] = self._idf(df[t])
                doc_mass += w
            d_cov = min(1.0, matched[doc_id] / doc_mass) if doc_mass else 1.0
            conf = min(1.0, q_cov) * ((1 - dcw) + dcw * d_cov)
            ranked.append((conf, score, entry_id, doc.text))
        key = lambda r: (r[0], r[1])  # noqa: E731
        top = sorted(ranked, key=key, reverse=True) if k is None else heapq.nlargest(k, ranked, key=key)
        return [Match(entry_id, conf, conf, score, text) for conf, score, entry_id, text in top]
