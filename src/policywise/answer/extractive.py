"""Extractive answers: the few sentences of the retrieved passages that best answer the question.

Nothing is generated, so every sentence is grounded by construction; the work is in choosing well:
each candidate sentence is scored against the question (its precomputed embedding, its share of
the question's informative terms, and the strength of the passage it comes from), the best one
goes first, further ones are added only while they cover parts of the question not yet covered
and don't repeat what is already said, and a sentence that leans on the one before it ("This
applies...") brings that one along. Table rows were labelled with their header when chunked: "Managers | 15%"
reads "Level: Managers; Target bonus: 15%".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from itertools import pairwise

import numpy as np

from policywise.answer.conditions import fit, question_quantities
from policywise.answer.modality import asked_action, states_rule_for
from policywise.answer.scope import out_of_scope_places, places
from policywise.facts import asks_for, has_fact
from policywise.index.lexical import LexicalIndex, term_set, tokenize
from policywise.index.store import PolicyIndex
from policywise.sentences import LIST_ITEM
from policywise.types import Citation, Hit, with_markers

logger = logging.getLogger(__name__)

# Weights of the sentence score; chosen on our eval set and checked on the third-party one
# (docs/evaluation.md): the sentence's own cosine leads, term coverage and passage strength refine.
W_COVERAGE = 0.3
W_PASSAGE = 0.6
RANK_PENALTY = 0.02
W_NEW_TERMS = 0.25  # bonus for covering question terms the answer does not cover yet
# Maximal marginal relevance: a further sentence pays for its similarity to the closest one already chosen,
# so "must be used by March 31" does not crowd out the rule itself next to "unused on March 31 are forfeited".
W_DIVERSITY = 0.2
MAX_PASSAGES = 5
MAX_DROP = 0.3  # a further sentence must score within this of the best one
OTHER_SOURCE_PENALTY = 0.2  # further sentences from another document must earn their place
SCOPE_PENALTY = 0.1  # a section written for a place the question does not name (answer/scope.py)
PLACE_BONUS = 0.15  # a sentence or section naming the place the question names (answer/scope.py)
# A sentence whose band ("5 years or more", "Grades 5 to 7") holds the asker's quantity is their case
# (answer/conditions.py), and the ones whose bands exclude it are other people's cases. When no
# sentence holds it, one that excludes it may well be the answer ("claims must be made within 30
# days" to "I spent it 45 days ago"), so exclusion only costs when the asker's case is there too.
# A "Related policies" or "References" section lists other documents by name ("HR-212 Extended Illness
# Bank (EIB)"): it matches a question about them and says nothing about them.
REFERENCE_PENALTY = 0.5
_REFERENCE_SECTION = re.compile(
    r"^\W*(?:[\d.]+\s*)?(?:related\s+(?:policies|documents|procedures|forms|links|information)|references|"
    r"cross-references|see also|further (?:information|reading))\W*$",
    re.IGNORECASE,
)
# "This policy explains how many days you get, what they can be used for...": what the document is about,
# which reads like any question about it and answers none.
_ABOUT_THE_DOCUMENT = re.compile(
    r"^(?:this|these)\s+(?:faq|policy|procedure|guide|guidance|document|page|section|handbook|manual|memo|note|"
    r"chapter|summary)s?\s+(?:explains?|describes?|sets? out|outlines?|covers?|summari[sz]es?|tells? you|"
    r"answers?)\b",
    re.IGNORECASE,
)
CONDITION_BONUS = 0.15
CONDITION_PENALTY = 0.15
# "Can I carry over...?" is answered by the sentence that says one may (or may not) carry over
# (answer/modality.py), even when a sentence on what happens to carried-over days is closer in meaning.
RULE_BONUS = 0.2
# A worked example ("Example 1: an employee books a $230 hotel") reads like the question, but illustrates a
# rule of its policy; a definition names what a rule is about; "See the PTO Policy" points at one. When such a
# rule scores within this of them, the rule leads (external set: the $250 hotel cap before the example's $230,
# keyword recall 0.747 -> 0.78, nothing else moved; docs/evaluation.md).
SECONDARY_MARGIN = 0.2
# A question asking for a kind of fact (how often, how much, by when...) is answered by a sentence that
# states one: "It meets at least every 3 months" for "how often does the committee meet?", although
# its "It" keeps its cosine low.
FACT_BONUS = 0.1

# FAQ labels ("Q: ...", "A: ...") are layout, not content.
_QA_LABEL = re.compile(r"^(?:q|a|question|answer)\s*[:.)]\s+", re.IGNORECASE)
_MEMO_FIELD = re.compile(r"\b(to|from|cc|bcc|subject|re)\s*:")
_YES_NO = re.compile(r"^(?:yes|no)\b", re.IGNORECASE)
FAQ_SPAN = 3  # sentences after an FAQ question that make up its answer
FAQ_DECAY = 0.05  # each further answer sentence inherits a little less of the question's match
_ANAPHORA = re.compile(
    r"^(?:this|that|these|those|it|they|such|however|instead|otherwise|in that case|in this case|if so|"
    r"also|then|there)\b",
    re.IGNORECASE,
)
_WORDS = re.compile(r"[a-z0-9$%]+")
_FIGURE = re.compile(r"\d[\d,.]*\d|\d")
RESTATEMENT_COS = 0.6  # how close another policy's sentence with the same figures must be to restate it


@dataclass(eq=False)  # compared by identity: it holds a numpy vector
class Candidate:
    text: str  # as shown in the answer
    raw: str  # as in the document (the citation snippet)
    hit: Hit
    hit_rank: int
    index: int  # position of the sentence within its passage
    vector: np.ndarray
    cos: float
    coverage: float
    terms: frozenset[str]
    score: float = 0.0
    is_question: bool = False
    faq_question: Candidate | None = None  # the FAQ question this sentence answers
    is_lead_in: bool = False  # "Enhanced pay is as follows:" says nothing until its items follow
    lead_in: Candidate | None = None  # the lead-in this list item completes
    example: Candidate | None = None  # the opening of the worked example this sentence tells the outcome of
    has_outcome: bool = False  # an example's opening whose outcome follows it

    @property
    def heading(self) -> str:
        """The innermost heading the sentence stands under."""
        return self.hit.section.rsplit(" > ", 1)[-1]


@dataclass
class Composition:
    sentences: list[tuple[str, int]] = field(default_factory=list)  # (text, citation number)
    citations: list[Citation] = field(default_factory=list)
    best_cos: float = 0.0
    best_coverage: float = 0.0
    best_score: float = 0.0
    candidates: list[Candidate] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(with_markers(t, [n]) for t, n in self.sentences)


class ExtractiveComposer:
    def __init__(self, index: PolicyIndex, lexical: LexicalIndex | None = None) -> None:
        self.index = index
        self._lexical = lexical

    @property
    def lexical(self) -> LexicalIndex:
        return self._lexical or self.index.lexical

    def candidates(self, question: str, qvec: np.ndarray, hits: list[Hit]) -> list[Candidate]:
        q_terms = set(tokenize(question))
        out: list[Candidate] = []
        for rank, hit in enumerate(hits[:MAX_PASSAGES]):
            out.extend(self._sentences(question, q_terms, qvec, hit, rank))
        quantities = question_quantities(question)
        verdicts = [fit(quantities, c.text) for c in out]
        if quantities and 1 not in verdicts:
            # No passage states the asker's case, but a table longer than a chunk keeps its other rows
            # in the chunks around it ("12 to less than 18 months" beside "24 months or more"). Sentences
            # of the same sections that state a band in the question's units join, with their passage's
            # score and rank.
            seen = {h.chunk_id for h in hits}
            for rank, hit in enumerate(hits[:MAX_PASSAGES]):
                for cid in self.index.chunks.section_siblings(hit.chunk_id):
                    if cid in seen:
                        continue
                    seen.add(cid)
                    sibling = Hit.from_payload(cid, *self.index.chunks.payload(cid), hit.score)
                    for extra in self._sentences(question, q_terms, qvec, sibling, rank):
                        verdict = fit(quantities, extra.text)
                        if verdict:
                            out.append(extra)
                            verdicts.append(verdict)
        scoped = {h.chunk_id: bool(out_of_scope_places(question, h.section)) for h in hits[:MAX_PASSAGES]}
        action = asked_action(question)
        kind = asks_for(question)
        asked_places = places(question)
        for c in out:
            c.score = c.cos + W_COVERAGE * c.coverage + W_PASSAGE * c.hit.score - RANK_PENALTY * c.hit_rank
            if scoped.get(c.hit.chunk_id):
                c.score -= SCOPE_PENALTY
            if asked_places and asked_places & places(f"{c.heading} {c.text}"):
                c.score += PLACE_BONUS
            if _REFERENCE_SECTION.match(c.heading) or _ABOUT_THE_DOCUMENT.match(c.text):
                c.score -= REFERENCE_PENALTY
            if action is not None and states_rule_for(c.text, action):
                c.score += RULE_BONUS
            if kind is not None and has_fact(kind, c.text, question):
                c.score += FACT_BONUS
        if 1 in verdicts:
            # The cases of one rule are alternatives: the asker's case is as relevant as the best-matching
            # other case of its passage, even when it repeats less of the question ("Between 13 and 24
            # months after completion you repay 50%" after the sentence naming the qualification), and
            # so are the rows of one table under one heading.
            excluded: dict[tuple[str, str], float] = {}
            for c, verdict in zip(out, verdicts, strict=True):
                key = (c.hit.source, c.hit.section)
                if verdict < 0:
                    excluded[key] = max(c.score, excluded.get(key, c.score))
            for c, verdict in zip(out, verdicts, strict=True):
                if verdict > 0:
                    key = (c.hit.source, c.hit.section)
                    c.score = max(c.score, excluded.get(key, c.score)) + CONDITION_BONUS
                elif verdict < 0:
                    c.score -= CONDITION_PENALTY
        _credit_faq_answers(out)
        _credit_list_items(out)
        _credit_table_rows(out)
        _credit_example_outcomes(out)
        return out

    def _sentences(
        self, question: str, q_terms: set[str], qvec: np.ndarray, hit: Hit, rank: int
    ) -> list[Candidate]:
        store = self.index.sentences
        if hit.chunk_id not in store:
            return []
        sents = store.sentences(hit.chunk_id)
        vecs = store.vectors(hit.chunk_id)
        sims = vecs @ qvec.astype(np.float32) if len(sents) else []
        out = []
        for j, raw in enumerate(sents):
            text = self._display(raw)
            if text is None:
                continue
            out.append(
                Candidate(
                    text=text,
                    raw=raw,
                    hit=hit,
                    hit_rank=rank,
                    index=j,
                    vector=vecs[j],
                    cos=float(sims[j]),
                    coverage=self.lexical.coverage(question, text),
                    terms=term_set(text) & q_terms,
                    is_question=text.endswith("?"),
                    is_lead_in=text.endswith(":"),
                )
            )
        _join_question_lines(out, hit.text)
        return out

    def compose(
        self, question: str, qvec: np.ndarray, hits: list[Hit], max_sentences: int = 4
    ) -> Composition:
        cands = self.candidates(question, qvec, hits)
        comp = Composition(candidates=cands)
        if not cands:
            return comp
        q_terms = set(tokenize(question))
        weights = {t: self.lexical.idf(t) for t in q_terms}
        total_w = sum(weights.values()) or 1.0
        # A question in a document (an FAQ's) is not an answer; the sentences after it are.
        # A bare "Yes." is only an answer next to the question it answers.
        # A list's lead-in comes only with an item of its list (_with_context).
        # An example's opening ("Example 3: A laptop is stolen from a car.") tells the case, not what
        # happens: the sentences after it do, and bring it along.
        usable = [
            c
            for c in cands
            if not c.is_question and not c.is_lead_in and not c.has_outcome and not _bare_yes_no(c)
        ]
        ranked = sorted(usable, key=lambda c: -c.score)
        if not ranked:
            return comp
        best = ranked[0]
        comp.best_cos, comp.best_coverage, comp.best_score = best.cos, best.coverage, best.score
        if (kind := _secondary(best)) is not None:
            # A worked example reads like the question ("an employee books a $230 hotel") but illustrates a
            # rule of its policy, a definition names what the rule is about, and "See the PTO Policy for
            # carryover" points at a rule elsewhere: when such a rule is nearly as close, it leads, and the
            # example or definition may follow.
            rule = next(
                (c for c in ranked if _secondary(c) is None and (kind == "pointer" or _same_policy(c, best))),
                None,
            )
            if rule is not None and rule.score >= best.score - SECONDARY_MARGIN:
                best = rule
        action = asked_action(question)
        if action is not None and not states_rule_for(best.text, action):
            # "Can I carry over...?": where the passage that answers best says whether one may, that
            # sentence leads and its consequences follow ("unused on March 31 are forfeited" reads closer
            # to the question than "You may carry over up to 5 days", by margins a model's rounding moves).
            passage = [c for c in ranked if c.hit.chunk_id == best.hit.chunk_id]
            rule = next((c for c in passage if states_rule_for(c.text, action)), None)
            if rule is not None and rule.score >= best.score - MAX_DROP:
                best = rule
        chosen: list[Candidate] = [best]
        covered = set(best.terms)
        # What the leading document itself says well enough to be chosen: another policy restating one of
        # these, or summing up the leading policy by name, would add a citation and no fact.
        home = [
            (c, _figures(c))
            for c in ranked
            if c.hit.source == best.hit.source and best.score - c.score <= MAX_DROP
        ]
        echoes = {
            id(c)
            for c in ranked
            if c.hit.source != best.hit.source and (_restates(c, home) or _summarises(c, best))
        }
        while len(chosen) < max_sentences:
            pick, pick_value = None, -1e9
            for c in ranked:
                # Another document's sentence must be close to the best one even after its penalty:
                # one policy answering cleanly beats a second one adding loosely related rules.
                penalty = OTHER_SOURCE_PENALTY if c.hit.source != best.hit.source else 0.0
                if (
                    c in chosen
                    or id(c) in echoes
                    or best.score - (c.score - penalty) > MAX_DROP
                    or _redundant(c, chosen)
                ):
                    continue
                gain = sum(weights[t] for t in c.terms - covered) / total_w
                closest = max(float(np.dot(c.vector, o.vector)) for o in chosen)
                value = c.score + W_NEW_TERMS * gain - penalty - W_DIVERSITY * closest
                if value > pick_value:
                    pick, pick_value = c, value
            if pick is None:
                break
            chosen.append(pick)
            covered |= pick.terms
        chosen = self._with_context(chosen, cands, max_sentences + 1)
        numbers: dict[str, int] = {}
        snippets: dict[str, list[str]] = {}
        by_id: dict[str, Hit] = {}
        reading = _Reading()
        for unit in _units(chosen, best):
            n = numbers.setdefault(unit[0].hit.chunk_id, len(numbers) + 1)
            by_id[unit[0].hit.chunk_id] = unit[0].hit
            snippets.setdefault(unit[0].hit.chunk_id, []).extend(c.raw for c in unit)
            comp.sentences.extend((text, n) for text in reading.read(unit))
        # One quoted sentence per line of the snippet.
        comp.citations = [
            Citation.from_hit(n, by_id[cid], "\n".join(snippets[cid])) for cid, n in numbers.items()
        ]
        return comp

    @staticmethod
    def _with_context(chosen: list[Candidate], cands: list[Candidate], limit: int) -> list[Candidate]:
        """Bring along the previous sentence of any chosen sentence that cannot stand on its own."""
        out = list(chosen)
        for c in chosen:
            if c.faq_question is not None and c.index == c.faq_question.index + 1 and _YES_NO.match(c.text):
                # "Yes." means nothing without the FAQ question it answers: always brought along.
                prev = c.faq_question
            elif c.lead_in is not None:
                # "weeks 1 to 16: full basic pay" means nothing without "Enhanced maternity pay is:".
                prev = c.lead_in
            elif c.example is not None:
                prev = c.example
            elif len(out) >= limit or c.index == 0 or not _ANAPHORA.match(c.text):
                continue
            else:
                prev = next((p for p in cands if p.hit is c.hit and p.index == c.index - 1), None)
            if prev is not None and prev not in out:
                out.insert(out.index(c), prev)
        return out

    @staticmethod
    def _display(raw: str) -> str | None:
        """The sentence as it reads in an answer; None for lines that are not statements."""
        text = raw.strip()
        if " | " in text:
            # Well-formed tables arrive labelled by the chunker; a ragged row is shown cell by cell.
            text = "; ".join(c.strip() for c in text.split(" | ") if c.strip())
        text = _QA_LABEL.sub("", LIST_ITEM.sub("", text).strip()).strip()
        if len(text) < 12 and not _YES_NO.match(text):
            return None  # a label says nothing by itself
        if len(set(_MEMO_FIELD.findall(text.lower()))) >= 2:
            return None  # a memo's header block ("TO: ... FROM: ... RE: ..."), not a statement
        if not any(ch.islower() or ch.isdigit() for ch in text) and len(text.split()) <= 12:
            return None  # a letterhead or banner in capitals ("MERCY RIDGE EMPLOYEE HEALTH SERVICES")
        if text[0].islower():
            text = text[0].upper() + text[1:]
        return text


def _units(chosen: list[Candidate], best: Candidate) -> list[list[Candidate]]:
    """The chosen sentences grouped with the sentences they lean on (a list's lead-in, an FAQ's
    question, the sentence "This applies..." refers to), in passage order within a group; the best
    sentence's group first, the others in the order of their passages."""
    members = {id(c) for c in chosen}
    position = {(id(c.hit), c.index): c for c in chosen}

    def leans_on(c: Candidate) -> Candidate | None:
        for head in (c.lead_in, c.faq_question, c.example):
            if head is not None and id(head) in members:
                return head
        if _ANAPHORA.match(c.text):
            return position.get((id(c.hit), c.index - 1))
        return None

    groups: dict[int, list[Candidate]] = {}
    for c in chosen:
        root = c
        while (head := leans_on(root)) is not None:
            root = head
        groups.setdefault(id(root), []).append(c)
    units = [sorted(g, key=lambda c: c.index) for g in groups.values()]
    first = next(u for u in units if best in u)
    rest = sorted((u for u in units if u is not first), key=lambda u: (u[0].hit_rank, u[0].index))
    return [first, *rest]


