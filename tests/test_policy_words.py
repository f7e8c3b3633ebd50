"""The policies' words added to a question's: abbreviations they spell out ("LSL" for "long service
leave"), and another country's term for what they name ("sick days" for "personal/carer's leave")."""

from __future__ import annotations

import pytest

from conftest import assistant_over
from policywise.assistant import Assistant
from policywise.index.abbreviations import Abbreviations
from policywise.index.embedder import Embedder
from policywise.index.spelling import word_counts

PASSAGES = [
    "Long service leave: after 10 years of continuous service an employee is entitled to 13 weeks of long "
    "service leave.",
    "Long service leave may be taken in periods of at least one week.",
    "Time off in lieu (TOIL) of overtime must be taken within 6 months.",
    "Report to the Chief Financial Officer. Staff who work at the depot sign in.",
    "Work at the depot is logged.",
    "Annual leave loading is 17.5%. Annual leave loading is paid with the leave.",
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
        "ALL STAFF GET ANNUAL LEAVE?",  # all in capitals: "ALL" is a word, not "annual leave loading"
    ],
)
def test_what_is_not_taken_for_an_abbreviation(abbreviations, question) -> None:
    assert abbreviations.spell_out(question) == (question, [])


AUSTRALIAN_HANDBOOK = """# Staff Handbook

## Personal/carer's leave

A full-time employee is entitled to 10 days of paid personal/carer's leave for each year of service, which
accumulates from year to year. A medical certificate is required for an absence of more than 2 days.

## Annual leave

A full-time employee is entitled to 4 weeks of paid annual leave each year. Annual leave loading is 17.5%.
Vacation plans over Christmas should be lodged by 30 November.
"""


@pytest.fixture(scope="module")
def australian(settings, tmp_path_factory) -> Assistant:
    return assistant_over(settings, tmp_path_factory.mktemp("au"), "handbook.md", AUSTRALIAN_HANDBOOK)


def test_another_countrys_word_is_followed_by_the_policies_word(australian) -> None:
    question = "How many sick days do I get, and do unused ones roll over?"
    assert australian.retriever.in_policy_words(question) == (
        "How many sick days (personal/carer's leave) do I get, and do unused ones roll over?",
        [("sick days", "personal/carer's leave")],
    )
    a = australian.ask(question)
    assert a.status == "answered", a.answer
    assert "10 days" in a.answer and "accumulates" in a.answer, a.answer
    assert "policy_words_added" in a.flags


def test_a_word_the_policies_use_themselves_is_left_alone(australian) -> None:
    # They say "vacation" once, so the asker's word finds its own passages; and "holiday" alone is no
    # equivalent of annual leave (a public holiday is not).
    for question in ["When do I lodge vacation plans?", "Is Boxing Day a holiday?"]:
        assert australian.retriever.in_policy_words(question) == (question, [])
