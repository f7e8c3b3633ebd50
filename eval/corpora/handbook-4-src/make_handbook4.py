"""Build the handbook-4 evaluation corpus (fictional Tallowwood Regional Council documents).

The plain-text sources live next to this script and are rendered into ``../handbook-4``:

* ``*.src.txt`` files use a small line-based markup (below) and become .pdf or .docx files;
* ``*.body.html`` files are hand-written article bodies, wrapped in an intranet page template;
* ``.md`` and ``.txt`` sources are copied unchanged.

Markup of ``.src.txt`` files. Every non-blank line is one block (lines are never joined):

* ``@title``, ``@subtitle``, ``@running`` and ``@meta Label: value`` set document metadata;
* ``#``, ``##``, ``###`` start headings (in the handbook, ``#`` is a Part or Schedule and starts
  a new page);
* ``(a) text`` is a lettered paragraph; the same indented by four spaces, ``    (i) text``, is a
  second-level (roman) paragraph;
* ``| a | b |`` lines form a table whose first row is the header row;
* ``- text`` is a bullet; ``1. text`` is a numbered step;
* any other line is a paragraph. A paragraph starting with a clause number such as ``3.4`` or
  a ``"Defined term"`` gets that part set in bold.

Sources must be ASCII, because the PDFs use the Helvetica core font.

Run with: ``/work/main/.venv/bin/python eval/corpora/handbook-4-src/make_handbook4.py``
"""

from __future__ import annotations

import html
import re
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.errors import FPDFException
from fpdf.fonts import FontFace

SRC_DIR = Path(__file__).resolve().parent
OUT_DIR = SRC_DIR.parent / "handbook-4"
ORG = "Tallowwood Regional Council"
FIXED_DATE = datetime(2026, 7, 1, tzinfo=UTC)

# source stem -> (output format, layout)
PDF_SOURCES: dict[str, str] = {
    "TRC_Staff_Handbook": "handbook",
    "Fitness_for_Work_Drugs_and_Alcohol_Procedure": "procedure",
}
DOCX_SOURCES: list[str] = ["Code_of_Conduct", "Gifts_Benefits_and_Hospitality_Procedure"]
HTML_SOURCES: dict[str, dict[str, str]] = {
    "wfh-flexible-work-faqs": {
        "title": "Working from home and flexible work - FAQs",
        "section": "People &amp; Culture",
        "crumb": "Flexible work",
    },
    "allowances-and-reimbursement-rates-2026-27": {
        "title": "Allowances and reimbursement rates 2026-27",
        "section": "Payroll",
        "crumb": "Allowances and rates",
    },
}
COPIED: list[str] = [
    "pcard-procedure.md",
    "memo_christmas_closedown_2026.txt",
    "outdoor_depot_quick_reference.txt",
]

ITEM_RE = re.compile(r"^( {4})?\(([a-z]+)\) (.+)$")
STEP_RE = re.compile(r"^(\d+)\. (.+)$")
LEAD_RE = re.compile(r'^(\d+(?:\.\d+)+|"[^"]+")(\s.*)$')


@dataclass
class Block:
    """One rendered unit of a parsed source."""

    kind: str  # h, p, item, table, ul, ol
    text: str = ""
    level: int = 0
    label: str = ""
    rows: list[list[str]] = field(default_factory=list)
    items: list[str] = field(default_factory=list)


@dataclass
class Source:
    """A parsed ``.src.txt`` document."""

    title: str = ""
    subtitle: str = ""
    running: str = ""
    meta: list[tuple[str, str]] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)


