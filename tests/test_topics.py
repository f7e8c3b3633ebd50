"""Questions about a policy topic the handbook never mentions are told so, not answered from neighbours."""

from __future__ import annotations

from dataclasses import replace

import pytest

from conftest import SMALL_DOCS, assistant_over
from policywise.assistant import Assistant
from policywise.index.topics import TopicCoverage, TopicLexicon, default_lexicon
from policywise.ingest.pipeline import ingest

LEXICON = TopicLexicon.from_json(
    """{"version": 1, "topics": [
      {"id": "bereavement_leave", "label": "bereavement leave",
       "terms": ["bereavement", "compassionate leave", "funeral leave"]},
      {"id": "volunteering", "label": "volunteering leave", "terms": ["volunteering", "volunteer day"]},
      {"id": "farewell", "label": "leaving parties", "terms": ["leaving do"]},
      {"id": "jury_duty", "label": "jury duty", "terms": ["jury duty"]}
    ]}"""
)


def test_topics_are_named_by_any_of_their_terms() -> None:
    named = LEXICON.named_in("How many days of compassionate leave do I get if my aunt dies?")
    assert [t.id for t in named] == ["bereavement_leave"]
    # One-word terms match their inflections, phrases their plurals, and nothing else.
    assert [t.id for t in LEXICON.named_in("Can I volunteer at a food bank?")] == ["volunteering"]
    assert [t.id for t in LEXICON.named_in("Two jury duties this year?")] == ["jury_duty"]
    assert LEXICON.named_in("How much annual leave do I get?") == []  # not "leaving do"
    assert LEXICON.named_in("Where do I submit expenses?") == []


def test_a_corpus_mentions_a_topic_by_any_of_its_terms() -> None:
    texts = ["Staff may take up to 5 days of compassionate leave.", "Claims are paid monthly."]
    coverage = TopicCoverage(lambda: texts, LEXICON)
    assert coverage.missing("Is there bereavement leave?") == []  # covered under another term
    assert [t.id for t in coverage.missing("Do we get a volunteering day?")] == ["volunteering"]


def test_a_passage_mentions_a_topic_in_its_own_wording() -> None:
    from policywise.index.topics import mentions

    lexicon = TopicLexicon.from_json(
        """{"version": 1, "topics": [
          {"id": "abroad", "label": "working from abroad", "terms": ["work outside the country"]},
          {"id": "hybrid", "label": "hybrid working", "terms": ["hybrid working"]},
          {"id": "allowance", "label": "remote work allowance", "terms": ["remote work allowance"]},
          {"id": "add", "label": "AD&D", "terms": ["ad&d"]},
          {"id": "day_off", "label": "a day off", "terms": ["day off"]}
        ]}"""
    )
    topic = {t.id: t for t in lexicon.topics}
    assert mentions(
        topic["abroad"], "Working from outside your country of employment is allowed for 20 days."
    )
    assert mentions(topic["hybrid"], "Hybrid and Flexible Working")
    assert mentions(topic["add"], "Life and AD&D cover")
    # A phrase does not run on over a heading's separator, nor shrink to one common word.
    assert not mentions(topic["allowance"], "Remote Work Policy > Allowances for remote employees")
    assert not mentions(topic["day_off"], "Each day you work from home counts.")
    coverage = TopicCoverage(lambda: ["Hybrid and Flexible Working: core hours are 10 to 4."], lexicon)
    assert coverage.mentions(topic["hybrid"]) and not coverage.mentions(topic["abroad"])


def test_the_shipped_lexicon_loads() -> None:
    lexicon = default_lexicon()
    assert len(lexicon.topics) > 100
    assert len({t.id for t in lexicon.topics}) == len(lexicon.topics)
    assert "sabbatical" in {t.id for t in lexicon.topics}
    # Narrow topics are checked against the policies as a whole only (topics.Topic.passages).
    assert any(not t.passages for t in lexicon.topics) and any(t.passages for t in lexicon.topics)
    # Words a term's stem prefix would catch by accident do not name a topic.
    for question in (
        "Is there a second interview for internal jobs?",
        "What temperature should the office be?",
    ):
        assert not {"secondment", "agency_temporary_workers"} & {t.id for t in lexicon.named_in(question)}


@pytest.fixture(scope="module")
def small_assistant(settings, tmp_path_factory):
    root = tmp_path_factory.mktemp("topics")
    (root / "policies").mkdir()
    for name, text in SMALL_DOCS.items():
        (root / "policies" / name).write_text(text, encoding="utf-8")
    ingest([root / "policies"], settings, index_root=root / "index")
    return Assistant(replace(settings, vector_store_path=root / "index"))


