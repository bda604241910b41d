"""Follow-up questions understood from the chat, offline and deterministically.

Each question used to be searched alone, so 「总金额是多少？」 after a question
about 重庆工行's grants for poor students found nothing. ``resolve`` decides
whether a question leans on the conversation (a pronoun or demonstrative, an
elliptical 「那X呢？」, or no subject of its own) and, if so, writes the
standalone question that is actually searched — readable, because the user is
shown it:

* an elliptical question takes the earlier question and puts its new slot in
  place of the old one of the same kind (「那上海呢？」 after a question about
  重庆 is the same question about 上海);
* any other follow-up is prefixed with the earlier topic — the earlier question
  without its question words — when it lacks that topic's key terms.

A question with its own topic is searched unchanged. The documents the earlier
answer cited travel along (``cited_docs``) as a tie-breaker for retrieval.

History is OpenAI-style messages (``{"role": "user"|"assistant", "content": str}``);
an assistant message may also carry ``"citations"`` (the objects of
``answer_to_dict``, or document ids). Earlier user questions are resolved in
turn, so a chain of follow-ups keeps its topic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jieba.posseg

from ..search.question import key_terms
from ..text.aliases import alias_table, known_in
from ..text.folding import fold, has_cjk
from ..text.qualifiers import times_in

if TYPE_CHECKING:
    from ..ingest.chunking import Chunk
    from .compose import Answer

#: One chat message as OpenAI clients send it (extra keys such as ``citations`` are allowed).
Message = Mapping[str, Any]

#: Pronouns and demonstratives (folded, i.e. simplified) that point back at something said before.
_ANAPHORA_WORDS = frozenset(
    "它 它们 他 他们 她 她们 其 其中 该 该行 该项 该公司 此 此事 此次 此项 这 这些 那些 这个 那个 这家 那家 这项 这笔 这次 这里 那里 "
    "上述 前者 后者 当地 这位 那位 这种 这一 其它 其他 另外".split()
)
_ANAPHORA_PREFIX = re.compile(r"^(这|那|该|此|其)")
_EN_ANAPHORA = re.compile(r"\b(it|its|they|them|their|this|that|these|those|he|she|his|her|there)\b", re.I)
#: Elliptical questions: 那X呢？ / 和X呢？ / X方面呢？ / what about X? — group "slot" is X.
_ELLIPSIS = re.compile(r"^(?:那么|那|和|还有|以及|至于|而|跟)?(?P<slot>.{1,16}?)(?:方面|的情况|的呢)?呢\s*[？?]?$")
_EN_ELLIPSIS = re.compile(r"^(?:and|what about|how about|and what about)\s+(?P<slot>.+?)\s*\??$", re.I)
#: Parts of speech that give a question a topic of its own: people, places, organisations, other names, abbreviations.
_TOPIC_TAGS = ("nr", "ns", "nt", "nz", "eng", "j")
#: A question this short without a name of its own rarely stands alone (「总金额是多少？」).
SHORT_QUESTION_CHARS = 12
#: A longer question that starts with its predicate (「一共发放了多少钱？」) lacks a subject up to this length.
SUBJECTLESS_CHARS = 20
_EN_SHORT_WORDS = 5
#: Question words, removed when an earlier question becomes the topic of a later one.
_QUESTION_PHRASE = re.compile(
    r"(多少|几)[个项家款户名位人次倍年岁元种条件所只天月号]?|什么时[候间]|什么|哪一?[个些年里儿位家种天月]?|谁|何时|何地|何处|为何|为什么|"
    r"如何|怎么样|怎样|怎么|是否|是不是|有没有|多大|多长|多久|吗|呢|[？?！!。]+"
)
_EN_QUESTION_PHRASE = re.compile(r"\b(how many|how much|how long|how|what|which|who|whom|whose|when|where|why|is|are|was|were|do|does|did)\b|[?!.]+", re.I)
#: Kinds of slot an elliptical question may replace: person, place, organisation, other name, number, time.
#: jieba tags 一共 and the like as abbreviations (j); a word that starts with a numeral is no name.
_NUMERAL = re.compile(r"^[一二三四五六七八九十两几\d]")
_KINDS = {"nr": "person", "ns": "place", "nt": "org", "nz": "name", "eng": "name", "j": "org", "m": "number", "t": "time"}


@dataclass(frozen=True)
class Resolution:
    """What is searched for a question asked in a conversation, and why."""

    question: str  # as the user asked it
    standalone: str  # what is searched: the question itself, or the question with the earlier topic carried in
    used_history: bool  # True when the conversation changed what is searched
    cited_docs: tuple[str, ...] = ()  # documents the previous answer cited: a tie-breaker for a follow-up's retrieval
    by_llm: bool = False  # the standalone question is the LLM's rewrite (checked to add no name or number)


def user_questions(history: Sequence[Message]) -> list[str]:
    """The user's earlier questions, oldest first (assistant turns and blank messages are skipped)."""
    return [str(m.get("content", "")).strip() for m in history if m.get("role") == "user" and str(m.get("content", "")).strip()]