def parse_source(path: Path) -> Source:
    """Parse the line-based markup described in the module docstring."""
    text = path.read_text(encoding="utf-8")
    if not text.isascii():
        raise ValueError(f"{path.name}: sources must be plain ASCII")
    doc = Source()
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line.strip():
            continue
        last = doc.blocks[-1] if doc.blocks else None
        item = ITEM_RE.match(line)
        step = STEP_RE.match(line)
        if line.startswith("@"):
            key, _, value = line[1:].partition(" ")
            if key == "meta":
                label, _, val = value.partition(": ")
                doc.meta.append((label.strip(), val.strip()))
            else:
                setattr(doc, key, value.strip())
        elif line.startswith("#"):
            hashes = len(line) - len(line.lstrip("#"))
            doc.blocks.append(Block("h", line[hashes:].strip(), level=hashes))
        elif line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if last is not None and last.kind == "table":
                last.rows.append(cells)
            else:
                doc.blocks.append(Block("table", rows=[cells]))
        elif line.startswith("- "):
            if last is not None and last.kind == "ul":
                last.items.append(line[2:].strip())
            else:
                doc.blocks.append(Block("ul", items=[line[2:].strip()]))
        elif step:
            if last is not None and last.kind == "ol":
                last.items.append(step.group(2))
            else:
                doc.blocks.append(Block("ol", items=[step.group(2)]))
        elif item:
            level = 2 if item.group(1) else 1
            doc.blocks.append(Block("item", item.group(3), level=level, label=f"({item.group(2)})"))
        else:
            doc.blocks.append(Block("p", line.strip()))
    return doc


def split_lead(text: str) -> tuple[str, str]:
    """Split a leading clause number or quoted defined term from the rest of a paragraph."""
    match = LEAD_RE.match(text)
    if match:
        return match.group(1), match.group(2)
    return "", text


def is_caption(block: Block) -> bool:
    """True for short paragraphs such as 'Table 1 - ...' that caption a table."""
    return block.kind == "p" and block.text.startswith("Table ") and len(block.text) < 90


# --------------------------------------------------------------------------- PDF