_LIST_TAIL = re.compile(r"[\s;,.]*(?:\b(?:and|or))?[\s;,.]*$", re.IGNORECASE)


@dataclass
class _Reading:
    """Turns the chosen sentences, unit by unit in answer order, into the sentences an answer shows."""

    labelled: set[str] = field(default_factory=set)  # headings already used as labels
    last: Candidate | None = None  # the sentence shown last

    def read(self, unit: list[Candidate]) -> list[str]:
        """A list's lead-in and the items chosen from it make one sentence ("Every laptop must have:
        updates installed within 14 days; disk encryption."), not a dangling "Every laptop must have:"
        followed by fragments. A sentence that continues a labelled bullet, shown without the sentence
        before it, takes the bullet's label ("Manager preparation: Assigns a buddy."); a list item without
        its lead-in is introduced by its heading, once per heading ("Dependent Care FSA: Pre-tax
        contributions for eligible dependent care" says what the bullet alone does not)."""
        out: list[str] = []
        i = 0
        while i < len(unit):
            c = unit[i]
            j = i + 1
            while c.is_lead_in and j < len(unit) and unit[j].lead_in is c:
                j += 1
            items = unit[i + 1 : j]
            follows = self.last is not None and self.last.hit is c.hit and self.last.index == c.index - 1
            if items:
                parts = [_LIST_TAIL.sub("", _as_item(item)) for item in items]
                end = items[-1].text.rstrip()[-1:]
                out.append(f"{c.text} {'; '.join(parts)}{end if end in '.!?' else '.'}")
            elif not follows and (label := _bullet_label(c)) is not None:
                out.append(f"{label}: {c.text}")
            elif (label := _item_label(c)) is not None and label not in self.labelled:
                self.labelled.add(label)
                out.append(f"{label}: {c.text}")
            else:
                out.append(c.text)
            self.last = unit[j - 1]
            i = j
        return out


