"""Choose the refusal threshold from measured evidence scores, and plot the trade-off.

Reads docs/evidence.json (written by scripts/bench_retrieval.py: the hybrid
evidence score of answerable questions and of questions whose article is not in
the index), sweeps the threshold, and prints, per set and pooled, the share of
unanswerable questions refused (refusal recall), the precision of refusals, and
the share of answerable questions refused. The chosen point is the lowest
threshold that refuses the target share of CMRC 2018 trial's unanswerable
questions while answerable refusals stay within the budget on each dev set
(CMRC 2018 trial, seed QA; pooled, the 41 seed questions would drown in CMRC's
thousand): the target met, every point higher only refuses more answerable
questions. When no threshold meets it, the one refusing the most pooled dev
unanswerable questions within the budget. DRCD is reported beside them (the evidence model is
fitted on it too, scripts/fit_evidence.py; the threshold is not). The
table is written into docs/benchmarks.md between the ``<!-- refusal -->``
markers (scripts/benchdoc.py), the plot into docs/refusal.png.

    .venv/bin/python scripts/calibrate_refusal.py [--budget 0.05] [--target 0.9] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from benchdoc import add_write_options, command, publish, today  # (scripts/ is on the path when a script runs)

ROOT = Path(__file__).resolve().parent.parent
DEV_SETS = ("CMRC 2018 trial", "seed QA")
TARGET_SET = "CMRC 2018 trial"


def rates(answerable: list[float], unanswerable: list[float], threshold: float) -> tuple[float, float, float]:
    """(refusal recall, refusal precision, answerable refused) when evidence < threshold is refused."""
    refused_bad = sum(e < threshold for e in unanswerable)
    refused_good = sum(e < threshold for e in answerable)
    recall = refused_bad / len(unanswerable) if unanswerable else 0.0
    precision = refused_bad / (refused_bad + refused_good) if refused_bad + refused_good else 1.0
    return recall, precision, refused_good / len(answerable) if answerable else 0.0


def choose(dev: dict[str, tuple[list[float], list[float]]], budget: float, target: float, grid: list[float]) -> float:
    """The lowest threshold meeting the target on CMRC within budget everywhere, else the most pooled recall within budget."""
    allowed = [t for t in grid if all(rates(good, bad, t)[2] <= budget for good, bad in dev.values())]
    if not allowed:
        return grid[0]
    if TARGET_SET in dev:
        good, bad = dev[TARGET_SET]
        meeting = [t for t in allowed if rates(good, bad, t)[0] >= target]
        if meeting:
            return min(meeting)
    pooled_bad = [e for _good, bad in dev.values() for e in bad]
    return max(allowed, key=lambda t: (sum(e < t for e in pooled_bad), t))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--evidence", default=str(ROOT / "docs" / "evidence.json"))
    parser.add_argument("--budget", type=float, default=0.05, help="largest share of answerable questions we accept to refuse")
    parser.add_argument("--target", type=float, default=0.9, help="share of CMRC's unanswerable questions to refuse")
    parser.add_argument("--plot", default=str(ROOT / "docs" / "refusal.png"))
    add_write_options(parser, "refusal")
    args = parser.parse_args()
    evidence = json.loads(Path(args.evidence).read_text(encoding="utf-8"))
    grid = [round(0.30 + 0.005 * i, 3) for i in range(121)]
    dev_good = [e for name in DEV_SETS if name in evidence for e in evidence[name]["answerable"]]
    dev_bad = [e for name in DEV_SETS if name in evidence for e in evidence[name]["unanswerable"]]
    dev = {name: (evidence[name]["answerable"], evidence[name]["unanswerable"]) for name in DEV_SETS if name in evidence}
    chosen = choose(dev, args.budget, args.target, grid)
    lines = [
        "| set | questions (answerable / unanswerable) | unanswerable refused | refusal precision | answerable refused |",
        "|---|---|---|---|---|",
    ]
    for name, data in list(evidence.items()) + [("dev pooled", {"answerable": dev_good, "unanswerable": dev_bad})]:
        recall, precision, lost = rates(data["answerable"], data["unanswerable"], chosen)
        lines.append(f"| {name} | {len(data['answerable'])} / {len(data['unanswerable'])} | {recall:.3f} | {precision:.3f} | {lost:.3f} |")
    text = (
        f"Chosen threshold **{chosen}** on {today()} with `{command()}` (dev: {', '.join(dev)}; target {args.target:.0%} of "
        f"{TARGET_SET}'s unanswerable refused, budget {args.budget:.0%} answerable refused on each):\n\n" + "\n".join(lines) + "\n"
    )
    print(text)
    publish(args, text)
    _plot(evidence, grid, chosen, Path(args.plot))
    print(f"plot: {args.plot}")
    return 0


def _plot(evidence: dict, grid: list[float], chosen: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=120)
    for name, data in evidence.items():
        curves = [rates(data["answerable"], data["unanswerable"], t) for t in grid]
        line = ax.plot(grid, [c[0] for c in curves], label=f"{name}: unanswerable refused")[0]
        ax.plot(grid, [c[2] for c in curves], linestyle="--", color=line.get_color(), label=f"{name}: answerable refused")
        ax.plot(grid, [c[1] for c in curves], linestyle=":", color=line.get_color(), label=f"{name}: refusal precision")
    ax.axvline(chosen, color="black", linewidth=1)
    ax.text(chosen, 0.02, f" chosen {chosen}", fontsize=8)
    ax.set_xlabel("refusal threshold on the evidence score")
    ax.set_ylabel("share")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6, loc="center left", bbox_to_anchor=(1, 0.5))
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)


if __name__ == "__main__":
    sys.exit(main())
