"""Does the evidence answer the question, or is it only about the same topic?

Retrieval scores cannot tell "about parental leave" from "says how many weeks of parental leave":
near-miss questions find on-topic passages. Two cheap, general checks catch many of them:
the best sentence must be close enough to the question, and when the question asks for a kind of
fact (an amount, a number of days, a date, a duration, a frequency, a percentage) the chosen
sentences must contain one. "How much is the stipend?" answered by "a stipend may be available" is
not an answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from policywise.facts import asks_for, has_fact


@dataclass(frozen=True)
class Evidence:
    answerable: bool
    reason: str  # "ok", "weak_match", "missing_<kind>"
    asks_for: str | None


def judge(question: str, best_score: float, answer_text: str, min_score: float) -> Evidence:
    kind = asks_for(question)
    if best_score < min_score:
        return Evidence(False, "weak_match", kind)
    if kind is not None and not has_fact(kind, answer_text, question):
        return Evidence(False, f"missing_{kind}", kind)
    return Evidence(True, "ok", kind)
