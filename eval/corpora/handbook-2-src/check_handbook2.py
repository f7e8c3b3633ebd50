#!/usr/bin/env python3
"""Check the generated handbook-2 corpus against the question set.

Extracts text from the built files (docx incl. tables and headers, pdf via pypdf,
html via BeautifulSoup on the whole page, md/txt raw), then checks:
  * word count of each document (350-1,200 words of policy content)
  * every answer keyword occurs verbatim (case-insensitive, whitespace-normalised)
    in at least one gold document; every gold document exists
  * probe terms for each unanswerable question occur in no document
Run: /work/main/.venv/bin/python check_handbook2.py
"""

import json
import re
import sys
from pathlib import Path

from bs4 import BeautifulSoup
from docx import Document
from pypdf import PdfReader

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent / "handbook-2"
QUESTIONS = HERE.parent.parent / "handbook2_questions.jsonl"

# terms whose presence anywhere would suggest the unanswerable question is answered
PROBES = {
    "cycle to work": ["cycle", "cyclescheme", "bike"],
    "compassionate leave": ["compassionate", "bereave", "funeral", "death"],
    "Manchester office": ["manchester", "opening hours"],
    "redundancy pay": ["redundancy pay", "severance", "per year of service"],
    "eye tests": ["eye", "glasses", "optician", "spectacles"],
    "overtime rate": ["overtime", "time and a half", "hourly rate"],
    "on-call allowance": ["on-call", "on call", "standby", "call-out"],
    "Christmas bonus": ["bonus", "christmas party"],
    "Everest": ["everest", "boiling"],
    "Rugby World Cup": ["rugby", "world cup"],
}


def extract(path: Path) -> str:
    if path.suffix == ".docx":
        d = Document(path)
        parts = [p.text for p in d.paragraphs]
        for t in d.tables:
            for row in t.rows:
                parts.append(" | ".join(c.text for c in row.cells))
        for s in d.sections:
            parts += [p.text for p in s.header.paragraphs + s.footer.paragraphs]
        return "\n".join(parts)
    if path.suffix == ".pdf":
        return "\n".join(p.extract_text() for p in PdfReader(path).pages)
    if path.suffix == ".html":
        return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser").get_text(" ")
    return path.read_text(encoding="utf-8")


def content_words(path: Path) -> int:
    """Words of policy content only (html: the <article>; md: without markup)."""
    if path.suffix == ".html":
        soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        text = soup.find("article").get_text(" ")
    elif path.suffix == ".docx":
        d = Document(path)
        text = " ".join(
            [p.text for p in d.paragraphs] + [c.text for t in d.tables for r in t.rows for c in r.cells]
        )
    else:
        text = extract(path)
    return len(re.findall(r"[A-Za-z0-9£€%][\w'’.,:%/£€-]*", text))


def norm(s: str) -> str:
    return re.sub(r"\s+", " ", s.replace("**", "")).lower()


def main() -> int:
    docs = {p.name: extract(p) for p in sorted(CORPUS.iterdir()) if p.name != "SOURCES.md"}
    normed = {k: norm(v) for k, v in docs.items()}
    ok = True
    print(f"{'document':48s} {'words':>6s} {'whole file':>10s}")
    for name in docs:
        wc = content_words(CORPUS / name)
        flag = "" if 350 <= wc <= 1200 else "  <-- out of range"
        ok &= not flag
        print(f"{name:48s} {wc:6d} {len(docs[name].split()):10d}{flag}")

    questions = [
        json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    used = set()
    for q in questions:
        if q["kind"] == "unanswerable":
            if q["gold_docs"] or q["answer_keywords"]:
                print("unanswerable with gold/keywords:", q["id"])
                ok = False
            continue
        for g in q["gold_docs"]:
            if g not in docs:
                print(q["id"], "missing gold doc", g)
                ok = False
            used.add(g)
        for kw in q["answer_keywords"]:
            hits = [g for g in q["gold_docs"] if norm(kw) in normed.get(g, "")]
            if not hits:
                print(q["id"], "keyword not in gold docs:", kw)
                ok = False
        if q["kind"] == "multi-doc":
            for g in q["gold_docs"]:
                if not any(norm(kw) in normed[g] for kw in q["answer_keywords"]):
                    print(q["id"], "multi-doc: no keyword from", g, "(info only)")
    print("documents never used as gold:", sorted(set(docs) - used) or "none")

    everything = " ".join(normed.values()) + " " + norm((CORPUS / "SOURCES.md").read_text())
    for topic, terms in PROBES.items():
        found = [t for t in terms if t in everything]
        if found:
            ctx = [everything[max(0, everything.find(t) - 60) : everything.find(t) + 60] for t in found]
            print(f"probe '{topic}': found {found}: {ctx}")
    print("ALL CHECKS PASSED" if ok else "SOME CHECKS FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