def test_a_topic_the_policies_never_mention_is_named_in_the_answer(small_assistant) -> None:
    a = small_assistant.ask("After five years here, do I qualify for a paid sabbatical?")
    assert a.status == "insufficient_evidence"
    assert a.reason == "topic_not_in_policies"
    assert "sabbatical" in a.answer.lower() and not a.citations
    hits = small_assistant.retriever.search("After five years here, do I qualify for a paid sabbatical?")
    assert hits.hits == [] and hits.missing_topics


def test_search_api_names_the_missing_topic(small_assistant, tmp_path) -> None:
    from policywise.web import create_app
    from policywise.web.services import Services

    # The test process holds several models and indexes: the 512 MB default would read as pressure.
    web = replace(
        small_assistant.settings, warm_up=False, memory_limit_mb=8192.0, analytics_db=tmp_path / "a.sqlite3"
    )
    app = create_app(web, services=Services(web, small_assistant))
    body = app.test_client().post("/search", json={"query": "Is there a paid sabbatical?"}).get_json()
    assert body["hits"] == [] and body["covered"] is False
    assert any("sabbatical" in t for t in body["missing_topics"])
    body = app.test_client().post("/search", json={"query": "How many vacation days a year?"}).get_json()
    assert body["hits"] and body["missing_topics"] == []


def test_topics_the_policies_cover_or_only_mention_in_passing_are_answered(small_assistant) -> None:
    assert small_assistant.ask("How many vacation days do I get per year?").status == "answered"
    # Named in passing, not what the question is about.
    a = small_assistant.ask("I'm off to a funeral next week, by when must I submit my taxi expense claim?")
    assert a.status == "answered" and "45 days" in a.answer


def test_a_compound_question_still_answers_the_part_the_policies_cover(small_assistant) -> None:
    a = small_assistant.ask("How many vacation days do I get per year, and is there a paid sabbatical?")
    assert a.status == "answered" and "18 vacation days" in a.answer
    assert "partially_answered" in a.flags


def test_a_compound_question_about_two_missing_topics_is_told_so(small_assistant) -> None:
    a = small_assistant.ask("Do we get a paid sabbatical, and is there bereavement leave for a grandparent?")
    assert a.status == "insufficient_evidence" and a.reason == "topic_not_in_policies", a.answer
    assert "don't mention" in a.answer


def test_with_the_check_off_near_misses_are_answered_from_neighbours(small_assistant, settings) -> None:
    off = Assistant(replace(small_assistant.settings, topic_check=False))
    assert off.retriever.search("Do we get paid sabbatical leave after five years?").missing_topics == []


def test_topic_label_vectors_are_cached_beside_the_models(small_assistant) -> None:
    import numpy as np

    from policywise.retrieve import open_retriever

    settings = small_assistant.settings
    first = open_retriever(settings)
    first.warm_topics()
    digest = default_lexicon().digest[:12]
    # Named for the model and its conversion: labels embedded by an older int8 conversion are not reused.
    model = first.embedder
    cached = settings.model_cache_dir / f"topic-labels-{model.name}-{model.conversion}-{digest}.npy"
    second = open_retriever(settings)
    second.warm_topics()  # loads the file: the same vectors, no embedding
    assert np.array_equal(np.load(cached), second._label_vectors)
    assert np.allclose(first._label_vectors, second._label_vectors)


@pytest.fixture(scope="module")
def bundled_assistant(bundled_index, settings):
    return Assistant(replace(settings, vector_store_path=bundled_index))


def test_an_answer_whose_passages_never_name_the_topic_is_not_given(bundled_assistant) -> None:
    # A word of the dress-code topic occurs somewhere in the policies, in nothing about the Denver office.
    a = bundled_assistant.ask("What's the dress code at the Denver office?")
    assert a.status == "insufficient_evidence" and a.reason == "topic_not_in_passages"
    assert a.citations  # the closest passages are still shown, as related ones
    # Search says so too: no hits, the topic named, the passages it would have returned kept apart.
    question = "Is there a dress code for the Austin office?"
    found = bundled_assistant.retriever.search(question)
    assert found.hits == [] and found.missing_topics == [] and found.related
    assert found.topic_not_in_hits is not None and "dress" in found.topic_not_in_hits
    b = bundled_assistant.ask(question)
    assert b.reason == "topic_not_in_passages"
    assert {c.chunk_id for c in b.citations} <= {h.chunk_id for h in found.related}
    kept = bundled_assistant.retriever.search("Can I split my parental leave into two blocks?")
    assert kept.hits and kept.topic_not_in_hits is None