_LABELLED_BULLET = re.compile(r"\s*(?:[-*•]|\d{1,2}[.)])\s+([^:\n]{2,60}?)\s*:\s")


def _bullet_label(c: Candidate) -> str | None:
    """The label of the bullet a later sentence of it continues: "Assigns a buddy." in "- Manager
    preparation: Hiring manager prepares workspace... Assigns a buddy." reads "Manager preparation: ..."."""
    text = c.hit.text
    pos = text.find(c.raw)
    line_start = text.rfind("\n", 0, pos) + 1
    if pos <= 0 or line_start == pos:
        return None
    m = _LABELLED_BULLET.match(text[line_start:pos])
    if m is None or len(_WORDS.findall(m.group(1).lower())) > MAX_LABEL_WORDS:
        return None
    return m.group(1).strip()


_GENERIC_HEADING = {
    "overview", "purpose", "scope", "policy", "details", "general", "summary", "introduction", "other",
    "notes", "definitions", "guidelines", "requirements", "procedure", "procedures", "rules", "key points",
}  # fmt: skip
MAX_LABEL_WORDS = 6


def _item_label(c: Candidate) -> str | None:
    """The heading that says what a bulleted item is about, when the item does not say it itself."""
    if c.lead_in is not None or not LIST_ITEM.match(c.raw) or ":" in c.text[:40]:
        return None
    heading = c.heading.strip(" :#")
    heading = re.sub(r"^\d+(?:\.\d+)*\.?\s+", "", heading)  # "4.2 Dependent care" -> "Dependent care"
    words = _WORDS.findall(heading.lower())
    if not words or len(words) > MAX_LABEL_WORDS or heading.lower() in _GENERIC_HEADING:
        return None
    if heading == c.hit.title or set(words) <= set(_WORDS.findall(c.text.lower())):
        return None
    return heading