def cited_docs(history: Sequence[Message]) -> tuple[str, ...]:
    """Document ids the last assistant message says it cited (its optional ``citations``)."""
    for message in reversed(history):
        if message.get("role") != "assistant":
            continue
        docs = [c.get("doc", "") if isinstance(c, Mapping) else str(c) for c in message.get("citations") or ()]
        return tuple(dict.fromkeys(d for d in docs if d))
    return ()


def last_answer(history: Sequence[Message]) -> str:
    """The text of the last assistant message ("" when there is none)."""
    for message in reversed(history):
        if message.get("role") == "assistant":
            return str(message.get("content", ""))
    return ""


#: Sentences of an earlier answer at least this long are looked up verbatim in the passages.
_QUOTE_MIN_CHARS = 8
_MARKER = re.compile(r"\[\d+\]")
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;\n])")


def quoted_docs(answer: str, chunks: Iterable[Chunk]) -> tuple[str, ...]:
    """Documents whose passages hold a sentence of ``answer`` verbatim: what a plain-text earlier answer cited.

    OpenAI-style history carries the answer's text with its [n] markers only; quoted answers are
    verbatim sentences, so the documents they came from can be found again.
    """
    sentences = [s.strip() for s in _SENTENCE_END.split(_MARKER.sub("", answer)) if len(s.strip()) >= _QUOTE_MIN_CHARS]
    if not sentences:
        return ()
    return tuple(dict.fromkeys(c.doc_id for c in chunks if any(s in c.text for s in sentences)))


def answer_message(answer: Answer) -> dict[str, Any]:
    """An answer as the assistant turn of a history: OpenAI's message plus the documents it cited."""
    cited = list(dict.fromkeys(c.hit.chunk.doc_id for c in answer.citations))  # a document cited twice is named once
    return {"role": "assistant", "content": answer.text, "citations": cited}


def _tagged(text: str) -> list[tuple[str, str]]:
    return [(w, f) for w, f in jieba.posseg.cut(fold(text)) if w.strip()]


def has_own_topic(question: str) -> bool:
    """True when the question names something of its own (a person, place, organisation, Latin name or number)."""
    if not has_cjk(question):
        words = question.split()
        return any(w[:1].isupper() for w in words[1:]) or any(ch.isdigit() for ch in question)
    return any(flag.startswith(_TOPIC_TAGS) and not _NUMERAL.match(word) for word, flag in _tagged(question))


def _has_anaphora(question: str) -> bool:
    if not has_cjk(question):
        return bool(_EN_ANAPHORA.search(question))
    return any(word in _ANAPHORA_WORDS or (flag == "r" and _ANAPHORA_PREFIX.match(word)) for word, flag in _tagged(question))


def ellipsis_slot(question: str) -> str:
    """X of an elliptical 「那X呢？」 / "what about X?" ("" when the question is not elliptical)."""
    text = question.strip()
    match = _ELLIPSIS.match(fold(text)) if has_cjk(text) else _EN_ELLIPSIS.match(text)
    if not match:
        return ""
    start, end = match.span("slot")
    slot = text[start:end] if len(fold(text)) == len(text) else match.group("slot")
    return slot.strip(" ，,的在")


def _subjectless(question: str) -> bool:
    """A question that starts with its predicate (「发放了多少钱？」) or is short with no name of its own."""
    text = question.strip()
    if has_own_topic(text):
        return False
    if not has_cjk(text):
        return len(text.split()) <= _EN_SHORT_WORDS
    if len(text) <= SHORT_QUESTION_CHARS:
        return True
    tags = _tagged(text)
    return len(text) <= SUBJECTLESS_CHARS and bool(tags) and tags[0][1].startswith(("v", "d", "p")) and tags[0][0] not in ("是", "有")


def is_follow_up(question: str) -> bool:
    """A question that leans on what was said before."""
    text = question.strip()
    return bool(_has_anaphora(text) or ellipsis_slot(text) or fold(text).startswith("其中") or _subjectless(text))


def topic_of(question: str) -> str:
    """An earlier question as the topic of a later one: without its question words and final punctuation."""
    pattern = _QUESTION_PHRASE if has_cjk(question) else _EN_QUESTION_PHRASE
    topic = re.sub(r"\s+", " ", pattern.sub(" " if not has_cjk(question) else "", question)).strip(" ，,、：:")
    return re.sub(r"(是|的|了)+$", "", topic) if has_cjk(topic) else topic


def carry_topic(question: str, previous: str) -> str:
    """``question`` led by the topic of ``previous`` when it lacks that topic's key terms."""
    folded = fold(question)
    missing = [term for term in key_terms(fold(topic_of(previous))) if term not in folded]
    if not missing:
        return question
    topic = topic_of(previous)
    if not has_cjk(question):
        return f"{question.rstrip('?').strip()} ({topic})?"
    return f"{topic}，{question.strip()}"


def _kind(flag: str) -> str:
    return next((kind for tag, kind in _KINDS.items() if flag.startswith(tag)), "")


