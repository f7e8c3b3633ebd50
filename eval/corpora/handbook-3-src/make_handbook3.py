"""Build the handbook-3 evaluation corpus (fictional Mercy Ridge Health System manual).

The plain-text sources live next to this script. Sources ending in ``.src.txt`` use a small
markup and are rendered to .docx, .pdf or .html; ``.md`` and ``.txt`` sources are copied as is.

Markup of ``.src.txt`` files, one construct per line:

* ``@title``, ``@subtitle``, ``@running``, ``@section``, ``@related`` (``;``-separated) and
  ``@meta Label: value`` (the header block of a formal policy) set document metadata;
* ``#``, ``##``, ``###`` start headings;
* ``| a | b |`` lines form a table whose first row is the header row;
* ``- text`` is a bullet; ``1. text`` (no indent), ``   a. text`` (3 spaces) and
  ``      i. text`` (6 spaces) are numbered items at levels 0, 1 and 2;
* ``Q: ...`` starts an FAQ question; any other line is paragraph text.

Run with: ``/work/main/.venv/bin/python eval/corpora/handbook-3-src/make_handbook3.py``
"""

from __future__ import annotations

import html
import re
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from docx import Document
from docx.document import Document as DocxDocument
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

SRC_DIR = Path(__file__).resolve().parent
OUT_DIR = SRC_DIR.parent / "handbook-3"
ORG = "Mercy Ridge Health System"

# source stem (without .src.txt) -> output format
RENDERED: dict[str, str] = {
    "HR-210_Paid_Time_Off_Policy": "docx",
    "Attendance_and_Punctuality_Standards": "docx",
    "Separation_Resignation_and_Final_Pay": "docx",
    "Compensation_Shift_Differentials_OnCall": "pdf",
    "Tuition_Assistance_and_Certification_Reimbursement": "pdf",
    "PRV-104_HIPAA_Privacy_Access_to_PHI": "pdf",
    "infection-prevention-immunizations": "html",
    "workplace-violence-prevention-security": "html",
}
COPIED: list[str] = [
    "extended-illness-bank-memo.md",
    "dress-code-and-uniforms.md",
    "scheduling_quick_reference_card.txt",
    "employee_health_bloodborne_exposure_memo.txt",
]

LIST_RE = re.compile(r"^( *)(\d+|[a-z]+)\. (.+)$")
ABSTRACT_NUM_ID = 90


@dataclass
class Block:
    """One rendered unit: heading, paragraph, table, bullet list, numbered list or FAQ question."""

    kind: str
    text: str = ""
    level: int = 0
    rows: list[list[str]] = field(default_factory=list)
    items: list[tuple[int, str, str]] = field(default_factory=list)


@dataclass
class Source:
    """A parsed ``.src.txt`` document."""

    title: str = ""
    subtitle: str = ""
    running: str = ""
    section: str = "Policies"
    related: list[str] = field(default_factory=list)
    meta: list[tuple[str, str]] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)


def list_kind(level: int, marker: str) -> str:
    """Return the HTML list type ("1", "a" or "i") for a numbered item."""
    if marker.isdigit():
        return "1"
    return "i" if level >= 2 else "a"


def parse_source(path: Path) -> Source:
    """Parse the small markup described in the module docstring."""
    text = path.read_text(encoding="utf-8")
    if not text.isascii():
        raise ValueError(f"{path.name}: sources must be plain ASCII (Latin-1 safe for the PDFs)")
    doc = Source()
    para: list[str] = []

    def flush() -> None:
        if para:
            doc.blocks.append(Block("p", " ".join(para)))
            para.clear()

    for raw in text.splitlines():
        line = raw.rstrip()
        stripped = line.strip()
        match = LIST_RE.match(line)
        last = doc.blocks[-1] if doc.blocks else None
        if not stripped:
            flush()
            doc.blocks.append(Block("break"))
        elif line.startswith("@"):
            key, _, value = line[1:].partition(" ")
            if key == "meta":
                label, _, val = value.partition(": ")
                doc.meta.append((label.strip(), val.strip()))
            elif key == "related":
                doc.related = [item.strip() for item in value.split(";")]
            else:
                setattr(doc, key, value.strip())
        elif line.startswith("#"):
            flush()
            hashes = len(line) - len(line.lstrip("#"))
            doc.blocks.append(Block("h", line[hashes:].strip(), level=hashes))
        elif stripped.startswith("|"):
            flush()
            cells = [cell.strip() for cell in stripped.strip("|").split("|")]
            if all(set(cell) <= set("-: ") for cell in cells):
                continue
            if last is not None and last.kind == "table":
                last.rows.append(cells)
            else:
                doc.blocks.append(Block("table", rows=[cells]))
        elif line.startswith("- "):
            flush()
            if last is not None and last.kind == "ul":
                last.items.append((0, "-", line[2:].strip()))
            else:
                doc.blocks.append(Block("ul", items=[(0, "-", line[2:].strip())]))
        elif match:
            flush()
            level = len(match.group(1)) // 3
            item = (level, match.group(2), match.group(3).strip())
            if last is not None and last.kind == "ol":
                last.items.append(item)
            else:
                doc.blocks.append(Block("ol", items=[item]))
        elif line.startswith("Q: "):
            flush()
            doc.blocks.append(Block("q", stripped))
        else:
            para.append(stripped)
    flush()
    doc.blocks = [block for block in doc.blocks if block.kind != "break"]
    return doc


