"""Questions asking whether one may (or must) do something, and the sentences that say so.

"Can I carry over unused vacation days?" is answered by "You may carry over up to 5 unused PTO
days...", not by "Any carried-over days still unused on March 31 are forfeited", although the
embedding model finds the second closer: it shares more of the question's words and topic. The rule
sentence is the one that puts a modal ("may", "must not", "are allowed to") before the very action
asked about, so the composer gives such a sentence a bonus and leads with it.
"""

from __future__ import annotations

import re

from policywise.index.lexical import _stem

# "can I ...", "do I need to ...", "am I allowed to ...", "is it ok to ...", "will I have to ...":
# the verb after the asker is the action asked about.
_ASKED = re.compile(
    # At the start of a sentence or clause: "what rate can I claim?" asks for a rate, not permission.
    r"(?:^|[.?!;:,]\s*|\b(?:and|but|so|or|then|also)\s+)"
    r"(?:can|could|may|must|should|shall|do|does|will|would|am|are|is)\s+"
    r"(?:i|we|you|employees?|staff|people|managers?|it|they|he|she|my \w+)\s+"
    r"(?:(?:still|also|just|really|actually|ever)\s+)?"
    r"(?:(?:need|have|want|get|be allowed|be permitted|be required|allowed|permitted|required|supposed|"
    r"expected|able|eligible|ok|okay|fine|possible|ok for me|okay for me|fine for me)\s+to\s+)?"
    r"(?:(?:still|also|just|really|actually)\s+)?"
    r"(?:(?:get|be)\s+)?"  # "can I get reimbursed", "will I be paid"
    r"([a-z]+)",
    re.IGNORECASE,
)
_NOT_ACTIONS = frozenset(
    re.split(
        r"\s+",
        "i we you it be have do get a an the my our any to that this there need want allowed permitted "
        "required supposed expected able eligible ok okay fine possible",
    )
)
_RULE = re.compile(
    r"\b(?:may|can|could|must|should|shall|cannot|can't|need to|have to|has to|"
    r"(?:are|is|be)\s+(?:not\s+)?(?:allowed|permitted|required|expected|entitled|able|eligible|free)\s+to)\s+"
    r"(?:not\s+)?(?:(?:also|only|still|then|now|always|never|normally|usually)\s+)*(?:be\s+)?([a-z]+)",
    re.IGNORECASE,
)


# Past participles the stemmer does not bring back to their verb ("must be kept" for "keep").
_PARTICIPLES = dict(
    re.findall(
        r"(\w+):(\w+)",
        "kept:keep brought:bring paid:pay taken:take given:give sent:send held:hold made:make spent:spend "
        "left:leave worn:wear shown:show seen:see written:write told:tell sold:sell bought:buy done:do "
        "known:know met:meet chosen:choose drawn:draw driven:drive flown:fly forgiven:forgive found:find "
        "lent:lend lost:lose ridden:ride taught:teach thrown:throw understood:understand",
    )
)


def _verb_stem(word: str) -> str:
    word = word.lower()
    return _stem([_PARTICIPLES.get(word, word)])[0]


def asked_action(question: str) -> str | None:
    """The stem of the action a may-I or must-I question asks about, or None.

    "carri" for "Can I carry over unused days?"; None for "What rate can I claim?" (a fact, not a permission).
    """
    m = _ASKED.search(question)
    if m is None:
        return None
    verb = m.group(1).lower()
    if verb in _NOT_ACTIONS:
        return None
    return _verb_stem(verb)


def states_rule_for(sentence: str, action: str) -> bool:
    """Whether ``sentence`` puts a modal before ``action`` ("you may carry over", "must not be shared")."""
    return any(_verb_stem(m.group(1)) == action for m in _RULE.finditer(sentence))
