"""Build the conversation benchmark (eval/conversations.jsonl and its corpus) from the shared datasets and the seeds.

A conversation is three or four questions about one paragraph: the first asked in
full, the later ones written as a person would follow up — the topic they share
with the first question (its longest common phrase) dropped when it leads the
question, else replaced by a pronoun (它, or 其 for a possessive). Each follow-up
keeps its full standalone form and its gold answer. Every other dataset
conversation ends with an unanswerable follow-up: a question, written the same
way, from a paragraph that is left out of the corpus. Hand-written seed
conversations add elliptical follow-ups (那X呢？), English and unanswerable ones.

    python scripts/make_conversations.py [--data ../shared/data] [--per-dataset 20]

Deterministic: the same data give the same files.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path
from typing import Any

import jieba.posseg

ROOT = Path(__file__).resolve().parent.parent
SEED = 7
#: Shared phrases shorter than this are not a topic.
MIN_TOPIC_CHARS = 2
#: Paragraphs of each dataset indexed beside the conversations' own (none of them holds a left-out question's answer).
DISTRACTORS = 200
_CJK = re.compile(r"^[\u3400-\u9fff]+$")
_QUESTION_WORDS = re.compile(r"什么|多少|哪|谁|幾|几|為何|为何|為什麼|为什么|如何|何|是否|甚麼")

#: Seed-article conversations, written by hand: (turns), each turn (asked, standalone, answer keywords, evidence).
SEED_CONVERSATIONS: list[list[tuple[str, str, list[str], str]]] = [
    [
        ("重庆工行为多少名贫困大学生发放了资助金？", "重庆工行为多少名贫困大学生发放了资助金？", ["8万"], "超过8万名贫困大学生"),
        ("总金额是多少？", "重庆工行发放的贫困大学生资助金总金额是多少？", ["10亿"], "发放资助金共计10亿元"),
        ("这家银行还为农民研发了什么贷款产品？", "重庆工行为农民研发了什么贷款产品？", ["旺农贷"], "“旺农贷”产品"),
    ],
    [
        ("重庆工行建成并投入运营的社银合作网点达到多少家？", "重庆工行建成并投入运营的社银合作网点达到多少家？", ["95"], "社银合作网点达到95家"),
        ("覆盖了多少个区县？", "重庆工行的社银合作网点覆盖了多少个区县？", ["37"], "覆盖全市37个区县"),
        ("它们的年营业额是多少？", "重庆工行社银合作网点的年营业额是多少？", [], ""),
    ],
    [
        ("工行推出了多少项普惠金融API开放服务？", "工行推出了多少项普惠金融API开放服务？", ["109"], "共109项普惠金融API开放服务"),
        ("它的开放平台开放了多少个应用接口？", "工行API开放平台开放了多少个应用接口？", ["1,400"], "1,400余个应用接口"),
        ("其中有多少个是收费的？", "工行API开放平台的应用接口中有多少个是收费的？", [], ""),
    ],
    [
        ("截至6月末工行的个人客户一共有多少？", "截至6月末工行的个人客户一共有多少？", ["6.64亿"], "工行个人客户总量达6.64亿户"),
        ("其中使用手机银行的呢？", "截至6月末工行使用手机银行的个人客户有多少？", ["3.85亿"], "个人手机银行客户3.85亿户"),
        ("那企业客户呢？", "截至6月末工行的企业客户一共有多少？", [], ""),
    ],
    [
        (
            "面向小微企业的线上信用贷款，工行累计推出了多少款？",
            "面向小微企业的线上信用贷款，工行累计推出了多少款？",
            ["353"],
            "累计推出353款小微企业线上信用贷",
        ),
        ("主动授信的总额大约是多少？", "工行给小微企业主动授信的总额大约是多少？", ["8000亿"], "主动授信近8000亿元"),
        ("根据用电数据推出的那款叫什么？", "工行根据企业用电数据推出的贷款叫什么？", ["电e贷"], "基于企业用电等数据推出“电e贷”"),
    ],
    [
        ("重慶工行的社銀合作網點達到多少家？", "重慶工行的社銀合作網點達到多少家？", ["95"], "社银合作网点达到95家"),
        ("覆蓋了多少個區縣？", "重慶工行的社銀合作網點覆蓋了多少個區縣？", ["37"], "覆盖全市37个区县"),
    ],
    [
        (
            "How many inclusive-finance open API services has ICBC launched?",
            "How many inclusive-finance open API services has ICBC launched?",
            ["109"],
            "共109项普惠金融API开放服务",
        ),
        (
            "How many application interfaces does its open platform offer?",
            "How many application interfaces does the ICBC API open platform offer?",
            ["1,400"],
            "1,400余个应用接口",
        ),
        ("What is its share price in Hong Kong?", "What is the share price of ICBC in Hong Kong?", [], ""),
    ],
    [
        ("工行利用区块链为多少家慈善机构提供服务？", "工行利用区块链为多少家慈善机构提供服务？", ["200"], "为全国近200家慈善机构提供集金融服务"),
        ("物联网平台呢，接入了多少台设备？", "工行物联网平台接入了多少台设备？", ["100多万"], "现已接入ATM、POS、钱箱等100多万台设备"),
        ("这些设备每年耗电多少？", "工行物联网平台接入的设备每年耗电多少？", [], ""),
    ],
]


def topic(first: str, other: str) -> str:
    """The longest run of whole words of ``other`` that ``first`` also has and that names something.

    Whole jieba words only (so 「西羅馬帝國」 never loses just 「羅馬帝國」), no question words,
    numerals or pronouns, at least one noun; a title in 《》 is taken with its brackets.
    """
    words = [(w, f) for w, f in jieba.posseg.cut(other)]
    best = ""
    for i in range(len(words)):
        for j in range(i + 1, len(words) + 1):
            span = words[i:j]
            piece = "".join(w for w, _ in span)
            if len(piece) <= len(best) or len(piece) < MIN_TOPIC_CHARS or piece not in first:
                continue
            if any(f.startswith(("r", "m", "q", "x", "u", "p", "c", "y")) or _QUESTION_WORDS.search(w) for w, f in span):
                continue
            if any(f.startswith(("n", "j", "eng")) for _w, f in span):
                best = piece
    if best and f"《{best}》" in other:
        return f"《{best}》"
    return best


def follow_up(question: str, shared: str) -> str:
    """``question`` written as a follow-up: the shared topic dropped when it leads, else a pronoun in its place."""
    at = question.find(shared)
    rest = question[at + len(shared) :]
    if at == 0:
        return rest.lstrip("的之，,")
    person = any(f.startswith("nr") for _w, f in jieba.posseg.cut(shared))
    if rest.startswith(("的", "之")):
        return question[:at] + "其" + rest[1:]
    return question[:at] + ("他" if person else "它") + rest


def _turn(question: str, standalone: str, answers: list[str], evidence: str, answerable: bool = True) -> dict[str, Any]:
    return {"question": question, "standalone": standalone, "answer": answers, "evidence": evidence, "answerable": answerable}


def from_squad(path: Path, count: int, rng: random.Random) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Conversations from paragraphs with three questions sharing a topic, and the corpus they are asked over."""
    paragraphs = [p for article in json.loads(path.read_text(encoding="utf-8"))["data"] for p in article["paragraphs"]]
    rng.shuffle(paragraphs)
    conversations: list[dict[str, Any]] = []
    used: list[dict[str, Any]] = []
    spare: list[dict[str, Any]] = []
    for paragraph in paragraphs:
        qas = [q for q in paragraph["qas"] if q["question"].strip() and q["answers"]]
        made = _conversation(qas) if len(conversations) < count else None
        if made is None:
            spare.append(paragraph)
            continue
        conversations.append({"id": f"{path.stem}-{paragraph['id']}", "source": path.stem, "turns": made})
        used.append(paragraph)
    unused = iter(spare)
    left_out: set[str] = set()
    for conversation in conversations[::2]:  # an unanswerable follow-up from a paragraph outside the corpus
        for paragraph in unused:
            qas = [q for q in paragraph["qas"] if q["question"].strip()]
            pair = _pair(qas)
            if pair:
                asked, full = pair
                conversation["turns"].append(_turn(asked, full, [], "", answerable=False))
                left_out.add(paragraph["id"])
                break
    # the rest of the paragraphs, up to DISTRACTORS, make retrieval a real choice
    distractors = [p for p in spare if p["id"] not in left_out][:DISTRACTORS]
    corpus = [{"id": f"{p['id']}.txt", "text": p["context"]} for p in sorted(used + distractors, key=lambda p: p["id"])]
    return conversations, corpus


