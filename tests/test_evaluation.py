"""The evaluation harness: metric arithmetic, and `rag eval` as a subprocess on our question set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import ROOT, SHARED_DATA, run_cli
from rag.eval.evaluation import Item, contains_answer, load_squad, recall_mrr


def test_recall_and_mrr_match_a_hand_computation() -> None:
    ranks = [1, 3, None, 7, 12]
    metrics = recall_mrr(ranks)
    assert metrics["recall@1"] == 0.2
    assert metrics["recall@5"] == 0.4
    assert metrics["recall@10"] == 0.6
    assert metrics["mrr@10"] == round((1 + 1 / 3 + 1 / 7) / 5, 4)


def test_answer_matching_folds_script_width_and_spaces() -> None:
    item = Item("q", frozenset({"d"}), ("x",), ("銀行開放了 API",))
    assert contains_answer("该银行开放了ＡＰＩ接口", item)
    strict = Item("q", frozenset({"d"}), ("x",), ("数字生态", "数字基因"), require_all=True)
    assert not contains_answer("数字生态", strict)


def test_seed_qa_set_is_well_formed() -> None:
    rows = [json.loads(line) for line in (ROOT / "eval" / "seed_qa.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) >= 40
    assert sum(not r["answerable"] for r in rows) >= 10
    assert {"english", "traditional", "both", "paraphrase"} <= {r["kind"] for r in rows}


def test_rag_eval_reports_every_figure(tmp_path: Path) -> None:
    result = run_cli("eval", str(ROOT / "eval" / "seed_qa.jsonl"), "--json", "--limit", "12", index_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    for key in ("document", "chunk", "answer_contains_gold", "refusal", "latency_ms", "ingest_chunks_per_s"):
        assert key in report
    assert set(report["document"]) == {"recall@1", "recall@5", "recall@10", "mrr@10"}
    assert report["document"]["recall@5"] >= 0.8


@pytest.mark.skipif(not (SHARED_DATA / "cmrc2018_trial.json").exists(), reason="../shared/data is not beside this checkout")
def test_squad_loader_reads_cmrc() -> None:
    dataset = load_squad(SHARED_DATA / "cmrc2018_trial.json")
    assert len(dataset.documents) == 256 and len(dataset.items) >= 1000
    assert all(item.answers for item in dataset.items)