def is_caption(block: Block) -> bool:
    """True for short paragraphs such as 'Table 1. ...' that caption a table."""
    return block.kind == "p" and block.text.startswith("Table ") and len(block.text) < 90


# --------------------------------------------------------------------------- DOCX


def add_abstract_numbering(document: DocxDocument) -> None:
    """Add a three-level (1. / a. / i.) multilevel list definition to numbering.xml."""
    numbering = document.part.numbering_part.element
    abstract = OxmlElement("w:abstractNum")
    abstract.set(qn("w:abstractNumId"), str(ABSTRACT_NUM_ID))
    multi = OxmlElement("w:multiLevelType")
    multi.set(qn("w:val"), "multilevel")
    abstract.append(multi)
    for ilvl, fmt in enumerate(["decimal", "lowerLetter", "lowerRoman"]):
        lvl = OxmlElement("w:lvl")
        lvl.set(qn("w:ilvl"), str(ilvl))
        for tag, val in (("w:start", "1"), ("w:numFmt", fmt), ("w:lvlText", f"%{ilvl + 1}.")):
            child = OxmlElement(tag)
            child.set(qn("w:val"), val)
            lvl.append(child)
        jc = OxmlElement("w:lvlJc")
        jc.set(qn("w:val"), "left")
        lvl.append(jc)
        ppr = OxmlElement("w:pPr")
        ind = OxmlElement("w:ind")
        ind.set(qn("w:left"), str(360 + 360 * ilvl))
        ind.set(qn("w:hanging"), "360")
        ppr.append(ind)
        lvl.append(ppr)
        abstract.append(lvl)
    first_num = numbering.find(qn("w:num"))
    if first_num is not None:
        first_num.addprevious(abstract)
    else:
        numbering.append(abstract)


def new_list_instance(document: DocxDocument) -> int:
    """Create a w:num that restarts all levels at 1 and return its numId."""
    numbering = document.part.numbering_part.element
    used = [int(n.get(qn("w:numId"))) for n in numbering.findall(qn("w:num"))]
    num_id = max(used, default=0) + 1
    num = OxmlElement("w:num")
    num.set(qn("w:numId"), str(num_id))
    ref = OxmlElement("w:abstractNumId")
    ref.set(qn("w:val"), str(ABSTRACT_NUM_ID))
    num.append(ref)
    for ilvl in range(3):
        override = OxmlElement("w:lvlOverride")
        override.set(qn("w:ilvl"), str(ilvl))
        start = OxmlElement("w:startOverride")
        start.set(qn("w:val"), "1")
        override.append(start)
        num.append(override)
    numbering.append(num)
    return num_id


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
    """Render a parsed source as a Word document with real headings, tables and numbering."""
    document = Document()
    normal = document.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(10.5)
    add_abstract_numbering(document)
    props = document.core_properties
    props.title = src.title
    props.author = f"{ORG} Human Resources"
    props.created = datetime(2025, 1, 1, tzinfo=UTC)

    section = document.sections[0]
    section.header.paragraphs[0].text = src.running or ORG
    footer = section.footer.paragraphs[0]
    footer.text = "Uncontrolled when printed. Page "
    add_page_number_field(footer._p)

    document.add_heading(src.title, level=0)
    if src.subtitle:
        document.add_paragraph(src.subtitle, style="Subtitle")
    for label, value in src.meta:
        para = document.add_paragraph()
        para.paragraph_format.space_after = Pt(0)
        para.add_run(f"{label}: ").bold = True
        para.add_run(value)
    if src.meta:
        document.add_paragraph("")

    for block in src.blocks:
        if block.kind == "h":
            document.add_heading(block.text, level=min(block.level, 3))
        elif is_caption(block):
            document.add_paragraph(block.text, style="Caption")
        elif block.kind == "p":
            document.add_paragraph(block.text)
        elif block.kind == "q":
            document.add_paragraph().add_run(block.text).bold = True
        elif block.kind == "ul":
            for _, _, text in block.items:
                document.add_paragraph(text, style="List Bullet")
        elif block.kind == "ol":
            num_id = new_list_instance(document)
            for level, _, text in block.items:
                para = document.add_paragraph(text, style="List Paragraph")
                num_pr = para._p.get_or_add_pPr().get_or_add_numPr()
                num_pr.get_or_add_ilvl().val = level
                num_pr.get_or_add_numId().val = num_id
        elif block.kind == "table":
            add_docx_table(document, block.rows)
    document.save(str(out))