def _as_item(c: Candidate) -> str:
    """A list item as the continuation of its lead-in: lower-case where the document wrote it so."""
    written = LIST_ITEM.sub("", c.raw.strip())
    if written[:1].islower() and c.text[:1].isupper():
        return c.text[0].lower() + c.text[1:]
    return c.text


def merge_compositions(parts: list[Composition]) -> Composition:
    """One answer from the answers to the parts of a compound question: each part's sentences in
    turn, repeats dropped, citations renumbered (a passage cited by two parts keeps one number)."""
    out = Composition()
    numbers: dict[str, int] = {}
    lines: dict[str, list[str]] = {}
    first: dict[str, Citation] = {}
    seen: set[str] = set()
    for comp in parts:
        by_number = {c.number: c for c in comp.citations}
        for text, n in comp.sentences:
            if text in seen:
                continue
            seen.add(text)
            cit = by_number[n]
            number = numbers.setdefault(cit.chunk_id, len(numbers) + 1)
            first.setdefault(cit.chunk_id, cit)
            known = lines.setdefault(cit.chunk_id, [])
            known.extend(line for line in cit.snippet.split("\n") if line not in known)
            out.sentences.append((text, number))
        out.candidates.extend(comp.candidates)
        out.best_cos = max(out.best_cos, comp.best_cos)
        out.best_coverage = max(out.best_coverage, comp.best_coverage)
        out.best_score = max(out.best_score, comp.best_score)
    out.citations = [
        replace(first[cid], number=n, snippet="\n".join(lines[cid])) for cid, n in numbers.items()
    ]
    return out


