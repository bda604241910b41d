"""The same pipeline on every store: embedded segments, Milvus through milvus-lite, and through a Milvus server.

The server is ``milvus-lite server`` in a subprocess, reached over the same
``http://`` URI scheme as a real Milvus server or cluster. Answers, citations
with offsets, updates, deletes and the model check must not depend on the store.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from helpers import OTHER_FAKE_MODEL, SEEDS
from rag import IndexMismatch, Rag, Settings, create_collection, delete_collection

API_QUESTION = "工行推出了多少项普惠金融API开放服务？"
GOV_ARTICLE = "004_70d2e4c279f60003.txt"
INTERVIEW = "000_a14ba3e1848048d8.txt"

SettingsFactory = Callable[..., Settings]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def milvus_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``milvus-lite server`` on a free port: the URI a real Milvus deployment would have."""
    pytest.importorskip("milvus_lite")
    port = _free_port()
    data = tmp_path_factory.mktemp("milvus-server")
    executable = shutil.which("milvus-lite", path=str(Path(sys.executable).parent)) or "milvus-lite"
    process = subprocess.Popen(
        [executable, "server", "--data-dir", str(data), "--port", str(port), "--host", "127.0.0.1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.3)
    else:
        process.kill()
        pytest.fail("milvus-lite server did not start")
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture(params=["embedded", pytest.param("milvus-lite", marks=pytest.mark.slow), pytest.param("milvus-server", marks=pytest.mark.slow)])
def store_settings(request: pytest.FixtureRequest, fake_settings: SettingsFactory, tmp_path: Path) -> SettingsFactory:
    """fake_settings for one store; every test gets its own index (a fresh folder or collection prefix)."""
    if request.param == "embedded":
        return fake_settings
    pytest.importorskip("pymilvus")
    uri = request.getfixturevalue("milvus_server") if request.param == "milvus-server" else str(tmp_path / "milvus" / "lite.db")
    prefix = f"t{abs(hash(request.node.name)) % 10**8}_{time.time_ns() % 10**6}"
    return lambda index_dir=None, **overrides: fake_settings(index_dir, **{"store": "milvus", "milvus_uri": uri, "milvus_collection": prefix, **overrides})


def test_answers_and_citations_do_not_depend_on_the_store(store_settings: SettingsFactory) -> None:
    rag = Rag(store_settings())
    report = rag.ingest([SEEDS])
    assert set(report.added) == {GOV_ARTICLE, INTERVIEW} and report.chunks == report.embedded_chunks > 0
    answer = rag.ask(API_QUESTION)
    assert "109" in answer.text and answer.citations[0].hit.chunk.doc_id == GOV_ARTICLE
    chunk = answer.citations[0].hit.chunk
    assert rag.document(GOV_ARTICLE).text[chunk.start : chunk.end] == chunk.text
    hits = rag.search(API_QUESTION, top_k=5)
    assert hits[0].dense_rank is not None or hits[0].bm25_rank is not None
    assert any(h.bm25_rank for h in hits) and any(h.dense_rank for h in hits)
    assert [d.id for d in rag.documents()] == sorted([GOV_ARTICLE, INTERVIEW])
    again = rag.ingest([SEEDS])
    assert not again.changed and again.embedded_chunks == 0


def test_two_collections_in_one_store_never_cite_each_other(store_settings: SettingsFactory) -> None:
    """On a shared Milvus server each collection has its own Milvus names; deleting one drops them."""
    settings = store_settings()
    create_collection(settings, "gov")
    create_collection(settings, "interviews")
    gov, interviews = Rag(settings.replace(collection="gov")), Rag(settings.replace(collection="interviews"))
    gov.ingest([SEEDS / GOV_ARTICLE])
    interviews.ingest([SEEDS / INTERVIEW])
    assert [d.id for d in gov.documents()] == [GOV_ARTICLE] and [d.id for d in interviews.documents()] == [INTERVIEW]
    assert "109" in gov.ask(API_QUESTION).text
    assert all(h.chunk.doc_id == INTERVIEW for h in interviews.search(API_QUESTION, top_k=10))
    assert not Rag(settings).has_index(), "the default collection holds neither"
    delete_collection(settings, "gov")
    assert [d.id for d in Rag(settings.replace(collection="interviews")).documents()] == [INTERVIEW], "the other collection stays"
    create_collection(settings, "gov")
    assert not Rag(settings.replace(collection="gov")).has_index(), "a collection made again starts empty: nothing of the old one is left"


def test_replace_and_delete_by_document_id(store_settings: SettingsFactory, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    rag = Rag(store_settings())
    rag.ingest([corpus])
    generation = rag.generation()
    path = corpus / GOV_ARTICLE
    path.write_text(path.read_text(encoding="utf-8").replace("109项", "118项"), encoding="utf-8")
    report = rag.ingest([corpus])
    assert report.updated == (GOV_ARTICLE,) and report.unchanged == (INTERVIEW,) and rag.generation() != generation
    answer = rag.ask(API_QUESTION)
    assert "118" in answer.text and "109" not in answer.text
    rag.delete([GOV_ARTICLE])
    assert [d.id for d in rag.documents()] == [INTERVIEW]
    assert all(h.chunk.doc_id == INTERVIEW for h in rag.search(API_QUESTION, top_k=10))


def test_another_model_is_refused_then_rebuilt(store_settings: SettingsFactory) -> None:
    Rag(store_settings()).ingest([SEEDS])
    other = Rag(store_settings(embed_model=OTHER_FAKE_MODEL))
    with pytest.raises(IndexMismatch, match="rag ingest"):
        other.ask(API_QUESTION)
    report = other.ingest([SEEDS])
    assert report.rebuilt_because.startswith("embedding model changed") and report.embedded_chunks == report.chunks
    assert "109" in other.ask(API_QUESTION).text


@pytest.mark.slow
@pytest.mark.parametrize("where", ["milvus-lite", "milvus-server"])
def test_milvus_bm25_ranks_and_scores_as_the_embedded_store(where: str, fake_settings: SettingsFactory, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """With the product's terms, Milvus's own BM25 equals the embedded store's within a Milvus segment."""
    pytest.importorskip("pymilvus")
    uri = request.getfixturevalue("milvus_server") if where == "milvus-server" else str(tmp_path / "milvus" / "lite.db")
    embedded = Rag(fake_settings(tmp_path / "embedded"))
    milvus = Rag(fake_settings(tmp_path / "unused", store="milvus", milvus_uri=uri, milvus_collection=f"bm25_{time.time_ns() % 10**6}"))
    for rag in (embedded, milvus):
        rag.ingest([SEEDS])
    for question in (API_QUESTION, "工行个人客户总量达到多少户？", "ICBC mobile banking 2023年"):
        want = [(h.chunk.id, h.bm25_score) for h in embedded.search(question, top_k=8, mode="bm25")]
        got = [(h.chunk.id, h.bm25_score) for h in milvus.search(question, top_k=8, mode="bm25")]
        assert [c for c, _ in got] == [c for c, _ in want]
        assert [s for _, s in got] == pytest.approx([s for _, s in want], rel=1e-3)


@pytest.mark.slow
def test_another_milvus_analyzer_is_a_rebuild(fake_settings: SettingsFactory, tmp_path: Path) -> None:
    pytest.importorskip("pymilvus")
    settings = fake_settings(store="milvus", milvus_uri=str(tmp_path / "milvus" / "lite.db"), milvus_analyzer="jieba")
    Rag(settings).ingest([SEEDS])
    report = Rag(settings.replace(milvus_analyzer="product")).ingest([SEEDS])
    assert report.rebuilt_because == "the lexical analyzer changed from jieba to product" and report.embedded_chunks == report.chunks
    assert "109" in Rag(settings.replace(milvus_analyzer="product")).ask(API_QUESTION).text


def test_the_manifest_a_write_leaves_in_memory_equals_a_fresh_read(store_settings: SettingsFactory, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    rag = Rag(store_settings())
    rag.ingest([corpus])
    (corpus / GOV_ARTICLE).write_text((corpus / GOV_ARTICLE).read_text(encoding="utf-8") + "\n\n补充：本文另有更新。", encoding="utf-8")
    rag.ingest([corpus])
    rag.delete([INTERVIEW])
    moved = shutil.copytree(corpus, tmp_path / "moved")  # found elsewhere: the unchanged article's source changes
    assert rag.ingest([moved]).added == (INTERVIEW,)
    written = rag.index().manifest
    assert written.documents[GOV_ARTICLE]["source"].startswith(str(moved))
    fresh = Rag(store_settings()).index().manifest
    assert dict(written.documents) == dict(fresh.documents) and written.chunk_count == fresh.chunk_count == rag.index().size
