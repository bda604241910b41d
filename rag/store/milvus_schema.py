"""Milvus's side of the store's layout: the three collections' schemas, and how terms and band keys are written.

``rag.store.milvus`` reads and writes through these; see its docstring for what each collection holds.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..settings import MilvusAnalyzer
from ..text.lexical import K1, B

TEXT_MAX = 65_535
PART_CHARS = 15_000  # at most 4 bytes a character in UTF-8: a part fits one VARCHAR
BATCH = 512
DUMMY = [0.0, 1.0]  # Milvus requires a vector field in every collection
ENTRY_FIELDS = ("sha256", "source", "title", "chunks", "published", "partial", "story")


def term(token: str) -> str:
    """A product term as one word of Milvus's standard tokenizer: letters and digits, fixed length."""
    return "t" + hashlib.blake2b(token.encode("utf-8"), digest_size=8).hexdigest()


def analyzed(tokens: Sequence[str], analyzer: MilvusAnalyzer) -> str:
    return " ".join(map(term, tokens)) if analyzer == MilvusAnalyzer.PRODUCT else " ".join(tokens)


def bands_text(bands: np.ndarray) -> str:
    return " ".join(f"{int(key):x}" for key in bands.tolist())


def bands_from(text: str) -> np.ndarray:
    return np.array([int(key, 16) for key in text.split()], dtype=np.uint64)


def connect(uri: str, token: str) -> Any:
    # gRPC's C core prints keepalive chatter (milvus-lite answers the client's pings with
    # "too_many_pings") straight to stderr, and reads this before pymilvus imports it; failures
    # still reach the product as exceptions. Set GRPC_VERBOSITY yourself to see it.
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")
    from pymilvus import MilvusClient

    # milvus-lite has no server timestamp for iterators; pymilvus warns on every document listing
    # that it uses the client's clock instead, which is what the product wants: not for the user's eyes.
    logging.getLogger("pymilvus.client.iterator").setLevel(logging.ERROR)

    if not uri.startswith(("http://", "https://", "tcp://", "grpc://")):
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
    return MilvusClient(uri=uri, token=token) if token else MilvusClient(uri=uri)


def create_collections(client: Any, names: tuple[str, str, str], dimension: int, analyzer: MilvusAnalyzer) -> None:
    """The chunks, documents and meta collections (named ``names``), each created when it is missing."""
    from pymilvus import DataType, Function, FunctionType

    chunks_name, docs_name, meta_name = names
    if not client.has_collection(chunks_name):
        schema = client.create_schema(auto_id=False)
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=1024)
        schema.add_field("doc_id", DataType.VARCHAR, max_length=1024)
        tokenizer = "standard" if analyzer == MilvusAnalyzer.PRODUCT else "jieba"
        schema.add_field("text", DataType.VARCHAR, max_length=TEXT_MAX, enable_analyzer=True, analyzer_params={"tokenizer": tokenizer})
        schema.add_field("record", DataType.VARCHAR, max_length=TEXT_MAX)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["text"], output_field_names=["sparse"]))
        index = client.prepare_index_params()
        index.add_index("vector", index_type="FLAT", metric_type="IP")
        index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params={"bm25_k1": K1, "bm25_b": B})
        client.create_collection(chunks_name, schema=schema, index_params=index)
    for name, extra in ((docs_name, True), (meta_name, False)):
        if client.has_collection(name):
            continue
        schema = client.create_schema(auto_id=False)
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=1100)
        if extra:
            schema.add_field("doc_id", DataType.VARCHAR, max_length=1024)
            schema.add_field("part", DataType.INT64)
            schema.add_field("sha256", DataType.VARCHAR, max_length=64)
            schema.add_field("source", DataType.VARCHAR, max_length=4096)
            schema.add_field("title", DataType.VARCHAR, max_length=4096)
            schema.add_field("chunks", DataType.INT64)
            schema.add_field("published", DataType.VARCHAR, max_length=64)
            schema.add_field("partial", DataType.VARCHAR, max_length=64)
            schema.add_field("story", DataType.VARCHAR, max_length=1024)
            schema.add_field("bands", DataType.VARCHAR, max_length=4096)
        schema.add_field("data", DataType.VARCHAR, max_length=TEXT_MAX)
        schema.add_field("dummy", DataType.FLOAT_VECTOR, dim=len(DUMMY))
        index = client.prepare_index_params()
        index.add_index("dummy", index_type="FLAT", metric_type="L2")
        client.create_collection(name, schema=schema, index_params=index)