_EXAMPLE_HEADING = re.compile(r"\b(?:examples?|scenarios?|case stud(?:y|ies)|illustrations?|worked)\b", re.I)
_EXAMPLE_TEXT = re.compile(r"^(?:example|scenario|case)\b", re.I)
# "For example, a part-time employee scheduled for 24 hours accrues 72 hours": one sentence illustrating the
# rule before it, complete in itself (unlike an "Example 3:" opening, the sentences after it are not its
# outcome).
_ILLUSTRATION = re.compile(r"^(?:for (?:example|instance)|e\.g\.|as an example)\b", re.I)
_DEFINITION_HEADING = re.compile(r"\b(?:definitions?|glossary|key terms|terms used|terminology)\b", re.I)
_POINTER = re.compile(
    r"^(?:please\s+)?(?:see|refer to|for (?:more |further )?(?:details|information)(?:,| see| refer))\b", re.I
)


def _secondary(c: Candidate) -> str | None:
    """Whether ``c`` illustrates ("example"), defines ("definition") or points at ("pointer") a rule."""
    if _is_example(c) or _ILLUSTRATION.match(c.text):
        return "example"
    if _DEFINITION_HEADING.search(c.heading):
        return "definition"
    if _POINTER.match(c.text):
        return "pointer"
    return None


