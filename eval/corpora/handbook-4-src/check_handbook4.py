"""Check eval/handbook4_questions.jsonl against the GENERATED handbook-4 documents.

Text is extracted the way a reader would see it: .pdf with pypdf, .docx with python-docx
(body paragraphs and tables in document order), .html with the standard-library html.parser
(the <main> element only, without scripts and styles), .md and .txt as they are.

Checks:
* question file schema, unique ids, 45 questions and the kind mix;
* every gold file exists; multi-doc questions name at least 2 gold documents;
* every answer keyword occurs (case-insensitive, whitespace-normalised) in at least one gold
  document's text; multi-doc questions get a note when all keywords come from one document;
* document sizes (the handbook PDF 7,000-9,500 words and 20+ pages; corpus 12,000-16,000 words);
* unanswerable questions: "probe" phrases that would answer them must not occur anywhere, and the
  question's content words that do occur in the corpus are printed for human review.

Run with: ``/work/main/.venv/bin/python eval/corpora/handbook-4-src/check_handbook4.py``
Exits with status 1 if any check fails.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

from docx import Document
from pypdf import PdfReader

SRC_DIR = Path(__file__).resolve().parent
CORPUS = SRC_DIR.parent / "handbook-4"
QUESTIONS = SRC_DIR.parents[1] / "handbook4_questions.jsonl"

EXPECTED_KINDS = {"factual": 16, "paraphrase": 13, "multi-doc": 7, "unanswerable": 9}
EXPECTED_FORMATS = {"pdf": 2, "docx": 2, "html": 2, "md": 1, "txt": 2}
HANDBOOK = "TRC_Staff_Handbook.pdf"
KEYS = ["id", "question", "gold_docs", "answer_keywords", "kind"]

# Phrases that would answer an unanswerable question; none may occur anywhere in the corpus.
PROBES: dict[str, list[str]] = {
    "t05": [
        "gym",
        "health club",
        "fitness subsidy",
        "fitness program",
        "wellness allowance",
        "membership subsid",
    ],
    "t11": ["stock option", "share scheme", "share plan", "employee share", "equity", "rsu", "vesting"],
    "t17": ["pet", "pets", "animal", "dog", "cat"],
    "t23": [
        "referral bonus",
        "employee referral",
        "referral program",
        "refer a friend",
        "finder's fee",
        "bonus",
    ],
    "t28": ["parking permit", "car park", "car parking", "carpark", "staff parking"],
    "t32": ["relocation", "relocate", "moving expenses", "moving costs", "removalist", "new starter"],
    "t37": ["13th month", "thirteenth", "bonus", "christmas bonus", "annual bonus"],
    "t41": ["rain", "forecast for", "weekend weather", "bureau of meteorology"],
    "t44": ["grand final", "nrl", "afl", "broncos", "footy", "premiership", "state of origin"],
}

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "for",
        "at",
        "by",
        "with",
        "from",
        "is",
        "are",
        "am",
        "be",
        "was",
        "were",
        "do",
        "does",
        "did",
        "i",
        "i'm",
        "im",
        "my",
        "me",
        "we",
        "our",
        "you",
        "your",
        "it",
        "its",
        "it's",
        "this",
        "that",
        "what",
        "whats",
        "when",
        "where",
        "which",
        "who",
        "how",
        "long",
        "many",
        "much",
        "often",
        "there",
        "their",
        "they",
        "can",
        "could",
        "would",
        "should",
        "will",
        "get",
        "got",
        "keep",
        "need",
        "any",
        "all",
        "only",
        "than",
        "into",
        "about",
        "as",
        "if",
        "so",
        "not",
        "no",
        "just",
        "any",
        "anyone",
        "hey",
        "hi",
        "thanks",
        "cheers",
        "please",
        "quick",
        "question",
        "one",
        "also",
        "still",
        "like",
        "know",
        "want",
        "does",
        "dont",
        "don't",
        "getting",
        "here",
        "have",
        "has",
        "had",
        "been",
        "being",
        "some",
        "there's",
        "way",
        "tell",
        "someone",
        "something",
        "anything",
        "us",
        "council",
        "trc",
        "tallowwood",
        "work",
        "job",
    ]
)


class MainTextParser(HTMLParser):
    """Collect the text inside <main>, skipping <script> and <style>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth_main = 0
        self.skip = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "main":
            self.depth_main += 1
        elif tag in ("script", "style"):
            self.skip += 1
        elif tag in ("p", "li", "tr", "h1", "h2", "h3", "summary", "div", "td", "th", "caption"):
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "main":
            self.depth_main -= 1
        elif tag in ("script", "style"):
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if self.depth_main > 0 and not self.skip:
            self.parts.append(data)