def test_an_answer_whose_passages_name_the_topic_is_given(bundled_assistant) -> None:
    a = bundled_assistant.ask("Can I split my parental leave into two blocks?")
    assert a.status == "answered" and "two blocks" in a.answer


STIPEND_POLICY = """# Remote Work Policy

## Allowances for remote employees

Remote employees receive a home office stipend; ask your manager how to request it.
Remote employees also receive a phone allowance of $40 per month.
"""


@pytest.fixture(scope="module")
def stipend_assistant(settings, tmp_path_factory):
    return assistant_over(settings, tmp_path_factory.mktemp("stipend"), "remote.md", STIPEND_POLICY)


def test_an_amount_stated_about_another_topic_does_not_answer(stipend_assistant) -> None:
    a = stipend_assistant.ask("How much is the home office stipend for remote employees?")
    assert a.status == "insufficient_evidence" and a.reason == "fact_not_stated_for_topic", a.answer
    b = stipend_assistant.ask("How much is the phone allowance for remote employees?")
    assert b.status == "answered" and "$40" in b.answer
    # Search says so too: the passages name the stipend, none states an amount for it.
    found = stipend_assistant.retriever.search("How much is the home office stipend for remote employees?")
    assert found.hits == [] and found.related and found.fact_not_in_hits == "amount"
    kept = stipend_assistant.retriever.search("How much is the phone allowance for remote employees?")
    assert kept.hits and kept.fact_not_in_hits is None


def test_sites_the_policies_never_name() -> None:
    from policywise.index.sites import SiteNames

    sites = SiteNames(
        [
            "Our offices in Denver, Austin and Toronto close on public holidays.",
            "Security escorts are available at the Missoula clinic until 10 p.m.",
            "High-cost cities for hotels: New York, Boston, London.",  # a city, not a site
        ]
    )
    assert sites.unnamed("What are the opening hours of the Manchester office?") == ["the Manchester office"]
    assert sites.unnamed("The London office observes which holidays?") == ["the London office"]
    assert sites.unnamed("What is the extension for an escort at the Boise clinic?") == ["the Boise clinic"]
    assert sites.unnamed("Is there a dress code at the Austin office?") == []
    assert sites.unnamed("Can I get an escort at the Missoula clinic?") == []
    assert sites.unnamed("Is there a gym at Head Office?") == []  # describes a site, names none
    # Where the asker works is context: the general rules answer them.
    assert sites.unnamed("I work at the Boise clinic. What is the per diem?") == []
    assert sites.unnamed("I'm based in the Leeds office, how much leave do I get?") == []
    # A handbook that names no warehouse writes its rules for every warehouse.
    assert sites.unnamed("Do I need safety boots at the Leeds warehouse?") == []


def test_a_site_the_policies_never_name_is_named_in_the_answer(bundled_assistant) -> None:
    a = bundled_assistant.ask("I'm moving to the London office: which bank holidays does it observe?")
    assert a.status == "insufficient_evidence" and a.reason == "topic_not_in_policies"
    assert "don't mention the London office" in a.answer and not a.citations
    # What search would have returned is still reported (batch output's "retrieved"), never cited.
    found = bundled_assistant.retriever.search(
        "I'm moving to the London office: which bank holidays does it observe?"
    )
    assert found.hits == [] and found.related
    assert [r["chunk_id"] for r in a.retrieved] == [h.chunk_id for h in found.related]
    known = bundled_assistant.ask("I'm in the Toronto office - what date is the Civic Holiday this year?")
    assert known.status == "answered" and known.citations


@pytest.mark.parametrize(
    ("question", "wanted"),
    [
        ("Will the company pay for a coworking membership since I'm fully remote?", "a coworking membership"),
        (
            "If I'm laid off, does Acme provide outplacement or career coaching?",
            "outplacement or career coaching",
        ),
        ("Is there a relocation package if I move to Denver?", "relocation package"),
        ("Do we get a paid sabbatical after five years?", "a paid sabbatical"),
        ("Does our benefits package include pet insurance for my dog?", "pet insurance for my dog"),
        ("Is there a quiet room I can book for prayer?", "quiet room"),
        # Not availability questions: a way to do something, what the asker must do, or gives.
        ("Is there somewhere I can talk to a therapist for free?", None),
        ("Do I have to tell my manager about a second job?", None),
        ("Can I give some of my PTO to a colleague?", None),
        ("How many vacation days do I get?", None),
    ],
)
def test_what_an_availability_question_asks_to_have(question, wanted) -> None:
    from policywise.facts import asked_object

    assert asked_object(question) == wanted


