"""Check eval/handbook3_questions.jsonl against the GENERATED handbook-3 documents.

Text is extracted the way a reader would see it: .docx with python-docx (paragraphs and tables),
.pdf with pypdf, .html from the <article> element with BeautifulSoup, .md/.txt raw.

Checks:
* question file schema, ids, kind counts (18 factual, 12 paraphrase, 8 multi-doc, 10 unanswerable);
* every gold file exists; multi-doc questions have at least 2 gold documents;
* every answer keyword occurs (case- and whitespace-insensitive) in at least one gold document;
* every document has 400-1,400 words, and the format requirements are met;
* unanswerable questions: probe phrases that would answer them must not occur anywhere, and the
  distinctive words of each question are looked up in the corpus and printed for human review.

Run with: ``/work/main/.venv/bin/python eval/corpora/handbook-3-src/check_handbook3.py``
Exits with status 1 if any check fails.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

from bs4 import BeautifulSoup
from docx import Document
from pypdf import PdfReader

SRC_DIR = Path(__file__).resolve().parent
CORPUS = SRC_DIR.parent / "handbook-3"
QUESTIONS = SRC_DIR.parents[1] / "handbook3_questions.jsonl"

EXPECTED_KINDS = {"factual": 18, "paraphrase": 12, "multi-doc": 8, "unanswerable": 10}
EXPECTED_FORMATS = {"docx": 3, "pdf": 3, "html": 2, "txt": 2, "md": 2}
KEYS = {"id", "question", "gold_docs", "answer_keywords", "kind"}

# Phrases that would answer an unanswerable question; none may occur in the corpus.
PROBES: dict[str, list[str]] = {
    "m07": ["world cup", "fifa"],
    "m12": ["403(b)", "401(k)", "retirement plan", "employer match"],
    "m14": ["camera", "footage", "cctv", "video", "recording"],
    "m19": ["sourdough", "starter"],
    "m23": ["student loan", "loan"],
    "m24": ["boise"],
    "m30": ["bilingual", "interpret", "spanish", "language"],
    "m35": ["juror", "jury pay", "jury duty pay", "jury fee"],
    "m37": ["funeral", "days of bereavement", "hours of bereavement", "bereavement pay"],
    "m40": ["bls", "basic life support", "cpr", "acls"],
}

STOPWORDS_TEXT = """a an the and or of to in on for at by with from is are am be do does did i i'm my me we
our you your it its this that what when where which who how long many much often there their they can
could would should will get got keep need any all only than into about as if so not no mrhs mercy ridge"""
STOPWORDS = frozenset(STOPWORDS_TEXT.split())


def docx_text(path: Path) -> str:
    """Paragraph and table-cell text of a Word document, in body order."""
    document = Document(str(path))
    parts: list[str] = []
    for element in document.element.body.iterchildren():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "p":
            parts.append("".join(node.text or "" for node in element.iter() if node.tag.endswith("}t")))
        elif tag == "tbl":
            for table in document.tables:
                if table._tbl is element:
                    for row in table.rows:
                        parts.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(parts)


def pdf_text(path: Path) -> str:
    """Text of every page of a PDF."""
    return "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)


def html_text(path: Path) -> str:
    """Text of the <article> element only (no nav, sidebar, footer or scripts)."""
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    article = soup.find("article")
    if article is None:
        raise ValueError(f"{path.name}: no <article> element")
    return article.get_text(" ")


def extract(path: Path) -> str:
    """Dispatch on file extension."""
    suffix = path.suffix.lower()
    if suffix == ".docx":
        return docx_text(path)
    if suffix == ".pdf":
        return pdf_text(path)
    if suffix == ".html":
        return html_text(path)
    return path.read_text(encoding="utf-8")


def squash(text: str) -> str:
    """Lower-case and drop all whitespace, for case- and whitespace-insensitive matching."""
    return re.sub(r"\s+", "", text.lower())


def collapse(text: str) -> str:
    """Lower-case and collapse whitespace, for word lookups and snippets."""
    return re.sub(r"\s+", " ", text.lower())


def check_structure(errors: list[str]) -> None:
    """Format-specific requirements of the generated files."""
    for path in sorted(CORPUS.glob("*.docx")):
        document = Document(str(path))
        styles = {p.style.name for p in document.paragraphs}
        numbered = [p for p in document.paragraphs if p._p.pPr is not None and p._p.pPr.numPr is not None]
        levels = {p._p.pPr.numPr.ilvl.val for p in numbered}
        if not any(name.startswith("Heading") for name in styles):
            errors.append(f"{path.name}: no Heading styles")
        if not document.tables:
            errors.append(f"{path.name}: no Word table")
        elif "w:tblHeader" not in document.tables[0].rows[0]._tr.xml:
            errors.append(f"{path.name}: first table has no header row flag")
        if len(levels) < 2:
            errors.append(f"{path.name}: no nested numbered list (levels {sorted(levels)})")
    for path in sorted(CORPUS.glob("*.pdf")):
        reader = PdfReader(str(path))
        first = reader.pages[0].extract_text() or ""
        if len(reader.pages) < 2:
            errors.append(f"{path.name}: not multi-page")
        if "Page 1 of" not in first or "Mercy Ridge Health System |" not in first:
            errors.append(f"{path.name}: running header or page footer missing")
        refs = [font for page in reader.pages for font in page["/Resources"]["/Font"].values()]
        base = {str(ref.get_object()["/BaseFont"]) for ref in refs}
        if not base <= {"/Helvetica", "/Helvetica-Bold", "/Helvetica-Oblique", "/Helvetica-BoldOblique"}:
            errors.append(f"{path.name}: non-Helvetica fonts {sorted(base)}")
    for path in sorted(CORPUS.glob("*.html")):
        soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        for tag in ("nav", "aside", "footer", "script", "article"):
            if soup.find(tag) is None:
                errors.append(f"{path.name}: missing <{tag}>")
    tables_html = sum(
        1
        for path in CORPUS.glob("*.html")
        if BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser").find("article").find("table")
    )
    if tables_html < 1:
        errors.append("no HTML <table> inside an article")
    if not (CORPUS / "SOURCES.md").exists():
        errors.append("SOURCES.md missing")


def main() -> int:
    """Run all checks and print a report."""
    errors: list[str] = []
    docs = {p.name: extract(p) for p in sorted(CORPUS.iterdir()) if p.name != "SOURCES.md"}
    formats = Counter(name.rsplit(".", 1)[1] for name in docs)
    if dict(formats) != EXPECTED_FORMATS:
        errors.append(f"formats {dict(formats)} != {EXPECTED_FORMATS}")

    print("Documents (words):")
    for name, text in docs.items():
        words = len(text.split())
        print(f"  {words:5d}  {name}")
        if not 400 <= words <= 1400:
            errors.append(f"{name}: {words} words, outside 400-1400")
    check_structure(errors)

    squashed = {name: squash(text) for name, text in docs.items()}
    collapsed = {name: collapse(text) for name, text in docs.items()}
    lines = QUESTIONS.read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line) for line in lines if line.strip()]
    kinds = Counter(q.get("kind") for q in questions)
    if dict(kinds) != EXPECTED_KINDS:
        errors.append(f"kinds {dict(kinds)} != {EXPECTED_KINDS}")
    ids = [q.get("id") for q in questions]
    if len(set(ids)) != len(ids) or len(questions) != 48:
        errors.append(f"{len(questions)} questions, {len(set(ids))} unique ids")

    print("\nKeywords (gold hits / docs containing keyword):")
    for q in questions:
        qid = q.get("id")
        if set(q) != KEYS:
            errors.append(f"{qid}: keys {sorted(q)}")
            continue
        gold, keywords, kind = q["gold_docs"], q["answer_keywords"], q["kind"]
        for name in gold:
            if name not in docs:
                errors.append(f"{qid}: gold file {name} does not exist")
        if kind == "unanswerable":
            if gold or keywords:
                errors.append(f"{qid}: unanswerable must have empty gold_docs and answer_keywords")
            continue
        if not gold or not 1 <= len(keywords) <= 3:
            errors.append(f"{qid}: needs gold docs and 1-3 keywords")
        if kind == "multi-doc" and len(set(gold)) < 2:
            errors.append(f"{qid}: multi-doc needs at least 2 gold docs")
        if kind != "multi-doc" and len(gold) != 1:
            errors.append(f"{qid}: {kind} question should have exactly 1 gold doc")
        for keyword in keywords:
            key = squash(keyword)
            hits = [name for name in gold if key in squashed.get(name, "")]
            everywhere = [name for name in docs if key in squashed[name]]
            print(f"  {qid} {kind:10s} {keyword!r}: gold {len(hits)}/{len(gold)}, corpus {len(everywhere)}")
            if not hits:
                errors.append(f"{qid}: keyword {keyword!r} not found in gold docs {gold}")
        if kind == "multi-doc":
            covered = {name for name in gold for kw in keywords if squash(kw) in squashed.get(name, "")}
            if len(covered) < 2:
                print(f"  note {qid}: keywords come from {sorted(covered)} only")

    print("\nUnanswerable questions (probe phrases, then distinctive words found in the corpus):")
    for q in questions:
        if q.get("kind") != "unanswerable":
            continue
        qid = q["id"]
        print(f"- {qid}: {q['question']}")
        for probe in PROBES.get(qid, []):
            pattern = r"\b" + re.escape(probe.lower()) + r"(?!\w)"
            found = [name for name, text in collapsed.items() if re.search(pattern, text)]
            if found:
                errors.append(f"{qid}: probe {probe!r} found in {found}")
        if qid not in PROBES:
            errors.append(f"{qid}: no probe phrases defined")
        words = [w for w in re.findall(r"[a-z0-9()']+", q["question"].lower()) if w not in STOPWORDS]
        for word in dict.fromkeys(w.strip("'") for w in words if len(w) > 2):
            pattern = r"\b" + re.escape(word) + r"\b"
            found = [name for name, text in collapsed.items() if re.search(pattern, text)]
            if not found:
                print(f"    {word!r}: nowhere")
                continue
            name = found[0]
            pos = re.search(pattern, collapsed[name]).start()
            snippet = collapsed[name][max(0, pos - 60) : pos + 60]
            print(f"    {word!r}: {len(found)} doc(s), e.g. {name}: ...{snippet}...")

    if errors:
        print(f"\nFAILED ({len(errors)}):")
        for error in errors:
            print(f"  - {error}")
        return 1
    print(f"\nOK: {len(questions)} questions, {len(docs)} documents.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
