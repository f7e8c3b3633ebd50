from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from policywise.ingest.chunker import ChunkerSettings, chunk_document
from policywise.models import count_tokens
from policywise.sentences import split_sentences
from policywise.types import Document, Section


def _doc(sections: list[Section], title: str = "Travel Policy") -> Document:
    return Document(source="travel.md", title=title, format="md", sections=sections)


def test_sentences_respect_abbreviations_and_numbers() -> None:
    text = (
        "Book e.g. through TripDesk at least 14 days ahead. Hotels cost up to $250.50 per night. Ask Dr. Kim!"
    )
    assert split_sentences(text) == [
        "Book e.g. through TripDesk at least 14 days ahead.",
        "Hotels cost up to $250.50 per night.",
        "Ask Dr. Kim!",
    ]


def test_list_items_stay_separate_units() -> None:
    para = "- Flights under 6 hours: economy\n- Flights of 6 hours or more: premium economy"
    assert split_sentences(para) == [
        "- Flights under 6 hours: economy",
        "- Flights of 6 hours or more: premium economy",
    ]


def test_lettered_clauses_are_sentences_of_their_own() -> None:
    # A PDF's lines joined into one paragraph: each clause still starts a sentence.
    para = (
        "(a) A full-time employee is entitled to 4 weeks of annual leave. For an indoor employee this is "
        "140 hours. (b) A shift worker is entitled to an additional week. (iv) Part-time employees accrue "
        "pro rata. See clause 5.2(b) for casuals."
    )
    assert split_sentences(para) == [
        "(a) A full-time employee is entitled to 4 weeks of annual leave.",
        "For an indoor employee this is 140 hours.",
        "(b) A shift worker is entitled to an additional week.",
        "(iv) Part-time employees accrue pro rata.",
        "See clause 5.2(b) for casuals.",
    ]
    # Clauses on lines of their own, without full stops, are items as bullets are.
    rates = "(a) Saturday: 50% (time and a half);\n(b) Sunday: 100% (double time);\n(c) public holiday: 150%."
    assert split_sentences(rates) == rates.split("\n")


def test_a_table_of_contents_is_not_a_passage() -> None:
    contents = "\n".join(
        ["PART 4 - HOURS OF WORK | 8", "4.1 Ordinary hours | 8", "4.5 Overtime | 9", "4.6 TOIL | 9"]
    )
    leaders = "\n".join(
        f"{title} ........ {page}"
        for title, page in [("Hours", 8), ("Overtime", 9), ("TOIL", 9), ("Breaks", 10)]
    )
    grades = "Grade 1 | 38\nGrade 2 | 40\nGrade 3 | 42\nGrade 4 | 44"
    doc = _doc(
        [
            Section(("Staff Handbook", "Contents"), contents, page=2),
            Section(("Staff Handbook", "Overview"), leaders, page=3),
            Section(("Staff Handbook", "Ordinary hours by grade"), grades, page=8),
            Section(("Staff Handbook", "4.5 Overtime"), "Overtime is paid at time and a half.", page=9),
        ]
    )
    sections = {c.section for c in chunk_document(doc)}
    assert sections == {"Staff Handbook > Ordinary hours by grade", "Staff Handbook > 4.5 Overtime"}


def test_chunks_keep_section_page_and_fit_the_window() -> None:
    long_text = " ".join(f"Rule {i} says employees must file form T-{i} within {i} days." for i in range(60))
    doc = _doc(
        [
            Section(("Travel Policy", "Booking"), long_text, page=2),
            Section(("Travel Policy", "Hotels"), "Hotels are capped at $250 per night.", page=3),
        ]
    )
    chunks = chunk_document(doc, ChunkerSettings(max_tokens=128))
    assert len(chunks) > 3
    assert all(c.n_tokens <= 128 for c in chunks)
    assert count_tokens([c.embed_text() for c in chunks]) == [c.n_tokens for c in chunks]
    hotel = [c for c in chunks if "$250" in c.text]
    assert hotel and hotel[0].section == "Travel Policy > Hotels" and hotel[0].page == 3
    # No chunk mixes sections: its heading describes all of it.
    assert not any("Hotels are capped" in c.text and "Rule 1 " in c.text for c in chunks)
    assert [c.position for c in chunks] == list(range(len(chunks)))