def test_an_availability_question_is_about_what_it_asks_to_have(bundled_assistant) -> None:
    """The sentence model hardly knows "coworking" (0.2 from its label), so similarity alone would not
    make it the question's topic; being what the question asks to have does."""
    found = bundled_assistant.retriever.search(
        "Would the company cover a coworking membership, given that I'm remote?"
    )
    assert found.topic is not None and "coworking" in found.topic.label
    # The policies name co-working spaces once, in a VPN rule; no passage about the question does.
    assert found.hits == [] and found.topic_not_in_hits is not None
    a = bundled_assistant.ask("If my job is cut, does the company offer outplacement or career coaching?")
    assert a.status == "insufficient_evidence", a.answer
    kept = bundled_assistant.ask("Does the company pay for my home internet?")
    assert kept.status == "answered" and "$50" in kept.answer


def test_the_employer_is_found_in_the_policies() -> None:
    from policywise.index.employer import EmployerNames

    texts = [
        "Larkspur Analytics, Inc. - Company Holidays 2026",
        "Larkspur gives every employee 11 paid holidays.",
        "Larkspur's 401(k) plan is administered by Fidelity Investments, Inc.",
        "Canadian employees may join the Larkspur Group RRSP.",
    ]
    names = EmployerNames(texts)
    assert names.forms == {"Larkspur Analytics", "Larkspur"}  # not the vendor, named once
    assert names.neutral("Does Larkspur pay for my home internet?") == "Does pay for my home internet?"
    assert (
        names.neutral("Can I talk to someone for free through Larkspur?") == "Can I talk to someone for free?"
    )
    assert names.neutral("Is Larkspur's 401(k) matched?") == "Is 401(k) matched?"
    # Another name that starts with the employer's is a different thing (a plan, a site).
    assert names.neutral("Does the Larkspur Group RRSP match?") == "Does the Larkspur Group RRSP match?"
    system = EmployerNames(
        [
            "Mercy Ridge Health System (MRHS) policy.",
            "MRHS pays.",
            "MRHS trains.",
            "Paid Time Off (PTO) accrues.",
        ]
    )
    assert system.forms == {"Mercy Ridge Health System", "Mercy Ridge", "MRHS"}
    assert system.neutral("Does MRHS pay for jury duty?") == "Does pay for jury duty?"
    assert system.neutral("Is Mercy Ridge Medical Center open?") == "Is Mercy Ridge Medical Center open?"
    assert EmployerNames(["The Company pays.", "HR decides."]).forms == set()
    # A department is no employer, however often it is named: "How do I reach EHS?" must keep its subject.
    department = [
        "Employee Health Services (EHS) is in Pavilion B.",
        "EHS opens at 6:30.",
        "Call EHS.",
        "Ask EHS.",
    ]
    assert EmployerNames(department).forms == set()


def test_naming_the_employer_does_not_lead_search_astray(bundled_assistant) -> None:
    """ "Larkspur" pulled the question's vector towards every passage that says it (holiday pay, the purpose
    of a policy) and away from the internet reimbursement rule."""
    found = bundled_assistant.retriever.search("Does Larkspur pay for my home internet?")
    assert found.hits and "Internet" in found.hits[0].section
    a = bundled_assistant.ask("Does Larkspur pay for my home internet?")
    assert a.status == "answered" and "$50" in a.answer


def test_a_topic_written_about_in_other_words_is_not_missing(bundled_assistant) -> None:
    """ "Meal allowance" is the lexicon's word for a benefit (vouchers, lunch cards) the policies never
    mention, but the travel policy answers the question in its own words (a meal per diem)."""
    a = bundled_assistant.ask("How much is the meal allowance per day?")
    assert a.status == "answered" and "$75" in a.answer, a.answer
    assert any(c.source.endswith("travel_policy.md") for c in a.citations)
    gone = bundled_assistant.ask("Do we get a sabbatical after ten years?")
    assert gone.status == "insufficient_evidence" and gone.reason == "topic_not_in_policies"
