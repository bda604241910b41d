"""Fit the refusal gate's evidence model (rag.answer.scoring._EVIDENCE_WEIGHTS / _EVIDENCE_BIAS).

Dev data: CMRC 2018 trial and DRCD dev (1,000 questions) questions asked of an
index without their article (unanswerable) or of the whole index (answerable:
every question, asked as the product and scripts/bench_retrieval.py ask it), plus the seed QA set (weighted
5×: its near-miss questions are the hard case), plus the news QA set and every
other question of the paraphrased news set (weighted 3×; asked of the news index
of scripts/bench_honesty.py, left out when that index is absent or --news ''). Questions in another script
than the passages are left out: the gate judges them by the dense cosine alone. A logistic regression
over rag.answer.scoring.evidence_features; prints the coefficients to paste into
rag/answer/scoring.py and the threshold that keeps answerable refusals within budget.
Needs the evaluation indexes of scripts/bench_retrieval.py and scikit-learn.

    .venv/bin/python scripts/fit_evidence.py [--cache index/eval-cache]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_retrieval import CMRC, DRCD, cache_folder  # noqa: E402  (scripts/ is on the path when a script runs)

from rag import Rag, load_settings  # noqa: E402
from rag.answer.scoring import candidates, evidence_features  # noqa: E402
from rag.eval.evaluation import _hold_out, _sample, load_dataset  # noqa: E402
from rag.settings import Settings  # noqa: E402
from rag.text.folding import cross_lingual  # noqa: E402

CACHE = ROOT / "index" / "eval-cache"
SEED_WEIGHT = 5.0
NEWS_WEIGHT = 3.0
NEWS_CACHE = ROOT / ".cache" / "honesty" / "news"
BUDGET = 0.05
#: Inverse regularisation strength. Looser fits (C=10) lean hard on the raw top cosine (weight ~12), a scale
#: that belongs to one encoder build; at 1 the cosine weighs about as much as the coverages, the dev figures
#: are within a point, and the gate still works when the encoder changes (int8 against fp32, the tests' fake).
REGULARISATION = 1.0


def features(rag: Rag, question: str) -> list[float] | None:
    asked = rag.prepare(question)
    hits = rag.search(asked, top_k=rag.settings.top_k)
    ranked = candidates(asked, hits, rag.settings)
    if not ranked or cross_lingual(question, hits[0].chunk.text):
        return None
    return list(evidence_features(asked, hits, ranked[0], ranked))


def news_questions(settings: Settings, cache: Path) -> list[tuple[Rag, str, int, float]]:
    """The news QA set (answerable and not) and every other question of the paraphrased set.

    CMRC's questions reuse their article's words, so a gate fitted on them alone
    reads a reader's own wording (开门迎客 for 对外开放) as missing evidence. The
    other half of the paraphrased set stays out of the fit, to measure it on.
    """
    news = Rag(settings.replace(index_dir=str(cache)))
    qa = load_dataset(ROOT / "eval" / "news_qa.jsonl", settings)
    paraphrased = load_dataset(ROOT / "eval" / "news_paraphrase.jsonl", settings).items[::2]
    return [(news, item.question, int(item.answerable), NEWS_WEIGHT) for item in (*qa.items, *paraphrased)]


def squad_questions(settings: Settings, cache: Path, tmp: Path, squad: tuple[str, Path, int | None]) -> list[tuple[Rag, str, int, float]]:
    """A SQuAD-format set's questions as scripts/bench_retrieval.py asks them: those of its held-out
    articles of an index without them (unanswerable), the others of the whole index (answerable)."""
    name, path, limit = squad
    dataset = load_dataset(path, settings)
    held = set(_hold_out(dataset))
    index = cache_folder(cache, name)
    shutil.copytree(index, tmp / index.name)
    reduced = Rag(settings.replace(index_dir=str(tmp / index.name)))
    reduced.delete(sorted(held))
    full = Rag(settings.replace(index_dir=str(index)))
    return [(reduced if item.gold_docs <= held else full, item.question, int(not item.gold_docs <= held), 1.0) for item in _sample(dataset.items, limit)]


def collect(cache: Path, news_cache: Path | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    settings = load_settings()
    rows, labels, weights = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        asked = squad_questions(settings, cache, Path(tmp), CMRC) + squad_questions(settings, cache, Path(tmp), DRCD)
        seed = load_dataset(ROOT / "eval" / "seed_qa.jsonl", settings)
        seed_rag = Rag(settings.replace(index_dir=str(cache_folder(cache, "seed QA"))))
        asked += [(seed_rag, item.question, int(item.answerable), SEED_WEIGHT) for item in seed.items]
        if news_cache is not None:
            asked += news_questions(settings, news_cache)
        embedder = asked[0][0].embedder  # one model for every index: loaded once
        for index, question, label, weight in asked:
            index.embedder = embedder
            row = features(index, question)
            if row is not None:
                rows.append(row)
                labels.append(label)
                weights.append(weight)
    return np.array(rows), np.array(labels), np.array(weights)


def main() -> int:
    from sklearn.linear_model import LogisticRegression

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", default=str(CACHE), help="the evaluation indexes of scripts/bench_retrieval.py --cache")
    parser.add_argument("--news", default=str(NEWS_CACHE), help="the news index of scripts/bench_honesty.py ('' leaves the news sets out)")
    args = parser.parse_args()
    news = Path(args.news) if args.news else None
    x, y, w = collect(Path(args.cache), news if news is not None and news.exists() else None)
    model = LogisticRegression(C=REGULARISATION, max_iter=2000).fit(x, y, sample_weight=w)
    p = model.predict_proba(x)[:, 1]
    threshold = max(t for t in np.linspace(0, 1, 201) if ((p < t) & (y == 1)).sum() / (y == 1).sum() <= BUDGET)
    refused = ((p < threshold) & (y == 0)).sum() / (y == 0).sum()
    print(f"_EVIDENCE_WEIGHTS = {tuple(round(float(c), 2) for c in model.coef_[0])}")
    print(f"_EVIDENCE_BIAS = {round(float(model.intercept_[0]), 2)}")
    print(
        f"threshold {threshold:.3f}: {refused:.3f} of {int((y == 0).sum())} unanswerable refused, "
        f"≤{BUDGET:.0%} of {int((y == 1).sum())} answerable refused (on the fitting data)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