def _pair(qas: list[dict[str, Any]]) -> tuple[str, str] | None:
    """(follow-up form, full form) of one question of a paragraph that shares a topic with another."""
    for first in qas:
        for other in qas:
            if other is first:
                continue
            shared = topic(first["question"], other["question"])
            if shared:
                return follow_up(other["question"], shared), other["question"]
    return None


def _conversation(qas: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    for first in qas:
        later = []
        for other in qas:
            shared = topic(first["question"], other["question"]) if other is not first else ""
            asked = follow_up(other["question"], shared) if shared else ""
            if asked and len(asked) >= 4 and asked != other["question"]:
                answers = list(dict.fromkeys(a["text"] for a in other["answers"] if a["text"].strip()))
                later.append(_turn(asked, other["question"], answers, answers[0]))
        if len(later) >= 2:
            answers = list(dict.fromkeys(a["text"] for a in first["answers"] if a["text"].strip()))
            return [_turn(first["question"], first["question"], answers, answers[0]), *later[:2]]
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--per-dataset", type=int, default=20)
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "conversations.jsonl")
    args = parser.parse_args()
    rng = random.Random(SEED)
    conversations = [
        {"id": f"seeds-{i}", "source": "seeds", "turns": [_turn(q, s, a, e, bool(a)) for q, s, a, e in turns]}
        for i, turns in enumerate(SEED_CONVERSATIONS, start=1)
    ]
    corpus: list[dict[str, str]] = []
    for name in ("cmrc2018_trial.json", "DRCD_dev.json"):
        made, docs = from_squad(args.data / name, args.per_dataset, rng)
        conversations += made
        corpus += docs
    args.out.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in conversations), encoding="utf-8")
    corpus_path = args.out.with_name(args.out.stem + "_corpus.jsonl")
    corpus_path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in corpus), encoding="utf-8")
    follow_ups = sum(len(c["turns"]) - 1 for c in conversations)
    unanswerable = sum(not t["answerable"] for c in conversations for t in c["turns"][1:])
    print(f"{len(conversations)} conversations, {follow_ups} follow-ups ({unanswerable} unanswerable), {len(corpus)} corpus paragraphs → {args.out}")


if __name__ == "__main__":
    main()