def _same_policy(a: Candidate, b: Candidate) -> bool:
    # A policy published twice (Markdown and PDF) is one policy.
    return a.hit.source == b.hit.source or (bool(a.hit.title) and a.hit.title == b.hit.title)


def _is_example(c: Candidate) -> bool:
    return bool(_EXAMPLE_HEADING.search(c.heading) or _EXAMPLE_TEXT.match(c.text) or c.example is not None)


def _bare_yes_no(c: Candidate) -> bool:
    return c.faq_question is None and len(c.text) < 12 and bool(_YES_NO.match(c.text))


def _inherit(
    cands: list[Candidate],
    is_head: Callable[[Candidate], bool],
    may_follow: Callable[[Candidate, Candidate], bool],
    span: int,
    decay: float,
    link: str,
) -> None:
    """Let up to ``span`` consecutive sentences after a head sentence of the same passage inherit its
    score (less ``decay`` per step), and remember the head in their attribute ``link``."""
    for head, run in _runs(cands, is_head, may_follow, span):
        for step, c in enumerate(run):
            c.score = max(c.score, head.score - decay * step)
            setattr(c, link, head)


def _runs(
    cands: list[Candidate],
    is_head: Callable[[Candidate], bool],
    may_follow: Callable[[Candidate, Candidate], bool],
    span: int,
) -> Iterator[tuple[Candidate, list[Candidate]]]:
    """Each head sentence with the sentences right after it in its passage (up to ``span``) that may
    follow it."""
    by_passage: dict[str, list[Candidate]] = {}
    for c in cands:
        by_passage.setdefault(c.hit.chunk_id, []).append(c)
    for group in by_passage.values():
        group.sort(key=lambda c: c.index)
        for i, head in enumerate(group):
            if not is_head(head):
                continue
            run: list[Candidate] = []
            for c in group[i + 1 : i + 1 + span]:
                if c.index != head.index + 1 + len(run) or not may_follow(c, head):
                    break
                run.append(c)
            yield head, run


