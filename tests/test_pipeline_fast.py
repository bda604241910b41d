"""The pipeline's bookkeeping on the fake embedder: ingest, search, ask, incremental updates, rebuilds.

Everything but the model is real — documents, chunking, a FAISS index and
BM25 written to disk in generations, fusion, the extractive answer — so these
tests check the logic that test_pipeline.py and test_store.py check with the
real model, in a fraction of a second each. What only the real model can show
(answer quality, the calibrated refusal gate) stays in those files.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from helpers import FAKE_MODEL, OTHER_FAKE_MODEL, SEEDS, CharNgramEncoder
from rag import QuestionError, Rag, Settings
from rag.embed.embedding import Embedder, EmbeddingError, register_encoder, registered_encoders, unregister_encoder
from rag.store import POINTER, IndexCorrupt, IndexMismatch, load_index, read_manifest

API_QUESTION = "工行推出了多少项普惠金融API开放服务？"
GOV_ARTICLE = "004_70d2e4c279f60003.txt"
INTERVIEW = "000_a14ba3e1848048d8.txt"

SettingsFactory = Callable[..., Settings]


def fake_encoder(rag: Rag) -> CharNgramEncoder:
    """The encoder the Rag built from the registry (loading it if needed)."""
    model = rag.embedder.model
    assert isinstance(model, CharNgramEncoder)
    return model


# --------------------------------------------------------------------------- the encoder itself


def test_fake_encoder_is_deterministic_unit_length_and_topical() -> None:
    encoder = CharNgramEncoder()
    texts = ["工行推出了109项普惠金融API开放服务。", "工行推出普惠金融开放服务多少项", "星河茶园今年新增了三百亩有机茶园。"]
    vectors = encoder.encode(texts)
    assert vectors.shape == (3, 256) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(vectors, CharNgramEncoder().encode(texts))
    similar, unrelated = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    assert similar > 0.5 > abs(unrelated) + 0.2


def test_a_registered_encoder_replaces_sentence_transformers(tmp_path: Path) -> None:
    built: list[Settings] = []

    def factory(settings: Settings) -> CharNgramEncoder:
        built.append(settings)
        return CharNgramEncoder(dimension=32)

    register_encoder("test/tiny", factory)
    try:
        assert "test/tiny" in registered_encoders()
        embedder = Embedder(Settings(embed_model="test/tiny", index_dir=str(tmp_path)))
        assert built == []  # built on first use, like the real model
        assert embedder.dimension == 32 and len(built) == 1
        assert embedder.prompts == ("", "")
        vectors = embedder.embed_passages(["一", "二三", "四五六"])
        assert vectors.shape == (3, 32)
        assert embedder.embed_query("一").shape == (32,)
        assert len(built) == 1
    finally:
        unregister_encoder("test/tiny")
    assert "test/tiny" not in registered_encoders()


def test_a_failing_factory_is_an_embedding_error(tmp_path: Path) -> None:
    def broken(settings: Settings) -> CharNgramEncoder:
        raise OSError("weights not found")

    register_encoder("test/broken", broken)
    try:
        with pytest.raises(EmbeddingError, match="test/broken.*weights not found"):
            Embedder(Settings(embed_model="test/broken", index_dir=str(tmp_path))).warm_up()
    finally:
        unregister_encoder("test/broken")
    with pytest.raises(ValueError):
        register_encoder("  ", broken)


# --------------------------------------------------------------------------- ingest → search → ask


def test_ingest_search_ask_round_trip(fake_settings: SettingsFactory, tmp_path: Path) -> None:
    rag = Rag(fake_settings())
    report = rag.ingest([SEEDS])
    assert sorted(report.added) == [INTERVIEW, GOV_ARTICLE] and not report.rebuilt_because
    assert report.chunks == report.embedded_chunks > 0
    assert fake_encoder(rag).calls == report.embedded_chunks

    manifest = read_manifest(tmp_path / "index")
    assert manifest.model == FAKE_MODEL and manifest.dimension == 256
    index = load_index(tmp_path / "index")
    assert index.size == len(index.chunks()) == report.chunks
    np.testing.assert_allclose(np.linalg.norm(index.vectors(), axis=1), 1.0, rtol=1e-5)

    hits = rag.search(API_QUESTION, top_k=3)
    assert hits[0].chunk.doc_id == GOV_ARTICLE and "109" in hits[0].chunk.text
    assert [h.rank for h in hits] == [1, 2, 3]
    assert hits[0].dense_rank is not None and hits[0].bm25_rank is not None

    answer = rag.ask(API_QUESTION)
    assert not answer.refused
    assert "109" in answer.text and "[1]" in answer.text
    assert answer.citations[0].hit.chunk.doc_id == GOV_ARTICLE
    for citation in answer.citations:
        for quote in citation.quotes:
            assert quote in citation.hit.chunk.text and f"{quote}[{citation.n}]" in answer.text


def test_a_new_rag_reads_the_index_from_disk_in_every_mode(fake_rag: Rag, fake_seed_index_dir: Path) -> None:
    """A fresh Rag over an index on disk answers like the one that wrote it (the session fixture)."""
    assert {d.id for d in fake_rag.documents()} == {GOV_ARTICLE, INTERVIEW}
    hits = fake_rag.search("工行推出了多少項普惠金融API開放服務？", top_k=3)  # traditional script
    assert "109" in hits[0].chunk.text
    for mode in ("dense", "bm25"):
        assert fake_rag.search(API_QUESTION, top_k=3, mode=mode)[0].chunk.doc_id == GOV_ARTICLE


def test_rrf_fusion_survives_bm25_candidates_beyond_the_dense_ones(fake_seed_index_dir: Path, fake_settings: SettingsFactory) -> None:
    # one candidate per channel: BM25's best passage about 手机银行 is not the dense channel's best
    rag = Rag(fake_settings(fake_seed_index_dir, fusion="rrf", candidates=1, top_k=1))
    assert len(rag.search("手机银行")) == 1


@pytest.mark.parametrize("question", ["", "   ", "问" * 10_000])
def test_bad_questions_give_a_message(fake_rag: Rag, question: str) -> None:
    with pytest.raises(QuestionError) as raised:
        fake_rag.ask(question)
    assert str(raised.value)


# --------------------------------------------------------------------------- incremental updates


def test_incremental_ingest_re_embeds_only_the_changed_file(fake_fresh_index: Path, fake_settings: SettingsFactory, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    rag = Rag(fake_settings(fake_fresh_index))
    first = rag.ingest([corpus])  # same ids and bytes as the seed index: nothing to embed
    assert first.embedded_chunks == 0 and len(first.unchanged) == 2 and not first.changed
    changed = corpus / GOV_ARTICLE
    changed.write_text(changed.read_text(encoding="utf-8") + "\n星河茶园今年新增了三百亩有机茶园。\n", encoding="utf-8")
    report = rag.ingest([corpus])
    assert report.updated == (GOV_ARTICLE,) and report.unchanged == (INTERVIEW,)
    index = load_index(fake_fresh_index)
    doc_chunks = [c for c in index.chunks() if c.doc_id == GOV_ARTICLE]
    assert 0 < report.embedded_chunks == len(doc_chunks) < report.chunks
    assert fake_encoder(rag).calls == report.embedded_chunks  # the interview's vectors were reused, not recomputed
    assert "三百亩" in rag.ask("星河茶园今年新增了多少亩有机茶园？").text


def test_delete_removes_a_document_without_loading_the_model(fake_fresh_index: Path, fake_settings: SettingsFactory) -> None:
    rag = Rag(fake_settings(fake_fresh_index))
    before = load_index(fake_fresh_index)
    report = rag.delete([INTERVIEW])
    assert report.removed == (INTERVIEW,) and report.embedded_chunks == 0
    assert rag.embedder._model is None, "a delete reuses the stored vectors and dimension"
    after = load_index(fake_fresh_index)
    assert set(after.documents) == {GOV_ARTICLE}
    assert {c.doc_id for c in after.chunks()} == {GOV_ARTICLE}
    kept = [i for i, c in enumerate(before.chunks()) if c.doc_id == GOV_ARTICLE]
    np.testing.assert_array_equal(after.vectors(), before.vectors()[kept])
    assert all(h.chunk.doc_id == GOV_ARTICLE for h in rag.search("重庆工行资助贫困大学生"))
    assert rag.delete(["no-such-doc.txt"]).changed is False


def test_prune_drops_removed_files_only_when_asked(fake_fresh_index: Path, fake_settings: SettingsFactory, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    (corpus / INTERVIEW).unlink()
    rag = Rag(fake_settings(fake_fresh_index))
    assert rag.ingest([corpus]).removed == ()
    assert {d.id for d in rag.documents()} == {GOV_ARTICLE, INTERVIEW}
    pruned = rag.ingest([corpus], prune=True)
    assert pruned.removed == (INTERVIEW,) and pruned.embedded_chunks == 0
    assert {d.id for d in rag.documents()} == {GOV_ARTICLE}


# --------------------------------------------------------------------------- rebuilds


def test_changed_chunker_settings_rebuild_with_a_reason(fake_fresh_index: Path, fake_settings: SettingsFactory) -> None:
    before = load_index(fake_fresh_index)
    report = Rag(fake_settings(fake_fresh_index, chunk_max_chars=300)).ingest([SEEDS])
    assert "chunker settings changed" in report.rebuilt_because
    assert report.embedded_chunks == report.chunks > 0  # every chunk is new
    assert sorted(report.unchanged) == [INTERVIEW, GOV_ARTICLE]
    manifest = read_manifest(fake_fresh_index)
    assert manifest.chunker["max_chars"] == 300
    after = load_index(fake_fresh_index)
    assert len(after.chunks()) == report.chunks > len(before.chunks())  # smaller chunks, so more of them


def test_a_changed_model_id_rebuilds_with_a_reason(fake_fresh_index: Path, fake_settings: SettingsFactory) -> None:
    rag = Rag(fake_settings(fake_fresh_index, embed_model=OTHER_FAKE_MODEL))
    with pytest.raises(IndexMismatch, match="rag ingest"):  # the old vectors are never searched with the new model
        rag.ask(API_QUESTION)
    assert [d.id for d in rag.documents()], "listing documents still works before the rebuild"
    report = rag.ingest([SEEDS])
    assert report.rebuilt_because == f"embedding model changed from {FAKE_MODEL} to {OTHER_FAKE_MODEL}"
    assert report.embedded_chunks == report.chunks > 0
    assert read_manifest(fake_fresh_index).model == OTHER_FAKE_MODEL
    again = rag.ingest([SEEDS])
    assert not again.changed and again.embedded_chunks == 0


def test_a_damaged_index_is_reported_not_served(fake_fresh_index: Path, fake_settings: SettingsFactory) -> None:
    segment = fake_fresh_index / read_manifest(fake_fresh_index).segments[0]
    (segment / "records.sqlite").write_text('{"broken": true}\n', encoding="utf-8")
    with pytest.raises(IndexCorrupt) as raised:
        load_index(fake_fresh_index)
    assert "rag ingest" in str(raised.value)
    rag = Rag(fake_settings(fake_fresh_index))
    with pytest.raises(IndexCorrupt):
        rag.ask(API_QUESTION)
    report = rag.ingest([SEEDS])
    assert "could not be read" in report.rebuilt_because
    assert len(load_index(fake_fresh_index).documents) == 2
    assert "109" in rag.ask(API_QUESTION).text


def test_a_pointer_to_a_missing_generation_is_reported(fake_fresh_index: Path, fake_settings: SettingsFactory) -> None:
    (fake_fresh_index / POINTER).write_text("gen-0", encoding="utf-8")
    with pytest.raises(IndexCorrupt, match="missing generation"):
        Rag(fake_settings(fake_fresh_index)).search(API_QUESTION)
