"""Fit the refusal gate's evidence model (rag.scoring._EVIDENCE_WEIGHTS / _EVIDENCE_BIAS).

Dev data: CMRC 2018 trial questions asked of an index without their article
(unanswerable) or with it (answerable, a 30 % sample), plus the seed QA set
(weighted 5×: its near-miss questions are the hard case). A logistic regression
over rag.scoring.evidence_features; prints the coefficients to paste into
rag/scoring.py and the threshold that keeps answerable refusals within budget.
Needs the evaluation indexes of scripts/bench_retrieval.py and scikit-learn.

    .venv/bin/python scripts/fit_evidence.py
"""

from __future__ import annotations

import random
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag import Rag, load_settings  # noqa: E402
from rag.evaluation import _hold_out, load_dataset  # noqa: E402
from rag.scoring import candidates, evidence_features  # noqa: E402

CACHE = ROOT / "index" / "eval-cache"
SEED_WEIGHT = 5.0
ANSWERABLE_SAMPLE = 0.3
BUDGET = 0.05


def features(rag: Rag, question: str) -> list[float]:
    asked = rag.prepare(question)
    hits = rag.search(asked, top_k=5)
    ranked = candidates(asked, hits, rag.settings)
    return list(evidence_features(asked, hits, ranked[0], ranked))


def collect() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    settings = load_settings()
    rows, labels, weights = [], [], []
    cmrc = load_dataset(ROOT.parent / "shared" / "data" / "cmrc2018_trial.json", settings)
    held = set(_hold_out(cmrc))
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(CACHE / "CMRC_2018_trial", Path(tmp) / "reduced")
        reduced = Rag(settings.replace(index_dir=str(Path(tmp) / "reduced")))
        reduced.delete(sorted(held))
        for item in cmrc.items:
            unanswerable = item.gold_docs <= held
            if unanswerable or random.Random(item.question).random() < ANSWERABLE_SAMPLE:
                rows.append(features(reduced, item.question))
                labels.append(0 if unanswerable else 1)
                weights.append(1.0)
        seed = load_dataset(ROOT / "eval" / "seed_qa.jsonl", settings)
        seed_rag = Rag(settings.replace(index_dir=str(CACHE / "seed_QA")))
        seed_rag.embedder = reduced.embedder
        for item in seed.items:
            rows.append(features(seed_rag, item.question))
            labels.append(int(item.answerable))
            weights.append(SEED_WEIGHT)
    return np.array(rows), np.array(labels), np.array(weights)


def main() -> int:
    from sklearn.linear_model import LogisticRegression

    x, y, w = collect()
    model = LogisticRegression(C=10, max_iter=2000).fit(x, y, sample_weight=w)
    p = model.predict_proba(x)[:, 1]
    threshold = max(t for t in np.linspace(0, 1, 201) if ((p < t) & (y == 1)).sum() / (y == 1).sum() <= BUDGET)
    refused = ((p < threshold) & (y == 0)).sum() / (y == 0).sum()
    print(f"_EVIDENCE_WEIGHTS = {tuple(round(float(c), 2) for c in model.coef_[0])}")
    print(f"_EVIDENCE_BIAS = {round(float(model.intercept_[0]), 2)}")
    print(f"threshold {threshold:.3f}: {refused:.3f} of {int((y == 0).sum())} unanswerable refused, "
          f"≤{BUDGET:.0%} of {int((y == 1).sum())} answerable refused (on the fitting data)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
