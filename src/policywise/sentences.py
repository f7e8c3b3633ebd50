"""Sentence splitting good enough for policy prose, lists and tables, with no model to download."""

from __future__ import annotations

import re

# Abbreviations that end with a period but rarely end a sentence in policy text.
_ABBREVIATIONS = {
    "e.g",
    "i.e",
    "etc",
    "vs",
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "no",
    "nos",
    "st",
    "jr",
    "sr",
    "inc",
    "ltd",
    "co",
    "corp",
    "dept",
    "approx",
    "min",
    "max",
    "ext",
    "fig",
    "sec",
    "art",
    "para",
    "u.s",
    "u.k",
    "a.m",
    "p.m",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
}

# What opens a list item or a clause, and the space after it: a bullet, "3." or "(3)", "b." or "(b)", "(iv)".
LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\(?\d{1,3}[.)]|[a-z]\.|\(?[a-zA-Z]\)|\(?[ivxIVX]{1,4}\))\s+")
# A candidate boundary: end punctuation, optional closing quote/bracket, whitespace, then a capital,
# digit, quote or bracket that starts the next sentence, or a clause's label: legal drafting runs
# "... 152 hours. (b) A seven-day shift worker ..." together when a PDF's lines are joined.
_BOUNDARY = re.compile(r"([.!?])([\"')\]]*)\s+(?=[\"'(\[]?[A-Z0-9]|\((?:[a-zA-Z]|[ivx]{1,4})\)\s)")
_MARKER_ONLY = re.compile(r"^\s*(?:[-*•]\s*)?(?:\d{1,3}|[a-zA-Z]|[ivxIVX]{1,4})[.)]$")


def split_sentences(paragraph: str) -> list[str]:
    """Split one paragraph into sentences; list items and table rows stay whole lines."""
    out: list[str] = []
    lines = [ln.strip() for ln in paragraph.split("\n") if ln.strip()]
    # A paragraph made of list items or table rows is split by line: each line is a unit of meaning.
    if len(lines) > 1 and all(LIST_ITEM.match(ln) or " | " in ln for ln in lines):
        for ln in lines:
            out.extend(_split_prose(ln))
        return out
    return _split_prose(" ".join(lines))


def _split_prose(text: str) -> list[str]:
    sentences: list[str] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        end = m.end(2)
        if m.group(1) == "." and _is_abbreviation(text, m.start(1)):
            continue
        if _MARKER_ONLY.match(text[start:end]):
            continue  # "6. Independence Day": the number is a list marker, not a sentence
        piece = text[start:end].strip()
        if piece:
            sentences.append(piece)
        start = m.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def _is_abbreviation(text: str, dot: int) -> bool:
    word_start = dot
    while word_start > 0 and (text[word_start - 1].isalnum() or text[word_start - 1] == "."):
        word_start -= 1
    word = text[word_start:dot].lower()
    if word in _ABBREVIATIONS:
        return True
    # Single letters ("J. Smith", "section 4.b.") are initials, not sentence ends.
    return len(word) == 1 and word.isalpha()


# "- Aetna HDHP with HSA: $1,700 deductible." or "Carryover: up to 5 days." opens a labelled line.
_LINE_LABEL = re.compile(r"^\s*(?:[-*•]\s+|\d{1,2}[.)]\s+)?([^:\n]{2,60}?)\s*:\s+\S")
MAX_LINE_LABEL_WORDS = 8  # (a heading used as a label in an answer: answer/extractive.py)


def sentences_to_embed(text: str) -> list[tuple[str, str]]:
    """Each sentence of a chunk as answers quote it, with the text to embed for it: the sentence, and for a
    sentence that continues a labelled line, the label before it. "Larkspur contributes $750 to your Health
    Savings Account" says nothing of the plan it belongs to; its line's label ("Aetna High-Deductible Health
    Plan with HSA") does.
    """
    out: list[tuple[str, str]] = []
    for line in text.split("\n"):
        sents = [s for s in split_sentences(line) if s.strip()]
        m = _LINE_LABEL.match(sents[0]) if sents else None
        label = m.group(1).strip() if m and len(m.group(1).split()) <= MAX_LINE_LABEL_WORDS else None
        out.extend((sent, f"{label}: {sent}" if label and i > 0 else sent) for i, sent in enumerate(sents))
    return out