def _credit_faq_answers(cands: list[Candidate]) -> None:
    """Let the sentences answering an FAQ question inherit the question's score.

    FAQ questions are phrased the way employees ask, so they match a question better than their
    answers do ("Can I add my domestic partner?" / "Yes, if the plan allows.").
    """
    _inherit(
        cands, lambda c: c.is_question, lambda c, _: not c.is_question, FAQ_SPAN, FAQ_DECAY, "faq_question"
    )


EXAMPLE_SPAN = 3  # sentences after an example's opening that can tell its outcome


def _credit_example_outcomes(cands: list[Candidate]) -> None:
    """Let the sentences that tell how a worked example turns out inherit its opening's score.

    The opening reads like the asker's situation ("Example 3: A remote employee's laptop is stolen from
    their car.") and matches the question best; what the policy does about it ("The company may waive cost
    recovery given the police report") is in the sentences after it, in the same paragraph.
    """
    _inherit(cands, _opens_example, _continues_example, EXAMPLE_SPAN, FAQ_DECAY, "example")
    for c in cands:
        if c.example is not None:
            c.example.has_outcome = True


def _opens_example(c: Candidate) -> bool:
    return bool(_EXAMPLE_TEXT.match(c.text))


def _continues_example(c: Candidate, head: Candidate) -> bool:
    if _opens_example(c) or c.is_question:
        return False
    # Passages keep one paragraph per line: a line break ends the example.
    text = head.hit.text
    start = text.find(head.raw)
    end = text.find(c.raw, start + len(head.raw)) if start >= 0 else -1
    return start < 0 or end < 0 or "\n" not in text[start + len(head.raw) : end]