def add_docx_table(document: DocxDocument, rows: list[list[str]]) -> None:
    """Add a bordered Word table whose first row is a repeating, bold header row."""
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
                    run.font.color.rgb = RGBColor(0x1F, 0x3A, 0x5F)
    tr_pr = table.rows[0]._tr.get_or_add_trPr()
    header_flag = OxmlElement("w:tblHeader")
    header_flag.set(qn("w:val"), "true")
    tr_pr.append(header_flag)
    document.add_paragraph("")


# --------------------------------------------------------------------------- PDF


class ManualPDF(FPDF):
    """Letter-size PDF with a running header and a 'Page x of y' footer."""

    def __init__(self, running: str) -> None:
        super().__init__(orientation="P", unit="mm", format="Letter")
        self.running = running
        self.set_margins(18, 18, 18)
        self.set_auto_page_break(auto=True, margin=20)

    def header(self) -> None:
        """Draw the running header and a rule under it."""
        self.set_font("Helvetica", "I", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, self.running, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(150, 150, 150)
        self.line(self.l_margin, self.get_y() + 1, self.w - self.r_margin, self.get_y() + 1)
        self.ln(5)
        self.set_text_color(0, 0, 0)

    def footer(self) -> None:
        """Draw the page-number footer."""
        self.set_y(-14)
        self.set_font("Helvetica", "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 6, f"{ORG} - Page {self.page_no()} of {{nb}}", align="C")
        self.set_text_color(0, 0, 0)


def column_weights(rows: list[list[str]]) -> list[float]:
    """Relative column widths from the length of the text in each column."""
    weights = []
    for col in range(len(rows[0])):
        lengths = [len(row[col]) for row in rows if col < len(row)]
        weights.append(min(60.0, max(12.0, sum(lengths) / len(lengths))))
    return weights


def build_pdf(src: Source, out: Path) -> None:
    """Render a parsed source as a multi-page PDF using the Helvetica core font."""
    pdf = ManualPDF(src.running or ORG)
    pdf.set_title(src.title)
    pdf.set_author(f"{ORG} Human Resources")
    pdf.set_creation_date(datetime(2025, 1, 1, tzinfo=UTC))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 8, src.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    for label, value in src.meta:
        pdf.set_font("Helvetica", "B", 9.5)
        pdf.cell(32, 5, f"{label}:")
        pdf.set_font("Helvetica", "", 9.5)
        pdf.multi_cell(0, 5, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if src.meta:
        pdf.ln(1)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
        pdf.ln(3)

    for block in src.blocks:
        if block.kind == "h":
            pdf.ln(2)
            pdf.set_font("Helvetica", "B", 13 if block.level == 1 else 11)
            pdf.multi_cell(0, 6.5, block.text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(1)
        elif block.kind in ("p", "q"):
            bold = block.kind == "q" or is_caption(block)
            pdf.set_font("Helvetica", "B" if bold else "", 10)
            pdf.multi_cell(0, 5, block.text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(2)
        elif block.kind in ("ul", "ol"):
            pdf.set_font("Helvetica", "", 10)
            for level, marker, text in block.items:
                indent = 4 + 7 * level
                label = "-" if block.kind == "ul" else f"{marker}."
                pdf.set_x(pdf.l_margin + indent)
                pdf.cell(7, 5, label)
                pdf.multi_cell(pdf.epw - indent - 7, 5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
                pdf.ln(0.8)
            pdf.ln(1.5)
        elif block.kind == "table":
            pdf.set_font("Helvetica", "", 9)
            heading = FontFace(emphasis="BOLD", fill_color=(222, 229, 240))
            with pdf.table(
                col_widths=column_weights(block.rows),
                text_align="LEFT",
                line_height=4.6,
                headings_style=heading,
                borders_layout="ALL",
                padding=1.2,
            ) as table:
                for row in block.rows:
                    table_row = table.row()
                    for value in row:
                        table_row.cell(value)
            pdf.ln(3)
    pdf.output(str(out))


# --------------------------------------------------------------------------- HTML


def inline_html(text: str) -> str:
    """Escape text and turn **bold** into <strong>."""
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html.escape(text, quote=False))


def ordered_list_html(items: list[tuple[int, str, str]]) -> list[str]:
    """Render numbered items as properly nested <ol> elements."""
    out: list[str] = []
    stack: list[int] = []
    for level, marker, text in items:
        while stack and stack[-1] > level:
            out.append("</li></ol>")
            stack.pop()
        if stack and stack[-1] == level:
            out.append("</li>")
        else:
            out.append(f'<ol type="{list_kind(level, marker)}">')
            stack.append(level)
        out.append(f"<li>{inline_html(text)}")
    while stack:
        out.append("</li></ol>")
        stack.pop()
    return ["".join(out)]


def article_html(src: Source) -> str:
    """Render the article body."""
    parts = [f"<h1>{html.escape(src.title)}</h1>"]
    if src.subtitle:
        parts.append(f'<p class="doc-meta">{html.escape(src.subtitle)}</p>')
    for block in src.blocks:
        if block.kind == "h":
            level = min(block.level + 1, 4)
            parts.append(f"<h{level}>{inline_html(block.text)}</h{level}>")
        elif block.kind == "p":
            parts.append(f"<p>{inline_html(block.text)}</p>")
        elif block.kind == "q":
            parts.append(f'<p class="faq-q"><strong>{inline_html(block.text)}</strong></p>')
        elif block.kind == "ul":
            lis = "".join(f"<li>{inline_html(text)}</li>" for _, _, text in block.items)
            parts.append(f"<ul>{lis}</ul>")
        elif block.kind == "ol":
            parts.extend(ordered_list_html(block.items))
        elif block.kind == "table":
            head = "".join(f'<th scope="col">{html.escape(c)}</th>' for c in block.rows[0])
            body = "".join(
                "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                for row in block.rows[1:]
            )
            parts.append(
                f'<table class="policy-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
            )
    return "\n".join(parts)


PAGE_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} | The Ridge - MRHS Employee Intranet</title>
<link rel="stylesheet" href="/static/css/ridge-intranet.css">
<script src="/static/js/vendor/analytics-lite.js" defer></script>
<script>
  window.ridgeIntranet = {{ section: "{section}", pageType: "policy", build: "2025.06.2" }};
  document.documentElement.classList.add("js");
</script>
</head>
<body>
<a class="skip-link" href="#main">Skip to content</a>
<header class="site-header">
  <div class="brand"><img src="/static/img/mrhs-logo.svg" alt=""> The Ridge | {org}</div>
  <form class="site-search" action="/search" role="search">
    <input type="search" name="q" placeholder="Search policies, forms, people">
    <button type="submit">Search</button>
  </form>
  <nav class="top-nav" aria-label="Main">
    <ul>
      <li><a href="/">Home</a></li>
      <li><a href="/hr">Human Resources</a></li>
      <li><a href="/policies">Policies &amp; Procedures</a></li>
      <li><a href="/employee-health">Employee Health</a></li>
      <li><a href="/it">IT Service Desk</a></li>
      <li><a href="/directory">Directory</a></li>
    </ul>
  </nav>
</header>
<div class="layout">
<nav class="breadcrumbs" aria-label="Breadcrumb">
  <a href="/">Home</a> &rsaquo; <a href="/policies">Policies</a> &rsaquo; {section}
</nav>
<main id="main">
<article class="policy-article">
{article}
</article>
</main>
<aside class="sidebar" aria-label="Related">
  <h2>Related links</h2>
  <ul>
{related}
  </ul>
  <h2>Need help?</h2>
  <p>HR Service Center: (509) 555-0142<br>IT Service Desk: ext. 4-4357</p>
  <p class="updated">Page last reviewed by the content owner. Printed copies are uncontrolled.</p>
</aside>
</div>
<footer class="site-footer">
  <p>(c) 2025 {org}. Internal use only. Spokane, WA | Coeur d'Alene, ID | Missoula, MT.</p>
  <p><a href="/accessibility">Accessibility</a> | <a href="/privacy">Intranet privacy</a> |
     <a href="/feedback">Give feedback on this page</a></p>
</footer>
<script>
  document.querySelectorAll(".policy-table").forEach(function (t) {{
    t.setAttribute("tabindex", "0");
  }});
  if (window.ridgeAnalytics) {{ window.ridgeAnalytics.track("policy_view", window.ridgeIntranet); }}
</script>
</body>
</html>
"""


def build_html(src: Source, out: Path) -> None:
    """Render a parsed source as a full intranet page around an <article>."""
    related = "\n".join(
        f'    <li><a href="/link/{i}">{html.escape(label)}</a></li>' for i, label in enumerate(src.related)
    )
    page = PAGE_TEMPLATE.format(
        title=html.escape(src.title),
        section=html.escape(src.section),
        org=ORG,
        article=article_html(src),
        related=related,
    )
    out.write_text(page, encoding="utf-8")


SOURCES_MD = """# handbook-3: Mercy Ridge Health System employee policy manual

This corpus is **fictional**. It was written for evaluating a question-answering system over
HR/IT policy documents. Mercy Ridge Health System, its sites, union (INNU Local 412), forms,
phone numbers, email addresses (mercyridge.example) and people are invented. Rates, deadlines
and state-law summaries are plausible but are not legal or HR advice and must not be relied on.

The documents are generated by `../handbook-3-src/make_handbook3.py` from the plain-text
sources in `../handbook-3-src/`; `check_handbook3.py` there verifies the question set
`eval/handbook3_questions.jsonl` against the generated files.

| File | Format | Topic |
|---|---|---|
"""

TOPICS: dict[str, str] = {
    "HR-210_Paid_Time_Off_Policy.docx": "PTO bank accrual, carryover, cash-out (formal policy)",
    "Attendance_and_Punctuality_Standards.docx": "Attendance points system",
    "Separation_Resignation_and_Final_Pay.docx": "Resignation, termination, final pay by state; FAQ",
    "Compensation_Shift_Differentials_OnCall.pdf": "Shift differentials, overtime, on-call, callback",
    "Tuition_Assistance_and_Certification_Reimbursement.pdf": "Tuition and certification, repayment",
    "PRV-104_HIPAA_Privacy_Access_to_PHI.pdf": "HIPAA privacy and record access (formal policy)",
    "infection-prevention-immunizations.html": "Flu vaccine, TB screening, immunizations",
    "workplace-violence-prevention-security.html": "Workplace violence and security",
    "extended-illness-bank-memo.md": "Extended Illness Bank (memo)",
    "dress-code-and-uniforms.md": "Uniforms and dress code",
    "scheduling_quick_reference_card.txt": "Scheduling and shift swaps (quick reference card)",
    "employee_health_bloodborne_exposure_memo.txt": "Needle-stick exposure, employee health (memo)",
}


def main() -> None:
    """Generate every document into ../handbook-3."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    builders = {"docx": build_docx, "pdf": build_pdf, "html": build_html}
    produced: list[str] = []
    for stem, fmt in RENDERED.items():
        src = parse_source(SRC_DIR / f"{stem}.src.txt")
        out = OUT_DIR / f"{stem}.{fmt}"
        builders[fmt](src, out)
        produced.append(out.name)
    for name in COPIED:
        if not (SRC_DIR / name).read_text(encoding="utf-8").isascii():
            raise ValueError(f"{name}: sources must be plain ASCII")
        shutil.copyfile(SRC_DIR / name, OUT_DIR / name)
        produced.append(name)
    rows = "".join(f"| {name} | {name.rsplit('.', 1)[1]} | {TOPICS[name]} |\n" for name in produced)
    (OUT_DIR / "SOURCES.md").write_text(SOURCES_MD + rows, encoding="utf-8")
    for name in produced:
        print(f"wrote {OUT_DIR / name}")


if __name__ == "__main__":
    main()
