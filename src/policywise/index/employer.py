"""The employer's own name, left out of a question before it is embedded.

A small sentence model gives a rare proper noun much of a short question's meaning: "Does Larkspur pay
for my home internet?" lands nearer passages that say "Larkspur" (holiday pay, the purpose of a
policy) than the internet reimbursement rule, which "Does the company pay for my home internet?"
finds first. Every policy is the employer's, so its name says nothing about which one answers.

Measured on the answerable questions of three eval sets rewritten to name their employer (140; method in
docs/evaluation.md): search ranks a gold document first for 119 with the name kept, 130 with
it left out, 129 for the questions as written. Reading it as "the company" or "the employer" instead of
leaving it out gave 126 and 129.

The name is found in the policies themselves: a name before a legal form ("Larkspur Analytics, Inc.",
"Vale Engineering Ltd") or an organisation named with its initials ("Mercy Ridge Health System
(MRHS)"), whichever the policies name most often. A vendor ("Fidelity Investments, Inc.") is named
in a passage or two; the employer in many.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable

logger = logging.getLogger(__name__)

_NAME = r"[A-Z][\w&'-]*(?:\s+[A-Z][\w&'-]*){0,4}"
_LEGAL_FORM = re.compile(
    rf"\b({_NAME}),?\s+(?:Inc\b|Incorporated\b|LLC\b|L\.L\.C\.|Ltd\b|Limited\b|plc\b|PLC\b|Corp\b|"
    r"Corporation\b|GmbH\b|LLP\b|Pty\b|S\.A\.|N\.V\.|B\.V\.)"
)
_INITIALS = re.compile(rf"\b({_NAME})\s*\(\s*(?:the\s+)?[\"“']?([A-Z]{{2,6}})[\"”']?\s*\)")
# Words that end an organisation's name ("Mercy Ridge Health System"); "Paid Time Off (PTO)" has initials
# too but is no organisation. Not "services", "centre", "council" or "health": they end the names of
# departments ("Employee Health Services (EHS)"), which a question may well ask about.
_ORGANISATION = {
    "analytics", "associates", "bank", "college", "company", "consulting", "corporation", "engineering",
    "enterprises", "foundation", "group", "healthcare", "holdings", "hospital", "hospitals", "industries",
    "labs", "partners", "solutions", "system", "systems", "technologies", "trust", "university",
}  # fmt: skip
# Words that say what kind of organisation a name is, left off for its short form ("Mercy Ridge").
_KIND = _ORGANISATION | {"health", "services", "centre", "center", "council", "medical", "care"}
MIN_PASSAGES = 3  # an employer is named in at least this many passages


class EmployerNames:
    """The forms of the employer's name in a corpus ("Larkspur Analytics", "Larkspur"), none if unsure."""

    def __init__(self, texts: Iterable[str]) -> None:
        texts = list(texts)
        candidates: dict[str, set[str]] = {}
        for text in texts:
            for m in _LEGAL_FORM.finditer(text):
                _add(candidates, m.group(1), None)
            for m in _INITIALS.finditer(text):
                name, initials = m.group(1), m.group(2)
                words = name.split()
                named = words[-len(initials) :]
                if words[-1].lower() in _ORGANISATION and "".join(w[0] for w in named) == initials:
                    _add(candidates, " ".join(named), initials)
        counts: Counter[str] = Counter()
        for key, forms in candidates.items():
            pattern = _pattern(forms)
            counts[key] = sum(bool(pattern.search(t)) for t in texts)
        self.forms: set[str] = set()
        if counts:
            key, n = counts.most_common(1)[0]
            if n >= MIN_PASSAGES:
                self.forms = candidates[key]
                logger.info("employer named as %s in %d passages", sorted(self.forms), n)
        self._pattern = _pattern(self.forms) if self.forms else None

    def neutral(self, text: str) -> str:
        """``text`` without the employer's name ("Will Larkspur cover it?" as "Will cover it?")."""
        if self._pattern is None:
            return text
        return _BEFORE_PUNCTUATION.sub(r"\1", _SPACES.sub(" ", self._pattern.sub("", text))).strip()


def _add(candidates: dict[str, set[str]], name: str, initials: str | None) -> None:
    words = name.split()
    if words[0] in ("The", "the") and len(words) > 1:
        words = words[1:]
        name = " ".join(words)
    # The name without the words naming its kind: "Larkspur" of "Larkspur Analytics".
    core = list(words)
    while len(core) > 1 and core[-1].lower() in _KIND:
        core.pop()
    key = " ".join(core)
    forms = candidates.setdefault(key, set())
    forms.update({name, key})
    if initials:
        forms.add(initials)


def _pattern(forms: set[str]) -> re.Pattern[str]:
    # Longest first, so "Larkspur Analytics" is one mention; a short form followed by another capitalised
    # word is a different name ("Mercy Ridge Medical Center", a site; "Larkspur Group RRSP", a plan).
    alternatives = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
    return re.compile(
        rf"(?:\b(?:at|in|for|from|with|by|of|through|to|the)\s+)?\b(?:{alternatives})"
        rf"(?:,?\s+(?:Inc|Ltd|LLC|plc)\b\.?)?(?:['’]s)?(?!\w)(?!\s+[A-Z])"
    )


_SPACES = re.compile(r"\s{2,}")
_BEFORE_PUNCTUATION = re.compile(r"\s+([?.!,;:])")
