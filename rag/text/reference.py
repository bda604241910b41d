"""Whether a sentence leans on the one before it: it names what it speaks of by 这/此/他, or says what follows
from something said before (因此, 于是).

A quote such as 五月天也以这张专辑获得第十二届金曲奖 answers 哪一张专辑 only with the sentence before it,
which names the album; 这一阶段目的是… continues 工程进入最后的第三阶段 and says what that stage was for.
Simplified and traditional characters, and the English openers of mixed articles.
"""

from __future__ import annotations

import re

#: How far into its first clause a sentence may name its subject by a pronoun (五月天也以这张专辑…).
_OPENING_CHARS = 12

#: 这/此/该/其/他/她/它 standing for something named before, not the words they start (此外, 其中, 其他, 吉他).
_POINTER = r"(?:这|這|此(?![外后後前])|该|該|其(?![中他它余餘實实次])|(?<![其吉利])他|她|(?<![其])它|彼(?!此))"
_FIRST_CLAUSE = re.compile(r"[^，,；;：:]*")
_POINTS_BACK = re.compile(rf"^.{{0,{_OPENING_CHARS}}}?{_POINTER}")
#: What follows from the sentence before: 因此, 于是, 在此背景下 …
_CONSEQUENCE = re.compile(r"^\s*(?:因此|所以|于是|於是|故(?=[，,而此])|因而|从而|從而|结果|結果|遂|此时|此時|在此)")
#: A sentence that carries the one before on: 但/而/并 …, or opens by pointing at it.
_CARRIES_ON = re.compile(rf"^\s*(?:{_POINTER}|但|而|并|並|且|也)")
_OPENS_WITH_POINTER = re.compile(rf"^\s*{_POINTER}")
_ENGLISH_SUBJECT = re.compile(r"^\s*(?:This|These|That|Those|It|He|She|They)\b")
_ENGLISH_BACK = re.compile(r"^\s*(?:This|These|That|Those|It|Its|He|His|She|Her|They|Their|Thus|Therefore|Hence)\b")
_ENGLISH_ON = re.compile(r"^\s*(?:But|However|This|These|It|He|She|They)\b")


def refers_back(sentence: str) -> bool:
    """Whether ``sentence`` names its subject by a pronoun early in its first clause, or opens with a consequence
    of what was said before it."""
    first = _FIRST_CLAUSE.match(sentence.lstrip())
    opening = first.group(0) if first else ""
    return bool(_POINTS_BACK.search(opening) or _CONSEQUENCE.match(sentence) or _ENGLISH_BACK.match(sentence))


def opens_with_pronoun(sentence: str) -> bool:
    """Whether ``sentence``'s very subject is a pronoun (他得王猛辅政…, 这也是…): it stands for someone or something
    named before."""
    return bool(_OPENS_WITH_POINTER.match(sentence) or _ENGLISH_SUBJECT.match(sentence))


def carries_on(sentence: str) -> bool:
    """Whether ``sentence`` goes on from the one before it (这一阶段…, 但后来…) rather than starting afresh."""
    return bool(_CARRIES_ON.match(sentence) or _ENGLISH_ON.match(sentence))
