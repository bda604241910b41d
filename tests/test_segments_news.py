"""News on the segment store: stories regrouped per write equal a from-scratch build; dates filter
across segments on every store; an index of the single-generation format is upgraded in place.

Stories are decided per write from the band keys stored with each segment, so
these tests drive the real write path (``Rag`` with the fake embedder) through
adds in an awkward order, merges, replacements and deletes, and compare every
document's story and served date with a build of the same documents in one go.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import faiss
import numpy as np
import pytest
from test_news import OTHER_STORY, STORY, news
from test_stores import milvus_server, store_settings  # noqa: F401  (the parametrised store fixtures)

from helpers import CharNgramEncoder
from rag import IndexCorrupt, Rag, Settings
from rag.embed.embedding import register_encoder, unregister_encoder
from rag.ingest.documents import Document
from rag.ingest.stories import group_stories
from rag.store import load_index

SettingsFactory = Callable[..., Settings]

THIRD_STORY = (
    "中国人民银行8月15日开展4010亿元中期借贷便利操作，中标利率2.50%，较上期下降15个基点。"
    "同日开展2040亿元7天期逆回购操作，中标利率1.80%，下降10个基点。分析人士认为，此次降息有助于巩固经济回升向好势头，"
    "降低实体经济融资成本，市场预计贷款市场报价利率也将随之下调。"
)
LONERS = {
    "z1": "2023-06-02 08:00，正文：秋季开学在即，多地教育部门发布通知，要求学校做好校园安全排查，加强食品卫生管理，确保师生平安返校。",
    "z2": "2022-05-20 14:30，正文：某地举办马拉松比赛，两万名选手参赛，赛事沿途设置补给站二十个，志愿者三千人参与服务保障。",
}


def corpus() -> dict[str, Document]:
    """Three stories told three times each (ids chosen so a story's smallest id often arrives last), two loners, a yearless copy."""
    docs = {
        "s5": news("s5", "2023-08-10 09:31，正文：" + STORY),
        "s3": news("s3", "08/10  10:02，正文：中新网北京8月10日电 " + STORY + "（完）"),  # yearless
        "s1": news("s1", "[2023/08/10  11:15]，正文：本报讯 " + STORY.replace("解读说", "表示") + "编辑：王明"),
        "r4": news("r4", "2023-07-31 18:00，正文：" + OTHER_STORY),
        "r2": news("r2", "2023-07-31 19:20，正文：新华社北京7月31日电 " + OTHER_STORY + "（记者 李华）"),
        "r9": news("r9", "2023-08-01 07:00，正文：" + OTHER_STORY.replace("提醒公众", "请市民") + "责任编辑：张三"),
        "m7": news("m7", "2023-08-15 10:00，正文：" + THIRD_STORY),
        "m6": news("m6", "2023-08-15 11:30，正文：来源：央视新闻 " + THIRD_STORY),
        "m8": news("m8", "2023-08-15 12:05，正文：" + THIRD_STORY + "（完）"),
    }
    docs.update({doc_id: news(doc_id, text) for doc_id, text in LONERS.items()})
    return docs


def decided(rag: Rag) -> dict[str, tuple[str, str]]:
    """doc id → (story, served publication date), as the manifest says."""
    manifest = rag.index().manifest
    return {doc_id: (manifest.story(doc_id), manifest.published(doc_id)) for doc_id in manifest.documents}


def from_scratch(docs: dict[str, Document], fake_settings: SettingsFactory, folder: Path) -> dict[str, tuple[str, str]]:
    rag = Rag(fake_settings(folder))
    rag.ingest_documents(list(docs.values()))
    return decided(rag)


def test_stories_regrouped_per_write_equal_a_build_from_scratch(store_settings: SettingsFactory, fake_settings: SettingsFactory, tmp_path: Path) -> None:  # noqa: F811
    docs = corpus()
    rag = Rag(store_settings(tmp_path / "incremental", max_segments=3))
    for doc_id in ["s5", "r4", "m7", "z1", "s3", "r9", "m8", "z2", "m6", "r2", "s1"]:  # one write each: segments merge on the way
        rag.ingest_documents([docs[doc_id]])
    now = decided(rag)
    assert now == from_scratch(docs, fake_settings, tmp_path / "all")
    stories = {doc_id: story for doc_id, (story, _day) in now.items()}
    assert [stories[d] for d in ("s1", "s3", "s5", "r2", "r4", "r9", "m6", "m7", "m8")] == ["s1"] * 3 + ["r2"] * 3 + ["m6"] * 3
    assert stories["z1"] == "z1" and stories["z2"] == "z2"
    expected = group_stories({d: doc.text for d, doc in docs.items()}, 0.5, 5, 128)
    assert {d: s for d, s in stories.items() if s != d or d in expected} == expected
    assert now["s3"][1] == "2023-08-10T10:02"  # the yearless copy took the collection's year
    assert rag.document("s3").meta["published_year"] == "collection" and rag.document("r9").meta["story"] == "r2"
    assert "story" not in rag.document("z1").meta

    docs["s1"] = news("s1", "2023-08-20 09:00，正文：" + LONERS["z1"][16:] + "另据报道，多所学校已完成消防演练。")  # replaced: leaves its story
    rag.ingest_documents([docs["s1"]])
    assert decided(rag) == from_scratch(docs, fake_settings, tmp_path / "after-replace")
    assert rag.index().manifest.story("s3") == "s3"

    rag.delete(["r2"])  # the story's smallest id goes: the others are renamed after the next one
    del docs["r2"]
    assert decided(rag) == from_scratch(docs, fake_settings, tmp_path / "after-delete")
    assert rag.index().manifest.story("r9") == "r4"
    rag.compact()
    assert decided(rag) == from_scratch(docs, fake_settings, tmp_path / "after-delete")


def test_the_collection_year_follows_the_majority_as_documents_arrive(fake_settings: SettingsFactory, tmp_path: Path) -> None:
    yearless = news("a0", "08/16  13:50，正文：参考消息网报道，夏威夷州州长说，大火致死人数可能增至上百人。")
    rag = Rag(fake_settings())
    rag.ingest_documents([yearless, news("b1", LONERS["z2"])])
    assert rag.index().manifest.published("a0") == "2022-08-16T13:50"
    more = [
        news(f"c{i}", f"2023-0{i + 1}-0{i + 1} 08:00，正文：第{i}条消息：今年的{'春夏秋冬'[i % 4]}季农产品收成情况良好，{i + 3}个省份增产。") for i in range(2)
    ]
    rag.ingest_documents(more)
    assert rag.index().manifest.published("a0") == "2023-08-16T13:50"  # 2023 is the majority now
    assert decided(rag) == from_scratch({d.id: d for d in [yearless, news("b1", LONERS["z2"]), *more]}, fake_settings, tmp_path / "all")
    rag.delete(["c0", "c1"])  # the year goes back with the majority, worked out from the counts each write keeps
    assert rag.index().manifest.published("a0") == "2022-08-16T13:50"
    counted(rag)
    rag.ingest_documents([news("a0", "2021-08-16 13:50，正文：参考消息网报道，夏威夷州州长说，大火致死人数可能增至上百人。")])  # now dated
    assert counted(rag) == ({2021: 1, 2022: 1}, [])


def counted(rag: Rag) -> tuple[dict[int, int], list[str]]:
    """The year counts and yearless documents a write kept, checked against the entries themselves."""
    manifest = load_index(rag.index_dir).manifest
    assert manifest.years is not None and manifest.partials is not None
    recomputed = dataclasses.replace(manifest, years=None, partials=None)
    assert manifest.year_counts() == recomputed.year_counts() and sorted(manifest.partial_ids()) == sorted(recomputed.partial_ids())
    return dict(manifest.year_counts()), manifest.partial_ids()


def test_a_date_range_filters_both_channels_across_segments(store_settings: SettingsFactory) -> None:  # noqa: F811
    docs = corpus()
    rag = Rag(store_settings())
    rag.ingest_documents([docs[d] for d in ("s5", "s3", "r4", "z2")])
    rag.ingest_documents([docs[d] for d in ("s1", "r2", "r9", "m7", "z1")])
    for mode in ("dense", "bm25", "hybrid"):
        hits = rag.search("7月份全国居民消费价格同比下降多少？", top_k=5, mode=mode, until="2023-07-31")
        assert hits and {h.chunk.doc_id for h in hits} <= {"r4", "r2", "z1", "z2"}
        hits = rag.search("华北地区强降雨 应急管理部", top_k=5, mode=mode, since="2023-08-01", until="2023-08-10")
        assert hits and all("2023-08-01" <= h.published[:10] <= "2023-08-10" for h in hits)
    hits = rag.search("7月份全国居民消费价格同比下降多少？", top_k=5)
    first = hits[0]
    assert first.story == "s1" and sorted(r.doc_id for r in first.same_story) == sorted({"s1", "s3", "s5"} - {first.chunk.doc_id})
    assert len({h.story for h in hits}) == len(hits)
    assert rag.index().newest_published == "2023-08-15T10:00"
    assert rag.search("华北地区强降雨", since="2024-01-01") == []


def write_legacy(index_dir: Path, source: Rag) -> tuple[list[str], np.ndarray]:
    """``source``'s index written in the single-generation format (as the product wrote it before segments)."""
    store = load_index(source.index_dir)
    chunks, vectors = store.chunks(), store.vectors()
    documents = {doc_id: store.documents[doc_id] for doc_id in store.documents}
    folder = index_dir / f"gen-{time.time_ns()}"
    (folder / "bm25").mkdir(parents=True)
    index = faiss.index_factory(vectors.shape[1], "Flat", faiss.METRIC_INNER_PRODUCT)
    index.add(vectors)
    faiss.write_index(index, str(folder / "vectors.faiss"))
    np.save(folder / "vectors.npy", vectors)
    with open(folder / "chunks.jsonl", "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(asdict(c), ensure_ascii=False) + "\n" for c in chunks)
    (folder / "documents.json").write_text(json.dumps([asdict(d) for d in documents.values()], ensure_ascii=False), encoding="utf-8")
    manifest = {
        "model": store.manifest.model,
        "dimension": store.manifest.dimension,
        "chunker": dict(store.manifest.chunker),
        "faiss_factory": "Flat",
        "documents": {
            d.id: {
                "sha256": d.sha256,
                "source": d.meta.get("source", ""),
                "title": d.title,
                "published": d.meta.get("published", ""),
                "story": d.meta.get("story", d.id),
            }
            for d in documents.values()
        },
        "version": 1,
        "created": time.time(),
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    (index_dir / "CURRENT").write_text(folder.name)
    return [c.id for c in chunks], vectors


def test_an_index_of_the_single_generation_format_is_upgraded_without_embedding(
    fake_settings: SettingsFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    docs = corpus()
    counter = CharNgramEncoder()
    register_encoder("fake/counting", lambda _settings: counter)
    try:
        built = Rag(fake_settings(tmp_path / "built", embed_model="fake/counting"))
        built.ingest_documents(list(docs.values()))
        expected = decided(built)
        ids, vectors = write_legacy(tmp_path / "legacy", built)
        capsys.readouterr()
        rag = Rag(fake_settings(tmp_path / "legacy", embed_model="fake/counting"))
        before = counter.calls
        assert decided(rag) == expected
        assert counter.calls == before  # nothing embedded: the old vectors serve
        assert "vectors reused" in capsys.readouterr().err
        upgraded = load_index(tmp_path / "legacy")
        order = {chunk_id: row for row, chunk_id in enumerate(ids)}
        np.testing.assert_array_equal(upgraded.vectors(), vectors[[order[c.id] for c in upgraded.chunks()]])
        assert not list((tmp_path / "legacy").glob("gen-*/chunks.jsonl"))
        hits = rag.search("7月份全国居民消费价格同比下降多少？", top_k=3)
        assert hits[0].story == "s1" and len(hits[0].same_story) == 2
        report = rag.ingest_documents([news("x1", LONERS["z1"].replace("秋季", "春季"))])
        assert report.added == ("x1",) and report.embedded_chunks == report.chunks - upgraded.size
    finally:
        unregister_encoder("fake/counting")


def test_a_damaged_index_of_the_old_format_is_refused_with_a_message_then_rebuilt(fake_settings: SettingsFactory, tmp_path: Path) -> None:
    built = Rag(fake_settings(tmp_path / "built"))
    built.ingest_documents(list(corpus().values()))
    write_legacy(tmp_path / "legacy", built)
    next((tmp_path / "legacy").glob("gen-*/documents.json")).unlink()
    rag = Rag(fake_settings(tmp_path / "legacy"))
    with pytest.raises(IndexCorrupt, match="rag ingest"):
        rag.index()
    report = rag.ingest_documents(list(corpus().values()))
    assert report.rebuilt_because.startswith("index format 1") and decided(rag) == decided(built)