class CouncilPDF(FPDF):
    """A4 PDF with a running header and a page-number footer."""

    def __init__(self, running: str, footer_label: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.running = running
        self.footer_label = footer_label
        self.cover = False
        self.set_margins(20, 20, 20)
        self.set_auto_page_break(auto=True, margin=22)

    def header(self) -> None:
        """Running header with a rule (not on the cover page)."""
        if self.cover and self.page_no() == 1:
            return
        self.set_font("Helvetica", "I", 8)
        self.set_text_color(80, 80, 80)
        self.cell(0, 5, self.running, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(46, 92, 62)
        self.line(self.l_margin, self.get_y() + 1, self.w - self.r_margin, self.get_y() + 1)
        self.ln(6)
        self.set_text_color(0, 0, 0)

    def footer(self) -> None:
        """Page x of y footer (not on the cover page)."""
        if self.cover and self.page_no() == 1:
            return
        self.set_y(-15)
        self.set_font("Helvetica", "", 8)
        self.set_text_color(80, 80, 80)
        self.cell(0, 6, f"{self.footer_label} {self.page_no()} of {{nb}}", align="C")
        self.set_text_color(0, 0, 0)


def column_weights(rows: list[list[str]]) -> list[float]:
    """Relative column widths from the average length of the text in each column."""
    weights = []
    for col in range(len(rows[0])):
        lengths = [len(row[col]) for row in rows if col < len(row)]
        weights.append(min(55.0, max(8.0, sum(lengths) / len(lengths))))
    return weights


def pdf_paragraph(pdf: CouncilPDF, text: str, size: float) -> None:
    """A paragraph whose leading clause number or defined term is bold."""
    lead, rest = split_lead(text)
    pdf.set_font("Helvetica", "", size)
    if lead:
        pdf.multi_cell(0, 5.2, f"**{lead}**{rest}", markdown=True, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    else:
        pdf.multi_cell(0, 5.2, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1.6)


def pdf_table(pdf: CouncilPDF, rows: list[list[str]]) -> None:
    """A bordered table with a shaded, repeating header row."""
    pdf.set_font("Helvetica", "", 8.8)
    heading = FontFace(emphasis="BOLD", fill_color=(221, 234, 224))
    with pdf.table(
        col_widths=column_weights(rows),
        text_align="LEFT",
        line_height=4.6,
        headings_style=heading,
        borders_layout="ALL",
        padding=1.2,
    ) as table:
        for row in rows:
            table_row = table.row()
            for value in row:
                table_row.cell(value)
    pdf.ln(3)


def render_toc(pdf: FPDF, outline: list) -> None:
    """Contents page(s): Parts and Schedules in bold, clauses indented, with page numbers."""
    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(0, 9, "Contents", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    for section in outline:
        if section.level > 1:
            continue
        top = section.level == 0
        if top:
            pdf.ln(1.2)
        pdf.set_font("Helvetica", "B" if top else "", 9.5 if top else 8.8)
        indent = 0 if top else 6
        pdf.set_x(pdf.l_margin + indent)
        width = pdf.epw - indent - 14
        pdf.cell(width, 4.6, section.name, link=pdf.add_link(page=section.page_number))
        pdf.cell(14, 4.6, str(section.page_number), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def build_pdf(src: Source, out: Path, layout: str) -> None:
    """Render a PDF; for the handbook, retry with more contents pages until the contents fit."""
    if layout != "handbook":
        render_pdf(src, out, layout, toc_pages=0)
        return
    entries = sum(1 for block in src.blocks if block.kind == "h" and block.level <= 2)
    estimate = max(1, -(-(entries * 5) // 240))
    for toc_pages in range(estimate, estimate + 3):
        try:
            render_pdf(src, out, layout, toc_pages)
            return
        except FPDFException as exc:
            if "too many page breaks" not in str(exc):
                raise
    raise RuntimeError("contents pages could not be fitted")


def render_pdf(src: Source, out: Path, layout: str, toc_pages: int) -> None:
    """Render a parsed source as a PDF. The handbook gets a cover, contents and Part page breaks."""
    handbook = layout == "handbook"
    pdf = CouncilPDF(src.running or ORG, "Page")
    pdf.set_title(f"{ORG} - {src.title}")
    pdf.set_author(f"{ORG} People & Culture")
    pdf.set_creation_date(FIXED_DATE)
    body_size = 10

    pdf.cover = handbook
    pdf.add_page()
    if handbook:
        pdf.set_fill_color(46, 92, 62)
        pdf.rect(0, 0, pdf.w, 70, style="F")
        pdf.set_text_color(255, 255, 255)
        pdf.set_xy(20, 24)
        pdf.set_font("Helvetica", "B", 13)
        pdf.cell(0, 8, ORG.upper(), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("Helvetica", "B", 30)
        pdf.cell(0, 16, src.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)
        pdf.set_y(88)
        pdf.set_font("Helvetica", "", 12)
        pdf.multi_cell(0, 6, src.subtitle, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(8)
    else:
        pdf.set_font("Helvetica", "B", 16)
        pdf.multi_cell(0, 8, src.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if src.subtitle:
            pdf.set_font("Helvetica", "I", 10.5)
            pdf.multi_cell(0, 6, src.subtitle, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2)
    for label, value in src.meta:
        pdf.set_font("Helvetica", "B", 9.5)
        pdf.cell(40, 5.5, f"{label}:")
        pdf.set_font("Helvetica", "", 9.5)
        pdf.multi_cell(0, 5.5, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.set_draw_color(46, 92, 62)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(4)
    if handbook:
        pdf.set_font("Helvetica", "I", 9)
        pdf.multi_cell(
            0,
            5,
            "This Handbook must be read with the Tallowwood Regional Council Enterprise Agreement 2025. "
            "Printed copies are uncontrolled; the current version is on the intranet policy register.",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        pdf.add_page()
        pdf.insert_toc_placeholder(render_toc, pages=toc_pages)

    first_part = True
    for block in src.blocks:
        if block.kind == "h":
            if handbook and block.level == 1:
                if not first_part:
                    pdf.add_page()
                first_part = False
                pdf.start_section(block.text, level=0)
                pdf.set_font("Helvetica", "B", 15)
                pdf.set_text_color(46, 92, 62)
                pdf.multi_cell(0, 8, block.text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
                pdf.set_text_color(0, 0, 0)
                pdf.ln(2)
                continue
            if handbook and block.level == 2:
                pdf.start_section(block.text, level=1)
            pdf.ln(2)
            sizes = {1: 13, 2: 11.5, 3: 10.5}
            pdf.set_font("Helvetica", "B", sizes.get(block.level, 10.5))
            pdf.multi_cell(0, 6.2, block.text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(1)
        elif block.kind == "item":
            pdf.set_font("Helvetica", "", body_size)
            indent = 6 if block.level == 1 else 16
            pdf.set_x(pdf.l_margin + indent)
            pdf.cell(9, 5.2, block.label)
            pdf.multi_cell(pdf.epw - indent - 9, 5.2, block.text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(1.4)
        elif block.kind == "p":
            if is_caption(block):
                pdf.set_font("Helvetica", "B", 9.5)
                pdf.multi_cell(0, 5.2, block.text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
                pdf.ln(1)
            else:
                pdf_paragraph(pdf, block.text, body_size)
        elif block.kind in ("ul", "ol"):
            pdf.set_font("Helvetica", "", body_size)
            for number, text in enumerate(block.items, start=1):
                pdf.set_x(pdf.l_margin + 6)
                pdf.cell(7, 5.2, "-" if block.kind == "ul" else f"{number}.")
                pdf.multi_cell(pdf.epw - 13, 5.2, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
                pdf.ln(0.8)
            pdf.ln(1.2)
        elif block.kind == "table":
            pdf_table(pdf, block.rows)
    pdf.output(str(out))


# --------------------------------------------------------------------------- DOCX


def add_page_number_field(paragraph_element: OxmlElement) -> None:
    """Append a PAGE field to a paragraph XML element."""
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        run = OxmlElement("w:r")
        if kind:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), kind)
            run.append(fld)
        else:
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = f" {text} "
            run.append(instr)
        paragraph_element.append(run)


def build_docx(src: Source, out: Path) -> None:
    """Render a parsed source as a Word document with headings, clause numbers, lists and tables."""
    document = Document()
    normal = document.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(10.5)
    props = document.core_properties
    props.title = src.title
    props.author = f"{ORG} Governance and Risk"
    props.created = FIXED_DATE
    props.modified = FIXED_DATE

    section = document.sections[0]
    section.left_margin = section.right_margin = Cm(2.2)
    section.header.paragraphs[0].text = src.running or ORG
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.text = f"{ORG} - uncontrolled when printed - page "
    add_page_number_field(footer._p)

    document.add_heading(src.title, level=0)
    if src.subtitle:
        document.add_paragraph(src.subtitle, style="Subtitle")
    if src.meta:
        table = document.add_table(rows=len(src.meta), cols=2)
        table.style = "Light List Accent 1"
        for row, (label, value) in zip(table.rows, src.meta, strict=True):
            row.cells[0].text = label
            row.cells[1].text = value
            row.cells[0].paragraphs[0].runs[0].bold = True
        document.add_paragraph("")

    for block in src.blocks:
        if block.kind == "h":
            document.add_heading(block.text, level=min(block.level, 3))
        elif is_caption(block):
            document.add_paragraph(block.text, style="Caption")
        elif block.kind == "p":
            lead, rest = split_lead(block.text)
            para = document.add_paragraph()
            if lead:
                para.add_run(lead).bold = True
            para.add_run(rest if lead else block.text)
        elif block.kind == "item":
            para = document.add_paragraph()
            para.paragraph_format.left_indent = Cm(1.0 if block.level == 1 else 2.0)
            para.paragraph_format.first_line_indent = Cm(-0.8)
            para.add_run(f"{block.label}\t{block.text}")
        elif block.kind == "ul":
            for text in block.items:
                document.add_paragraph(text, style="List Bullet")
        elif block.kind == "ol":
            for text in block.items:
                document.add_paragraph(text, style="List Number")
        elif block.kind == "table":
            add_docx_table(document, block.rows)
    document.save(str(out))


def add_docx_table(document: Document, rows: list[list[str]]) -> None:
    """A bordered Word table whose first row is a bold, repeating header row."""
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    table.style = "Table Grid"
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            cell = table.cell(r, c)
            cell.text = value
            for run in cell.paragraphs[0].runs:
                run.font.size = Pt(9)
                if r == 0:
                    run.bold = True
                    run.font.color.rgb = RGBColor(0x2E, 0x5C, 0x3E)
    tr_pr = table.rows[0]._tr.get_or_add_trPr()
    header_flag = OxmlElement("w:tblHeader")
    header_flag.set(qn("w:val"), "true")
    tr_pr.append(header_flag)
    document.add_paragraph("")


# --------------------------------------------------------------------------- HTML

PAGE_TEMPLATE = """<!DOCTYPE html>
<html lang="en-AU">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} | The Canopy - TRC intranet</title>
<link rel="stylesheet" href="/assets/canopy/main.css">
<style>
  details {{ border: 1px solid #c9d8cd; border-radius: 4px; padding: .4rem .8rem; margin: .6rem 0; }}
  summary {{ font-weight: 600; cursor: pointer; }}
  table.rates th {{ background: #ddeae0; text-align: left; }}
</style>
<script src="/assets/canopy/vendor/sitestats.min.js" defer></script>
</head>
<body class="canopy">
<a class="skip" href="#content">Skip to main content</a>
<header class="canopy-header">
  <a class="logo" href="/"><img src="/assets/canopy/trc-leaf.svg" alt="">The Canopy</a>
  <form class="search" action="/search" role="search">
    <label for="q" class="visually-hidden">Search the intranet</label>
    <input id="q" name="q" type="search" placeholder="Search people, policies and forms">
  </form>
  <nav class="global-nav" aria-label="Global">
    <a href="/">Home</a>
    <a href="/news">News</a>
    <a href="/hr">People &amp; Culture</a>
    <a href="/finance">Finance</a>
    <a href="/safety">Safety</a>
    <a href="/it">IT help</a>
    <a href="/directory">Staff directory</a>
  </nav>
</header>
<nav class="breadcrumb" aria-label="Breadcrumb">
  <a href="/">Home</a> / <a href="/hr">{section}</a> / <span>{crumb}</span>
</nav>
<main id="content">
{body}
</main>
<aside class="page-tools" aria-label="Page tools">
  <p><a href="#" onclick="window.print();return false;">Print this page</a></p>
  <p>Was this page helpful? <button type="button">Yes</button> <button type="button">No</button></p>
</aside>
<footer class="canopy-footer">
  <p>{org} &middot; 14 Corbett Street, Wirrimbah &middot; Internal use only</p>
  <p><a href="/accessibility">Accessibility</a> &middot; <a href="/intranet-help">Intranet help</a></p>
</footer>
<script>
  window.canopy = window.canopy || {{}};
  window.canopy.page = {{ title: "{title}", owner: "{section}" }};
</script>
</body>
</html>
"""


def build_html(stem: str, out: Path) -> None:
    """Wrap a hand-written article body in the intranet page template."""
    body = (SRC_DIR / f"{stem}.body.html").read_text(encoding="utf-8")
    if not body.isascii():
        raise ValueError(f"{stem}.body.html: use HTML entities, not non-ASCII characters")
    info = HTML_SOURCES[stem]
    page = PAGE_TEMPLATE.format(
        title=html.escape(info["title"]),
        section=info["section"],
        crumb=html.escape(info["crumb"]),
        body=body.strip(),
        org=ORG,
    )
    out.write_text(page, encoding="utf-8")


# --------------------------------------------------------------------------- SOURCES.md

TOPICS: dict[str, str] = {
    "TRC_Staff_Handbook.pdf": (
        "Consolidated Staff Handbook HR-POL-001 (Parts 1-10 and Schedules 1-3): definitions, "
        "employment, hours, flex-time, RDOs, overtime, TOIL, all leave types, Christmas closedown, pay, "
        "higher duties, allowances, superannuation, study assistance, WHS, EAP, grievances, discipline, "
        "resignation; 2025-26 allowance rates, notice periods, forms"
    ),
    "Fitness_for_Work_Drugs_and_Alcohol_Procedure.pdf": (
        "Alcohol and drug limits, testing, fatigue (WHS-PRO-007)"
    ),
    "Code_of_Conduct.docx": "Code of Conduct GOV-POL-002: conflicts of interest, secondary employment, "
    "social media, political activity, reporting breaches",
    "Gifts_Benefits_and_Hospitality_Procedure.docx": "Gifts, benefits, hospitality thresholds and register",
    "wfh-flexible-work-faqs.html": "Working from home and flexible work FAQs (intranet page)",
    "allowances-and-reimbursement-rates-2026-27.html": "Allowance and reimbursement rate tables 2026-27",
    "pcard-procedure.md": "Purchasing card (P-card) procedure: limits, prohibited uses, reconciliation",
    "memo_christmas_closedown_2026.txt": (
        "Memo: Christmas closedown 2026 changes (concessional days, deadline)"
    ),
    "outdoor_depot_quick_reference.txt": "Outdoor workforce depot quick reference card (terse)",
}

SOURCES_MD = """# handbook-4: Tallowwood Regional Council staff documents

This corpus is **fictional**. It was written for evaluating a question-answering system over
company policy documents. Tallowwood Regional Council, its towns (Wirrimbah, Bellbird, Coolabah
Flats), depots, people, enterprise agreement, forms, phone numbers and extensions, systems
(Kiosk, SafeTRC, ExpenseHub) and email addresses (tallowwood.example) are invented. Phone numbers
are drawn from ranges reserved for fictional use. Rates, entitlements and legal references are
plausible for an Australian local-government employer but are not legal or HR advice.

Some rules deliberately appear in two places with one refining the other: the Staff Handbook's
Schedule 1 (2025-26 rates) is superseded by the 2026-27 rates page, and the Christmas closedown
rules in Handbook clause 5.10.2 are varied for 2026 by the memo.

## Regenerating

The documents are generated from the plain-text sources in `../handbook-4-src/`:

    /work/main/.venv/bin/python eval/corpora/handbook-4-src/make_handbook4.py
    /work/main/.venv/bin/python eval/corpora/handbook-4-src/check_handbook4.py

`make_handbook4.py` renders the PDFs (fpdf2), the Word documents (python-docx) and the HTML pages,
and copies the Markdown and text files. `check_handbook4.py` verifies the question set
`eval/handbook4_questions.jsonl` against the text extracted from the generated files.

## Files

| File | Format | Topic |
|---|---|---|
"""


def main() -> None:
    """Generate every document into ../handbook-4."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    produced: list[str] = []
    for stem, layout in PDF_SOURCES.items():
        out = OUT_DIR / f"{stem}.pdf"
        build_pdf(parse_source(SRC_DIR / f"{stem}.src.txt"), out, layout)
        produced.append(out.name)
    for stem in DOCX_SOURCES:
        out = OUT_DIR / f"{stem}.docx"
        build_docx(parse_source(SRC_DIR / f"{stem}.src.txt"), out)
        produced.append(out.name)
    for stem in HTML_SOURCES:
        out = OUT_DIR / f"{stem}.html"
        build_html(stem, out)
        produced.append(out.name)
    for name in COPIED:
        if not (SRC_DIR / name).read_text(encoding="utf-8").isascii():
            raise ValueError(f"{name}: sources must be plain ASCII")
        shutil.copyfile(SRC_DIR / name, OUT_DIR / name)
        produced.append(name)
    rows = "".join(f"| {name} | {name.rsplit('.', 1)[1].upper()} | {TOPICS[name]} |\n" for name in produced)
    (OUT_DIR / "SOURCES.md").write_text(SOURCES_MD + rows, encoding="utf-8")
    for name in produced:
        print(f"wrote {OUT_DIR / name}")


if __name__ == "__main__":
    main()
