"""The prompt for generative answers: rules in the question's language, a worked example, numbered passages.

Passage numbers are the hits' positions (1-based), so [n] in the model's text,
the citation ``n`` and ``hits[n-1]`` always agree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..ingest.chunking import split_sentences
from ..search.retrieval import Hit
from ..text.folding import language_of
from .verify import bare

#: What the model must answer, verbatim, when the passages do not hold the answer.
NO_ANSWER = {
    "zh-hans": "资料中没有找到答案。",
    "zh-hant": "資料中沒有找到答案。",
    "en": "The documents do not contain the answer.",
}


_INSTRUCTIONS = {
    "zh-hans": (
        "你是严谨的问答助手，只根据下面编号的资料回答问题，不使用资料以外的知识。\n"
        "要求：\n1. 用简体中文直接回答，一到三句话，尽量照抄资料中回答问题的原句。\n"
        "2. 每句话末尾用方括号标注它所依据的资料编号，即那份资料开头方括号里的数字。\n"
        "3. 数字、日期、名称必须与资料原文完全一致。\n"
        "4. 只有当资料里确实没有与问题相关的内容时，才只回答：{no}"
    ),
    "zh-hant": (
        "你是嚴謹的問答助手，只根據下面編號的資料回答問題，不使用資料以外的知識。\n"
        "要求：\n1. 用繁體中文直接回答，一到三句話，盡量照抄資料中回答問題的原句。\n"
        "2. 每句話末尾用方括號標注它所依據的資料編號，即那份資料開頭方括號裡的數字。\n"
        "3. 數字、日期、名稱必須與資料原文完全一致。\n"
        "4. 只有當資料裡確實沒有與問題相關的內容時，才只回答：{no}"
    ),
    "en": (
        "You are a careful question-answering assistant. Answer only from the numbered passages below, "
        "never from other knowledge.\nRules:\n1. Answer in English, directly, in one to three sentences, "
        "staying close to the passages' own wording.\n"
        "2. End every sentence with the number, in square brackets, of the passage it rests on: the number that passage starts with.\n"
        "3. Copy numbers, dates and names exactly as the passages write them.\n"
        "4. Only if no passage says anything relevant to the question, reply exactly: {no}"
    ),
}
_LABELS = {"zh-hans": ("资料：", "问题："), "zh-hant": ("資料：", "問題："), "en": ("Passages:", "Question: ")}


def passage_block(n: int, hit: Hit, language: str) -> str:
    """``[n] 《title》`` then the chunk, every sentence followed by ``[n]`` too.

    A small model that copies a sentence copies the marker after it, so the
    citation travels with the fact; with the number only at the top of the
    passage, 1.5B models cited a neighbouring passage about half the time.
    """
    title = hit.chunk.title.strip()
    heading = (f"《{title}》" if language != "en" else title) if title else ""
    lines = []
    for line in re.split(r"\s*\n\s*", hit.chunk.text.strip()):  # paragraph breaks cost tokens, not meaning
        sentences = [line[s:e].strip() for s, e in split_sentences(line)] or [line]
        lines.append((" " if language == "en" else "").join(f"{sentence}[{n}]" for sentence in sentences if sentence))
    return f"[{n}] {heading}\n" + "\n".join(lines)


#: One worked example before the real question, in each language. Rules alone do not
#: work with small models: told only to "cite the passage number" they write no
#: marker; shown a marker in the rules they copy its number onto every answer. A
#: worked exchange, made up and about nothing in any corpus, teaches the habit:
#: the marker is the number of the passage holding the fact (here [2], not [1]).
_EXAMPLE = {
    "zh-hans": (
        "[1] 《示例》\n这家图书馆每周一闭馆。[1]\n\n[2] 《示例》\n该馆藏书约120万册，2019年完成扩建。[2]",
        "这家图书馆有多少藏书？",
        "该馆藏书约120万册。[2]",
    ),
    "zh-hant": (
        "[1] 《示例》\n這家圖書館每週一閉館。[1]\n\n[2] 《示例》\n該館藏書約120萬冊，2019年完成擴建。[2]",
        "這家圖書館有多少藏書？",
        "該館藏書約120萬冊。[2]",
    ),
    "en": (
        "[1] Example\nThe library is closed on Mondays.[1]\n\n[2] Example\nThe library holds about 1.2 million books and was extended in 2019.[2]",
        "How many books does the library hold?",
        "The library holds about 1.2 million books. [2]",
    ),
}


def _user_turn(language: str, passages: str, question: str) -> str:
    passages_label, question_label = _LABELS[language]
    return f"{passages_label}\n\n{passages}\n\n{question_label}{question.strip()}"


#: Said to the model when the passages leave out a qualifier of the question (the support check's ``missing``).
_MISSING = {
    "zh-hans": "注意：资料中没有关于「{}」的信息。不要把资料中其他对象或时间的内容说成是「{}」的；先说明资料没有提到它，再说资料中最接近的内容。",
    "zh-hant": "注意：資料中沒有關於「{}」的資訊。不要把資料中其他對象或時間的內容說成是「{}」的；先說明資料沒有提到它，再說資料中最接近的內容。",
    "en": "Note: the passages say nothing about “{}”. Do not present what they say about something else as being about “{}”; say that they do not mention it, then give the closest they say.",
}


def build_messages(question: str, hits: Sequence[Hit], missing: Sequence[str] = ()) -> list[dict[str, str]]:
    """Chat messages: rules in the question's language, a worked example, then passages [1]..[n] and the question.

    The passages go in the user turn (some chat templates, Gemma's among them,
    have no system role of their own); their numbers are the hits' positions.
    ``missing`` names what the question asks that the passages do not support.
    """
    language = language_of(question)
    example_passages, example_question, example_answer = _EXAMPLE[language]
    passages = "\n\n".join(passage_block(n, hit, language) for n, hit in enumerate(hits, start=1))
    rules = _INSTRUCTIONS[language].format(no=NO_ANSWER[language])
    if missing:
        named = "、".join(missing) if language != "en" else "”, “".join(missing)
        rules += "\n" + _MISSING[language].format(named, named)
    return [
        {"role": "system", "content": rules},
        {"role": "user", "content": _user_turn(language, example_passages, example_question)},
        {"role": "assistant", "content": example_answer},
        {"role": "user", "content": _user_turn(language, passages, question)},
    ]


def is_no_answer(text: str) -> bool:
    """The model used the fixed "no answer" sentence (any language, punctuation and markers ignored)."""
    return bool(bare(text)) and any(bare(text) == bare(s) for s in NO_ANSWER.values())