def html_text(path: Path) -> str:
    """Visible text of the <main> element of an intranet page."""
    parser = MainTextParser()
    parser.feed(path.read_text(encoding="utf-8"))
    text = " ".join(parser.parts)
    if not text.strip():
        raise ValueError(f"{path.name}: no <main> text")
    return text


def docx_text(path: Path) -> str:
    """Paragraph and table-cell text of a Word document, in body order."""
    document = Document(str(path))
    tables = {table._tbl: table for table in document.tables}
    parts: list[str] = []
    for element in document.element.body.iterchildren():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "p":
            parts.append("".join(node.text or "" for node in element.iter() if node.tag.endswith("}t")))
        elif tag == "tbl" and element in tables:
            for row in tables[element].rows:
                parts.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(parts)


def pdf_text(path: Path) -> str:
    """Text of every page of a PDF."""
    return "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)


def extract(path: Path) -> str:
    """Dispatch on file extension."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return pdf_text(path)
    if suffix == ".docx":
        return docx_text(path)
    if suffix == ".html":
        return html_text(path)
    return path.read_text(encoding="utf-8")


def normalise(text: str) -> str:
    """Lower-case, unify dashes and apostrophes, collapse whitespace."""
    text = text.lower().replace("\u2019", "'").replace("\u2013", "-").replace("\u2014", "-")
    return re.sub(r"\s+", " ", text).strip()


def contains(haystack: str, needle: str) -> bool:
    """Whitespace-normalised containment; also tolerant of line breaks inside a phrase."""
    needle = normalise(needle)
    return needle in haystack or needle.replace(" ", "") in haystack.replace(" ", "")


def check_documents(docs: dict[str, str], errors: list[str]) -> None:
    """Formats, sizes and basic structure of the generated files."""
    formats = Counter(name.rsplit(".", 1)[1] for name in docs)
    if dict(formats) != EXPECTED_FORMATS:
        errors.append(f"formats {dict(formats)} != {EXPECTED_FORMATS}")
    print("Documents (words):")
    total = 0
    for name, text in docs.items():
        words = len(text.split())
        total += words
        print(f"  {words:5d}  {name}")
    print(f"  {total:5d}  TOTAL")
    if not 12000 <= total <= 16000:
        errors.append(f"corpus has {total} words, outside 12,000-16,000")
    handbook_words = len(docs.get(HANDBOOK, "").split())
    if not 7000 <= handbook_words <= 9500:
        errors.append(f"{HANDBOOK}: {handbook_words} words, outside 7,000-9,500")
    pages = len(PdfReader(str(CORPUS / HANDBOOK)).pages)
    print(f"  {HANDBOOK}: {pages} pages")
    if pages < 20:
        errors.append(f"{HANDBOOK}: only {pages} pages")
    handbook = normalise(docs.get(HANDBOOK, ""))
    for marker in ("part 2 - definitions", "schedule 1 - allowances", "subject to clause", "(ii)"):
        if marker not in handbook:
            errors.append(f"{HANDBOOK}: expected marker {marker!r} missing")
    faq = (CORPUS / "wfh-flexible-work-faqs.html").read_text(encoding="utf-8")
    for tag in ("<h3>", "<details>", "<summary>", '<p class="faq-question"><strong>'):
        if tag not in faq:
            errors.append(f"wfh-flexible-work-faqs.html: no {tag}")
    rates = (CORPUS / "allowances-and-reimbursement-rates-2026-27.html").read_text(encoding="utf-8")
    if "<table" not in rates or "<th" not in rates:
        errors.append("rates page: no <table> with header cells")
    if not (CORPUS / "SOURCES.md").exists():
        errors.append("SOURCES.md missing")


def check_questions(docs: dict[str, str], errors: list[str]) -> list[dict]:
    """Schema, kinds, gold files and keywords of the answerable questions."""
    normalised = {name: normalise(text) for name, text in docs.items()}
    lines = [line for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = [json.loads(line) for line in lines]
    kinds = Counter(q.get("kind") for q in questions)
    print(f"\nQuestions: {len(questions)}  kinds: {dict(kinds)}")
    if dict(kinds) != EXPECTED_KINDS:
        errors.append(f"kinds {dict(kinds)} != {EXPECTED_KINDS}")
    ids = [q.get("id") for q in questions]
    if len(set(ids)) != len(ids) or len(questions) != 45:
        errors.append(f"{len(questions)} questions, {len(set(ids))} unique ids")
    if ids != [f"t{i:02d}" for i in range(1, len(ids) + 1)]:
        errors.append("ids are not t01..tNN in order")

    print("\nKeywords (gold docs containing it / corpus docs containing it):")
    for q in questions:
        qid = q.get("id")
        if list(q) != KEYS:
            errors.append(f"{qid}: keys {list(q)} != {KEYS}")
            continue
        gold, keywords, kind = q["gold_docs"], q["answer_keywords"], q["kind"]
        missing = [name for name in gold if name not in docs]
        if missing:
            errors.append(f"{qid}: gold files do not exist: {missing}")
            continue
        if kind == "unanswerable":
            if gold or keywords:
                errors.append(f"{qid}: unanswerable must have empty gold_docs and answer_keywords")
            continue
        if not gold or not 1 <= len(keywords) <= 3:
            errors.append(f"{qid}: needs gold docs and 1-3 keywords")
        if kind == "multi-doc" and len(set(gold)) < 2:
            errors.append(f"{qid}: multi-doc needs at least 2 gold docs")
        covered: set[str] = set()
        for keyword in keywords:
            if len(keyword.split()) > 4:
                errors.append(f"{qid}: keyword {keyword!r} longer than 4 words")
            hits = [name for name in gold if contains(normalised[name], keyword)]
            everywhere = [name for name in docs if contains(normalised[name], keyword)]
            covered.update(hits)
            print(f"  {qid} {kind:10s} {keyword!r}: gold {len(hits)}/{len(gold)}, corpus {len(everywhere)}")
            if not hits:
                errors.append(f"{qid}: keyword {keyword!r} not found in gold docs {gold}")
        if kind == "multi-doc" and len(covered) < 2:
            print(f"  note {qid}: keywords come from {sorted(covered)} only")
    return questions


def check_unanswerable(questions: list[dict], docs: dict[str, str], errors: list[str]) -> None:
    """Probe phrases must be absent; print which content words of each question do occur."""
    normalised = {name: normalise(text) for name, text in docs.items()}
    print("\nUnanswerable questions (probe phrases, then content words found in the corpus):")
    for q in questions:
        if q.get("kind") != "unanswerable":
            continue
        qid = q["id"]
        print(f"- {qid}: {q['question']}")
        if qid not in PROBES:
            errors.append(f"{qid}: no probe phrases defined")
        for probe in PROBES.get(qid, []):
            pattern = r"\b" + re.escape(probe) + r"(?!\w)"
            found = [name for name, text in normalised.items() if re.search(pattern, text)]
            print(f"    probe {probe!r}: {'FOUND in ' + ', '.join(found) if found else 'absent'}")
            if found:
                errors.append(f"{qid}: probe {probe!r} found in {found}")
        words = re.findall(r"[a-z0-9']+", normalise(q["question"]))
        content = [w.strip("'") for w in words if w not in STOPWORDS and len(w.strip("'")) > 2]
        present, absent = [], []
        for word in dict.fromkeys(content):
            pattern = r"\b" + re.escape(word) + r"\b"
            found = [name for name, text in normalised.items() if re.search(pattern, text)]
            if found:
                first = found[0]
                pos = re.search(pattern, normalised[first]).start()
                snippet = normalised[first][max(0, pos - 45) : pos + 45]
                present.append(f"    {word!r}: {len(found)} doc(s), e.g. {first}: ...{snippet}...")
            else:
                absent.append(word)
        for line in present:
            print(line)
        print(f"    absent from corpus: {', '.join(absent) if absent else '-'}")


def main() -> int:
    """Run all checks and print a report."""
    errors: list[str] = []
    docs = {p.name: extract(p) for p in sorted(CORPUS.iterdir()) if p.name != "SOURCES.md"}
    check_documents(docs, errors)
    questions = check_questions(docs, errors)
    check_unanswerable(questions, docs, errors)
    if errors:
        print(f"\nFAILED ({len(errors)}):")
        for error in errors:
            print(f"  - {error}")
        return 1
    print(f"\nOK: {len(questions)} questions, {len(docs)} documents, no failures.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
