"""Abbreviations a question uses and the policies spell out ("LSL" for "long service leave")."""

from __future__ import annotations

import pytest

from policywise.index.abbreviations import Abbreviations
from policywise.index.embedder import Embedder
from policywise.index.spelling import word_counts

PASSAGES = [
    "Long service leave: after 10 years of continuous service an employee is entitled to 13 weeks of long "
    "service leave.",
    "Long service leave may be taken in periods of at least one week.",
    "Time off in lieu (TOIL) of overtime must be taken within 6 months.",
    "Report to the Chief Financial Officer. Staff who work at the depot sign in.",
    "All work at the depot is logged.",
]


@pytest.fixture(scope="module")
def abbreviations(settings) -> Abbreviations:
    counts = word_counts(PASSAGES)
    known_word = Embedder.from_settings(settings).in_vocabulary
    return Abbreviations(lambda: PASSAGES, counts.__contains__, known_word)


def test_an_abbreviation_is_followed_by_the_phrase_the_policies_use(abbreviations) -> None:
    assert abbreviations.spell_out("LSL after 10 yrs?") == (
        "LSL (long service leave) after 10 yrs?",
        [("LSL", "long service leave")],
    )
    # Typed in lower case it is still no word the model knows.
    assert abbreviations.spell_out("lsl after 10 yrs")[0] == "lsl (long service leave) after 10 yrs"


@pytest.mark.parametrize(
    "question",
    [
        "How much TOIL can I bank?",  # the policies use the abbreviation themselves
        "Does the CFO approve it?",  # "Chief Financial Officer" is written once: it may be chance
        "wat happens at the depot",  # "work at the" spells it, but a term does not end in "the"
        "Can the LSL (long service leave) be cashed out?",  # spelled out already
        "Which OS do laptops run?",  # two letters stand for too much
    ],
)
def test_what_is_not_taken_for_an_abbreviation(abbreviations, question) -> None:
    assert abbreviations.spell_out(question) == (question, [])
