"""``rag.search.retrieval.fuse``: both fusions and the single-channel modes, against sums done by hand.

Channels are ``row → (1-based rank, score)`` dicts as retrieval builds them;
the expected numbers below are worked out in the comments, so a change to
the formulas shows up as a plain arithmetic disagreement.
"""

from __future__ import annotations

import pytest

from rag.search.retrieval import fuse
from rag.settings import Settings

Channel = dict[int, tuple[int, float]]

DENSE: Channel = {0: (1, 0.9), 1: (2, 0.7), 2: (3, 0.5)}
BM25: Channel = {1: (1, 8.0), 3: (2, 4.0)}


def rows(fused: list[tuple[int, float]]) -> list[int]:
    return [row for row, _score in fused]


def test_score_fusion_mixes_min_max_cosines_with_bm25_over_its_maximum() -> None:
    # dense min-max over 0.5..0.9: row0 1.0, row1 0.5, row2 0.0; BM25 / 8: row1 1.0, row3 0.5
    fused = fuse(DENSE, BM25, Settings(fusion="score", bm25_share=0.5), "hybrid")
    expected = {1: 0.5 * 0.5 + 0.5 * 1.0, 0: 0.5 * 1.0, 3: 0.5 * 0.5, 2: 0.0}
    assert rows(fused) == [1, 0, 3, 2]
    assert dict(fused) == pytest.approx(expected)


def test_bm25_share_moves_the_balance() -> None:
    fused = fuse(DENSE, BM25, Settings(fusion="score", bm25_share=0.2), "hybrid")
    expected = {0: 0.8 * 1.0, 1: 0.8 * 0.5 + 0.2 * 1.0, 3: 0.2 * 0.5, 2: 0.0}
    assert rows(fused) == [0, 1, 3, 2]
    assert dict(fused) == pytest.approx(expected)
    only_bm25 = dict(fuse(DENSE, BM25, Settings(fusion="score", bm25_share=1.0), "hybrid"))
    assert only_bm25 == pytest.approx({0: 0.0, 1: 1.0, 2: 0.0, 3: 0.5})


def test_score_fusion_survives_flat_and_all_zero_channels() -> None:
    # equal cosines: the span is 0 and every rescaled cosine is 0, not a division by zero;
    # all-zero BM25: divided by 1, so 0 stays 0
    flat: Channel = {4: (1, 0.6), 7: (2, 0.6)}
    zeros: Channel = {7: (1, 0.0)}
    fused = fuse(flat, zeros, Settings(fusion="score", bm25_share=0.5), "hybrid")
    assert fused == [(4, 0.0), (7, 0.0)]  # a tie: lower row first
    assert fuse({}, {}, Settings(), "hybrid") == []


def test_rrf_sums_weighted_reciprocal_ranks() -> None:
    settings = Settings(fusion="rrf", rrf_k=60, dense_weight=1.0, bm25_weight=2.0)
    fused = fuse(DENSE, BM25, settings, "hybrid")
    expected = {
        0: 1.0 / (60 + 1),
        1: 1.0 / (60 + 2) + 2.0 / (60 + 1),
        2: 1.0 / (60 + 3),
        3: 2.0 / (60 + 2),
    }
    assert dict(fused) == pytest.approx(expected)
    assert rows(fused) == [1, 3, 0, 2]


def test_rrf_k_flattens_the_ranks() -> None:
    # k = 0: rank 1 is worth 1, rank 2 a half — row 0 (dense #1) beats row 3 (BM25 #2)
    fused = dict(fuse(DENSE, BM25, Settings(fusion="rrf", rrf_k=0), "hybrid"))
    assert fused == pytest.approx({0: 1.0, 1: 1 / 2 + 1.0, 2: 1 / 3, 3: 1 / 2})


def test_rrf_ignores_the_scores_themselves() -> None:
    rescored: Channel = {row: (rank, score * 100 - 7) for row, (rank, score) in DENSE.items()}
    settings = Settings(fusion="rrf")
    assert fuse(rescored, BM25, settings, "hybrid") == fuse(DENSE, BM25, settings, "hybrid")


def test_rrf_counts_a_row_without_a_dense_rank_only_in_bm25() -> None:
    # retrieval.search fills in cosines for BM25 candidates FAISS did not return, with rank None;
    # such a row is not among the dense candidates, so only its BM25 rank should count
    dense: dict[int, tuple[int | None, float]] = {0: (1, 0.9), 5: (None, 0.2)}
    fused = fuse(dense, {5: (1, 3.0)}, Settings(fusion="rrf", rrf_k=60), "hybrid")
    assert fused == [(0, pytest.approx(1 / 61)), (5, pytest.approx(1 / 61))]


@pytest.mark.parametrize("fusion", ["score", "rrf"])
def test_single_channel_modes_rank_by_that_channel_alone(fusion: str) -> None:
    settings = Settings(fusion=fusion)
    assert fuse(DENSE, BM25, settings, "dense") == [(0, 0.9), (1, 0.7), (2, 0.5)]
    assert fuse(DENSE, BM25, settings, "bm25") == [(1, 8.0), (3, 4.0)]
    assert fuse(DENSE, {}, settings, "bm25") == []


@pytest.mark.parametrize(
    "fusion,dense,bm25",
    [
        # mirror-image ranks: each row is first once, 1/61 + 1/62 apiece
        ("rrf", {5: (1, 0.8), 2: (2, 0.4)}, {2: (1, 6.0), 5: (2, 3.0)}),
        # equal cosines (both rescale to 0) and equal BM25 (both 1): 0.5 apiece
        ("score", {5: (1, 0.8), 2: (2, 0.8)}, {2: (1, 6.0), 5: (2, 6.0)}),
    ],
)
def test_ties_are_broken_by_row(fusion: str, dense: Channel, bm25: Channel) -> None:
    fused = fuse(dense, bm25, Settings(fusion=fusion), "hybrid")
    assert fused[0][1] == pytest.approx(fused[1][1])
    assert rows(fused) == [2, 5]
    assert rows(fuse({9: (1, 0.3), 3: (2, 0.3)}, {}, Settings(fusion=fusion), "dense")) == [3, 9]


def test_load_settings_reaches_fuse(monkeypatch: pytest.MonkeyPatch) -> None:
    """The RAG_* variables pick the fusion and its weights, as the README table says."""
    from rag import load_settings

    monkeypatch.setenv("RAG_FUSION", "rrf")
    monkeypatch.setenv("RAG_RRF_K", "10")
    monkeypatch.setenv("RAG_BM25_WEIGHT", "0.5")
    fused = dict(fuse(DENSE, BM25, load_settings(), "hybrid"))
    assert fused[3] == pytest.approx(0.5 / (10 + 2))
    assert fused[1] == pytest.approx(1 / (10 + 2) + 0.5 / (10 + 1))
