"""Split a compound question ("How many weeks of severance do I get, and how long can I stay on
COBRA?") into the questions it asks, so that each part gets its own evidence.

One search for the whole question finds passages about its dominant topic; the second part is
often answered by another document that never makes the top of the list. Splitting is purely
syntactic and conservative: only at a question mark, or at "and" followed by a question word or
auxiliary verb, and only when every part keeps enough content to search for.
"""

from __future__ import annotations

import re

from policywise.index.lexical import tokenize

_QUESTION_START = (
    r"how|what|when|where|who|whom|which|why|whether|is|are|was|were|do|does|did|can|could|will|"
    r"would|should|shall|may|might|must|am|has|have|had"
)
# A question word after a preposition: ", and by when ...", " and within how many days ..."
_PREPOSED = (
    r"(?:by|in|on|at|for|within|to|from|with|after|before|until)\s+(?:how|what|when|where|which|whom|who)"
)
# ", and how long ..." / " and do I need ..." / "; what about ..."
_JOIN = re.compile(
    rf"\s*(?:,\s*(?:and|or|but)\s+|\s+(?:and|or)\s+|;\s*)(?=(?:{_QUESTION_START}|{_PREPOSED})\b)", re.I
)
_STARTS_QUESTION = re.compile(rf"(?:{_QUESTION_START}|{_PREPOSED})\b", re.I)
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
_WORD = re.compile(r"[A-Za-z0-9$%][\w$%'-]*")
# A part that points back ("Who sees that report?", "When does it show up?") needs the part before it.
# "this month's salary" points at the calendar, not back at the previous part.
# "It" in "is it OK to ..." points at nothing.
_BACK_REFERENCE = re.compile(
    r"\b(?:it(?!\s+(?:ok|okay|fine|possible|allowed|permitted|acceptable|alright|true|necessary|"
    r"mandatory|required|legal|worth)\b)|its|they|them|their)\b",
    re.I,
)
# "That" and its kin point back in a short part ("Is that allowed?", "Who sees that report?"); in a
# part that names enough to search for, they mostly open a relative clause ("a course that ended").
_DEMONSTRATIVE = re.compile(
    r"\b(?:that|this|these|those)(?!\s+(?:month|week|year|morning|afternoon|evening|quarter|summer|winter|"
    r"spring|autumn|fall)\b)",
    re.I,
)
SELF_CONTAINED_TERMS = 4
# People are usually introduced in the context sentences ("We're adopting a little girl."), so "her"
# and "him" point back to the part before only when there is no context.
_PERSON_REFERENCE = re.compile(r"\b(?:he|she|him|her|his|hers)\b", re.I)
MIN_PART_WORDS = 3
MIN_PART_TERMS = 2  # informative terms (stop words dropped) a later part needs to be searched alone
MAX_PARTS = 3


def split_question(question: str) -> list[str]:
    """The standalone questions inside ``question``; ``[question]`` when it asks one thing.

    Statements before the first question ("I'm a remote new hire.") are context every part needs,
    so they are kept in front of each part.
    """
    sentences = [s.strip() for s in _SENTENCE.split(question.strip()) if s.strip()]
    context: list[str] = []
    asks: list[str] = []
    for s in sentences:
        if s.endswith("?") or (asks and _STARTS_QUESTION.match(s)):
            asks.append(s)
        else:
            # A statement is context wherever it stands ("Can I ...? I work in Spokane.").
            context.append(s)
    if not asks:
        return [question]
    parts: list[str] = []
    for s in asks:
        for piece in (p.strip(" ,;") for p in _JOIN.split(s)):
            if not piece:
                continue
            terms = set(tokenize(piece))
            if parts and (
                _BACK_REFERENCE.search(piece)
                or (_DEMONSTRATIVE.search(piece) and len(terms) < SELF_CONTAINED_TERMS)
                or (not context and _PERSON_REFERENCE.search(piece))
                or len(terms) < MIN_PART_TERMS
            ):
                # "When does it show up in my pay?" is still about the part before it, and "how do I
                # apply?" names nothing to search for on its own: keep them with the part before.
                parts[-1] = f"{_as_question(parts[-1])} {_as_question(piece)}"
            else:
                parts.append(piece)
    if len(parts) < 2 or len(parts) > MAX_PARTS:
        return [question]
    if any(len(_WORD.findall(p)) < MIN_PART_WORDS for p in parts):
        return [question]
    prefix = " ".join(context)
    return [f"{prefix} {_as_question(p)}".strip() for p in parts]


def _as_question(part: str) -> str:
    part = part[0].upper() + part[1:]
    return part if part.endswith("?") else part + "?"