_CLAUSE_NUMBER = re.compile(r"^\s*(\d{1,2}(?:\.\d{1,2})+)\.?\s")
# A table row as the loaders write it ("Years of service: 0-2 years; Days per year: 15; ...").
_TABLE_ROW = re.compile(r"^[^:;\n]{1,60}: [^;\n]+(?:; [^:;\n]{1,60}: [^;\n]+)+$")
LIST_SPAN = 8  # items of one list that can follow its lead-in
LIST_DECAY = 0.02


def _is_item_of(item: Candidate, lead: Candidate) -> bool:
    if item.is_lead_in:
        return False
    if LIST_ITEM.match(item.raw):
        return True
    # Numbered clauses: "3.4 ... as follows:" is completed by "3.4.1", "3.4.2", ...
    lead_number, item_number = _CLAUSE_NUMBER.match(lead.raw), _CLAUSE_NUMBER.match(item.raw)
    return bool(lead_number and item_number and item_number.group(1).startswith(lead_number.group(1) + "."))


def _credit_list_items(cands: list[Candidate]) -> None:
    """Let the items of a list inherit the match of its lead-in, which says what the list is about
    ("An employee with Enhanced Pay Service receives:"), while the items carry the facts."""
    _inherit(cands, lambda c: c.is_lead_in, _is_item_of, LIST_SPAN, LIST_DECAY, "lead_in")


def _credit_table_rows(cands: list[Candidate]) -> None:
    """Let the rows of a table that completes a lead-in ("accrue PTO ... based on years of service:") share
    its match, as a list's items do, but keep their order among themselves: the row that fits the asker
    (their city, their band) takes the lead-in's score and the others trail it by as much as before."""

    def is_row(c: Candidate, _: Candidate) -> bool:
        return bool(_TABLE_ROW.match(c.raw))

    for head, rows in _runs(cands, lambda c: c.is_lead_in, is_row, LIST_SPAN):
        if not rows:
            continue
        best = max(r.score for r in rows)
        for r in rows:
            r.score = max(r.score, head.score - (best - r.score))
            r.lead_in = head


def _join_question_lines(cands: list[Candidate], passage: str) -> None:
    """An FAQ's question written in two sentences ("I'm ill and can't come in. Who do I tell, and by
    when?") is a question as a whole: its first sentence states the asker's situation, not a rule."""
    lines = {line.strip() for line in passage.splitlines()}
    for first, second in pairwise(cands):
        one_line = f"{first.raw} {second.raw}".strip() in lines
        if second.is_question and not first.is_question and second.index == first.index + 1 and one_line:
            first.is_question = True


def _redundant(c: Candidate, chosen: list[Candidate]) -> bool:
    words = set(_WORDS.findall(c.text.lower()))
    for o in chosen:
        if c.raw == o.raw:
            return True
        other = set(_WORDS.findall(o.text.lower()))
        if words and len(words & other) / len(words | other) > 0.6:
            return True
        if float(np.dot(c.vector, o.vector)) > 0.92:
            return True
    return False


def _summarises(c: Candidate, best: Candidate) -> bool:
    """Whether ``c`` sums up the leading policy by name ("…a $500 stipend under the Remote and Hybrid Work
    Policy"): the policy itself is the better source for what it says."""
    title = best.hit.title.strip()
    return len(title.split()) >= 2 and title.lower() in c.text.lower()


def _figures(c: Candidate) -> frozenset[str]:
    return frozenset(_FIGURE.findall(c.text))


def _restates(c: Candidate, others: list[tuple[Candidate, frozenset[str]]]) -> bool:
    """Whether ``c`` gives only figures one of ``others`` (each with its figures) gives too, in close words:
    two policies often restate one rule ("Screens must lock after 5 minutes of inactivity" in the security
    policy, "Laptops lock automatically after 5 minutes of inactivity" in the password one)."""
    figures = _figures(c)
    if not figures:
        return False
    return any(
        figures <= given and float(np.dot(c.vector, o.vector)) > RESTATEMENT_COS for o, given in others
    )