def test_ids_are_stable_and_change_only_with_content() -> None:
    sec = [Section(("P", "A"), "Alpha is one. Beta is two."), Section(("P", "B"), "Gamma is three.")]
    first = chunk_document(_doc(sec))
    again = chunk_document(_doc(list(sec)))
    assert [c.id for c in first] == [c.id for c in again]
    edited = chunk_document(_doc([sec[0], Section(("P", "B"), "Gamma is four.")]))
    assert first[0].id == edited[0].id
    assert first[-1].id != edited[-1].id
    assert len({c.id for c in first}) == len(first)


def test_a_single_huge_sentence_is_split_not_dropped() -> None:
    words = " ".join(f"word{i}" for i in range(400))
    chunks = chunk_document(_doc([Section(("P",), words)]), ChunkerSettings(max_tokens=64))
    assert all(c.n_tokens <= 64 for c in chunks)
    assert " ".join(c.text for c in chunks).split() == words.split()


_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFG0123456789$%-", min_size=1, max_size=14)
_sentence = st.lists(_word, min_size=1, max_size=40).map(lambda ws: " ".join(ws) + ".")
_para = st.lists(_sentence, min_size=1, max_size=8).map(" ".join)
_section = st.tuples(
    st.lists(
        st.sampled_from(["Leave", "Scope", "Eligibility and rules", "Appendix"]), min_size=0, max_size=3
    ),
    st.lists(_para, min_size=1, max_size=4).map("\n\n".join),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_section, min_size=1, max_size=5), st.sampled_from([48, 96, 128]))
def test_chunking_properties(raw_sections, max_tokens) -> None:
    doc = _doc([Section(tuple(path), text) for path, text in raw_sections])
    cfg = ChunkerSettings(max_tokens=max_tokens)
    chunks = chunk_document(doc, cfg)
    # Nothing over the window, measured with the model's own tokenizer.
    assert all(n <= max_tokens for n in count_tokens([c.embed_text() for c in chunks]))
    # Nothing lost: every word of the document is in some chunk of its section, in order.
    assert " ".join(c.text for c in chunks).split() == " ".join(s.text for s in doc.sections).split()
    # Deterministic.
    assert chunk_document(doc, cfg) == chunks


def test_table_rows_are_labelled_with_their_header_and_never_split() -> None:
    table = "Level | Target bonus\nIndividual contributors | 10%\nManagers | 15%\nDirectors | 20%"
    doc = _doc([Section(("Compensation", "Bonus targets"), "Targets by level:\n\n" + table)], "Compensation")
    text = "\n".join(c.text for c in chunk_document(doc))
    assert "Level: Managers; Target bonus: 15%" in text.split("\n")
    assert "Level | Target bonus" not in text


def test_a_later_sentence_of_a_labelled_line_is_embedded_with_the_label() -> None:
    """What the sentence vectors are computed from: one text per sentence answers quote, and a later sentence
    of "Label: ..." carries the label it depends on ("Larkspur contributes $750" names no plan)."""
    from policywise.sentences import sentences_to_embed

    text = (
        "Medical plans:\n"
        "- High-deductible plan with HSA: $1,700 deductible. Larkspur contributes $750 a year.\n"
        "Plain prose here. A second plain sentence."
    )
    quoted, embedded = zip(*sentences_to_embed(text), strict=True)
    assert embedded[2] == "High-deductible plan with HSA: Larkspur contributes $750 a year."
    assert embedded[1] == quoted[1] and embedded[3:] == quoted[3:]