def substitute(slot: str, previous: str) -> str:
    """``previous`` with ``slot`` put in place of the word of the same kind (「上海」 for 「重庆」); "" when none fits."""
    if not has_cjk(previous):
        return _substitute_english(slot, previous)
    by_kind = _same_kind(slot, previous)
    if by_kind is not None:
        return by_kind
    slot_tags = _tagged(slot)
    slot_kind = _kind(slot_tags[-1][1]) if slot_tags else ""
    folded_slot = fold(slot)
    words = [(w, f) for w, f in _tagged(previous) if not _ASKING.match(w)]  # never the asked word: 多少, 几
    candidates = [w for w, f in words if slot_kind and _kind(f) == slot_kind and w != folded_slot]
    if not candidates:
        candidates = _same_head(slot_tags, words)
    if not candidates:  # same head word: 存款 for 贷款, 2023年 for 2022年
        candidates = [w for w, f in words if len(w) > 1 and w[-1] == folded_slot[-1] and w != folded_slot and f.startswith(("n", "m", "t"))]
    if not candidates:
        return ""
    folded = fold(previous)
    at = folded.find(candidates[0])
    if at < 0:
        return ""
    base = previous if len(folded) == len(previous) else folded
    return base[:at] + slot + base[at + len(candidates[0]) :]


#: Words that ask rather than name: a slot never takes their place.
_ASKING = re.compile(r"^(?:多少|几|什么|哪|谁|何)")


def _same_kind(slot: str, previous: str) -> str | None:
    """``previous`` with a time slot in place of its time (or before it, when it names none), or a known
    name (建行, 上海) in place of another known name; None when the slot is neither."""
    folded_slot, folded = fold(slot), fold(previous)
    base = previous if len(folded) == len(previous) else folded
    times = times_in(folded)
    if times_in(folded_slot) and not times_in(folded_slot)[0][0] and times_in(folded_slot)[0][1] == len(folded_slot):
        if not times:
            return slot + base
        start, end, _when = times[0]
        return base[:start] + slot + base[end:]
    table = alias_table()
    if folded_slot in table:
        kind = _name_kind(folded_slot)
        for start, end, name in known_in(folded, table):
            if folded_slot not in table[name] and (not kind or _name_kind(name) in ("", kind)):
                return base[:start] + slot + base[end:]
    return None


def _name_kind(name: str) -> str:
    """person, place or org as jieba tags a name alone ("" when it does not tag it as one)."""
    tags = _tagged(name)
    return _kind(tags[-1][1]) if len(tags) == 1 else ""


def _same_head(slot_tags: list[tuple[str, str]], words: list[tuple[str, str]]) -> list[str]:
    """A compound slot's counterpart: the earlier question's modifier and the slot's own head word
    (法人客户 replaces 个人客户, not 客户 alone, which would leave 个人法人客户)."""
    if len(slot_tags) < 2:
        return []
    head, modifier = slot_tags[-1][0], "".join(w for w, _f in slot_tags[:-1])
    for k, (word, _flag) in enumerate(words):
        if word == head and k > 0:
            before, flag = words[k - 1]
            if before != modifier and flag.startswith(("n", "vn", "a", "b", "j")):
                return [before + head]
    return []


def _substitute_english(slot: str, previous: str) -> str:
    words = previous.split()
    numeric = any(ch.isdigit() for ch in slot)
    for i, word in enumerate(words):
        core = word.strip("?,.;:'\"")
        same_shape = core[:1].isupper() and core.isupper() == slot.isupper()  # Chongqing for Shanghai, ICBC for CCB
        if i and core and ((numeric and any(ch.isdigit() for ch in core)) or (not numeric and same_shape)):
            words[i] = word.replace(core, slot)
            return " ".join(words)
    return ""


def rewrite(question: str, previous: str, anchor: str = "") -> tuple[str, bool]:
    """The standalone form of follow-up ``question`` asked right after ``previous`` (itself standalone).

    Returns it and whether it is a whole question of its own (a substitution) rather than a carried
    topic. Topics are carried from ``anchor`` — the last question that stood alone — so a chain of
    follow-ups does not pile up earlier follow-ups.
    """
    slot = ellipsis_slot(question)
    if slot:
        replaced = substitute(slot, previous)
        if replaced:
            return replaced, True
    return carry_topic(question, anchor or previous), False


def resolve(question: str, history: Sequence[Message] = ()) -> Resolution:
    """The standalone question for ``question`` asked after ``history``."""
    previous = anchor = ""
    for earlier in user_questions(history):
        if previous and is_follow_up(earlier):
            previous, whole = rewrite(earlier, previous, anchor)
            anchor = previous if whole else anchor
        else:
            previous = anchor = earlier
    if not previous or not is_follow_up(question):
        return Resolution(question, question, False)
    standalone, _whole = rewrite(question, previous, anchor)
    used = standalone != question
    return Resolution(question, standalone, used, cited_docs(history) if used else ())
