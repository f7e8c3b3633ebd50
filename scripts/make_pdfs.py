#!/usr/bin/env python3
"""Render the Markdown-like policy sources in scripts/pdf_sources/ to PDFs.

Each ``scripts/pdf_sources/<stem>.md`` becomes ``data/policies/<stem>.pdf``.

Supported source syntax (deliberately small):
  # Title            -> document title (also the PDF metadata title)
  ## Heading         -> section heading
  ### Heading        -> subsection heading
  - item             -> bullet
  1. item            -> numbered item
  **bold**           -> inline bold inside paragraphs and list items
  blank line         -> paragraph break; every other line is its own paragraph

Sources must be Latin-1 only because the PDFs use the core Helvetica font.
The page header/footer boilerplate is drawn by header()/footer(), never in
the body text. Output is deterministic: the creation date is fixed, so running
the script twice produces byte-identical files.

Usage (from the repo root):  python scripts/make_pdfs.py
"""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

REPO_ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIR = REPO_ROOT / "scripts" / "pdf_sources"
OUTPUT_DIR = REPO_ROOT / "data" / "policies"

COMPANY = "Larkspur Analytics"
FIXED_DATE = datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC)

FONT = "helvetica"
BODY_SIZE = 10.5
LINE_H = 5.2  # mm per body line
HEADING_STYLE = {1: (18, 9.0), 2: (13.5, 7.0), 3: (11.5, 6.0)}  # size, line height

NUMBERED_RE = re.compile(r"^(\d+)\.\s+(.*)$")


class PolicyPDF(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="Letter")
        self.doc_title = title
        self.set_margins(left=22, top=22, right=22)
        self.set_auto_page_break(auto=True, margin=22)
        self.alias_nb_pages()

    def header(self) -> None:
        self.set_y(10)
        self.set_font(FONT, "I", 8)
        self.set_text_color(110, 110, 110)
        self.cell(
            0, 5, f"{COMPANY} - {self.doc_title} - Internal", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        self.set_draw_color(180, 180, 180)
        self.line(self.l_margin, 16, self.w - self.r_margin, 16)
        self.set_text_color(0, 0, 0)
        self.set_y(self.t_margin)

    def footer(self) -> None:
        self.set_y(-15)
        self.set_draw_color(180, 180, 180)
        self.line(self.l_margin, self.get_y() - 1, self.w - self.r_margin, self.get_y() - 1)
        self.set_font(FONT, "I", 8)
        self.set_text_color(110, 110, 110)
        half = (self.w - self.l_margin - self.r_margin) / 2
        self.cell(half, 5, "Uncontrolled when printed", align="L")
        self.cell(half, 5, f"Page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(0, 0, 0)


def parse_title(lines: list[str], fallback: str) -> str:
    for line in lines:
        if line.startswith("# "):
            return line[2:].strip()
    return fallback


def ensure_space(pdf: FPDF, needed: float) -> None:
    """Start a new page if fewer than `needed` mm remain (keeps headings with text)."""
    if pdf.get_y() + needed > pdf.page_break_trigger:
        pdf.add_page()


def write_heading(pdf: FPDF, level: int, text: str) -> None:
    size, line_h = HEADING_STYLE[level]
    ensure_space(pdf, line_h + 3 * LINE_H)
    pdf.ln({1: 0, 2: 4, 3: 2.5}[level])
    pdf.set_font(FONT, "B", size)
    pdf.multi_cell(0, line_h, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1.5 if level > 1 else 3)
    pdf.set_font(FONT, "", BODY_SIZE)


def write_paragraph(pdf: FPDF, text: str) -> None:
    pdf.set_font(FONT, "", BODY_SIZE)
    pdf.multi_cell(0, LINE_H, text, align="L", markdown=True, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def write_list_item(pdf: FPDF, text: str, marker: str | None) -> None:
    """Bullet (marker None) or numbered item with a hanging indent."""
    indent = 7.0
    pdf.set_font(FONT, "", BODY_SIZE)
    ensure_space(pdf, LINE_H)
    y = pdf.get_y()
    if marker is None:
        r = 0.8  # small filled dot, drawn as graphics so it does not pollute text
        pdf.set_fill_color(40, 40, 40)
        pdf.ellipse(pdf.l_margin + 2.2, y + LINE_H / 2 - r, 2 * r, 2 * r, style="F")
    else:
        pdf.set_xy(pdf.l_margin, y)
        pdf.cell(indent, LINE_H, marker)
    pdf.set_xy(pdf.l_margin + indent, y)
    pdf.multi_cell(
        pdf.w - pdf.r_margin - pdf.l_margin - indent,
        LINE_H,
        text,
        align="L",
        markdown=True,
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.ln(0.8)


def render(source: Path, output: Path) -> int:
    raw = source.read_text(encoding="utf-8")
    try:
        raw.encode("latin-1")
    except UnicodeEncodeError as exc:
        bad = raw[exc.start : exc.end]
        raise SystemExit(
            f"{source}: non-Latin-1 character {bad!r} at offset {exc.start}; "
            "use straight quotes and '-' instead of dashes"
        ) from None
    lines = raw.splitlines()
    title = parse_title(lines, source.stem.replace("_", " ").title())

    pdf = PolicyPDF(title)
    pdf.set_title(title)
    pdf.set_author(f"{COMPANY}, Inc.")
    pdf.set_subject(f"{title} (internal policy)")
    pdf.set_creator("scripts/make_pdfs.py")
    pdf.set_lang("en-US")
    pdf.set_creation_date(FIXED_DATE)
    pdf.add_page()

    previous_blank = True
    for line in lines:
        stripped = line.strip()
        if not stripped:
            if not previous_blank:
                pdf.ln(2.5)
            previous_blank = True
            continue
        previous_blank = False
        if stripped.startswith("### "):
            write_heading(pdf, 3, stripped[4:].strip())
        elif stripped.startswith("## "):
            write_heading(pdf, 2, stripped[3:].strip())
        elif stripped.startswith("# "):
            write_heading(pdf, 1, stripped[2:].strip())
        elif stripped.startswith(("- ", "* ")):
            write_list_item(pdf, stripped[2:].strip(), None)
        elif m := NUMBERED_RE.match(stripped):
            write_list_item(pdf, m.group(2), f"{m.group(1)}.")
        else:
            write_paragraph(pdf, stripped)

    output.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(output))
    return pdf.pages_count


def main() -> int:
    sources = sorted(SOURCE_DIR.glob("*.md"))
    if not sources:
        print(f"No sources found in {SOURCE_DIR}", file=sys.stderr)
        return 1
    for source in sources:
        output = OUTPUT_DIR / f"{source.stem}.pdf"
        pages = render(source, output)
        print(f"{source.relative_to(REPO_ROOT)} -> {output.relative_to(REPO_ROOT)} ({pages} pages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
