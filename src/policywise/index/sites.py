"""Sites a question names that the policies never do: "the Boise clinic", "the London office".

A handbook that names its offices, clinics or plants says nothing about a site it never names
("which bank holidays does the London office observe?", "what is the extension for security at
the Boise clinic?"), yet retrieval finds the rules written for the sites it does name, and quoting
them would answer for the wrong place. A site is a capitalised name before a word for a place of
work; it is missing when a word of its name appears nowhere near a site of that kind in the policies
("London" as one of the high-cost cities of a travel policy does not name a London office).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_PLACE_OF_WORK = (
    r"office|clinic|site|branch|campus|hospital|store|shop|plant|warehouse|depot|facility|location|"
    r"centre|center|building|headquarters|hq|factory|lab|laboratory|studio|hub|mill|yard|terminal"
)
# "the Boise clinic", "our New York office", "at Leeds site": one to three capitalised words.
_SITE = re.compile(
    r"\b(?i:the|our|your|my|at|in|from|to)\s+((?:[A-Z][\w'’.-]*\s+){1,3})(" + _PLACE_OF_WORK + r")s?\b"
)
# Capitalised words that describe a site rather than name it.
_DESCRIPTIVE = frozenset(
    re.findall(
        r"\w+",
        "head main regional corporate central home remote satellite new local nearest company group global "
        "national international north south east west northern southern eastern western city downtown "
        "flagship primary principal registered",
    )
)
_WORD = re.compile(r"[a-z0-9]+")
_KINDS = frozenset(_PLACE_OF_WORK.split("|"))
# "I work at", "I'm based in", "we're located at": where the asker is, not what they ask about.
_SELF = re.compile(
    r"\b(?:i|we)(?:'m|'re|\s+am|\s+are)?\s+(?:\w+\s+)?(?:work|working|based|located|stationed|sit|sitting)?"
    r"\s*(?:at|in|from|out\s+of)\s+$",
    re.IGNORECASE,
)
_QUESTION_END = re.compile(r"[.!?]")


def _in_a_question(text: str, at: int) -> bool:
    """Whether position ``at`` lies in a sentence ending with a question mark (or in unpunctuated text)."""
    end = _QUESTION_END.search(text, at)
    return end is None or end.group(0) == "?"


NEAR = 6  # words either side of "office" that may name it ("offices in Denver, Austin and Toronto")


class SiteNames:
    """The sites a corpus names: for each kind of site ("clinic"), the words written near it ("the
    Missoula clinic", "our offices in Denver, Austin and Toronto")."""

    def __init__(self, texts: Iterable[str]) -> None:
        self.near: dict[str, set[str]] = {}
        for text in texts:
            words = _WORD.findall(text.lower())
            for i, word in enumerate(words):
                kind = _kind(word)
                if kind in _KINDS:
                    near = self.near.setdefault(kind, set())
                    near.update(words[max(0, i - NEAR) : i + NEAR + 1])

    def unnamed(self, question: str) -> list[str]:
        """The sites ``question`` asks about that the policies never name beside a site of that kind. Only
        where the policies name sites of that kind: a handbook naming none writes for every site. A site
        the asker only says they work at ("I work at the Boise clinic. What is the per diem?", "I'm based
        in the Leeds office, how much leave do I get?") is not what they ask about: the general rules
        answer them."""
        out = []
        for m in _SITE.finditer(question):
            if _SELF.search(question[: m.start()]) or not _in_a_question(question, m.start()):
                continue
            near = self.near.get(_kind(m.group(2)))
            name = [w for w in _WORD.findall(m.group(1).lower()) if w not in _DESCRIPTIVE]
            if name and near and any(w not in near for w in name):
                out.append(f"the {m.group(1).strip()} {m.group(2)}")
        return out


def _kind(word: str) -> str:
    word = word.lower()
    return word[:-1] if word.endswith("s") and word[:-1] in _KINDS else word
