#!/usr/bin/env python3
"""Build the handbook-2 evaluation corpus from the plain-text sources in this folder.

Usage (from anywhere):
    /work/main/.venv/bin/python make_handbook2.py

Source markup (*.src.txt), blocks separated by blank lines:
    = Title                 document title
    # Heading               Heading 1
    ## Heading              Heading 2
    | a | b | c |           table rows (first row is the header row)
    - item                  bullet list (one item per line)
    **Question?**           bold line (FAQ question)
    anything else           a paragraph (lines are joined with spaces)

The .md and .txt documents are written by hand and are copied unchanged.
"""

import html
import re
import shutil
from pathlib import Path
from typing import Any

from docx import Document
from docx.shared import Pt
from fpdf import FPDF

SRC = Path(__file__).resolve().parent
OUT = SRC.parent / "handbook-2"
COMPANY = "Harrow & Vale Engineering Ltd"

DOCX = [
    "annual-leave-and-bank-holidays",
    "it-acceptable-use-and-security",
    "disciplinary-and-grievance-procedure",
    "leaving-the-company",
]
PDF = [
    "family-leave-policy",
    "business-travel-and-subsistence",
    "learning-and-professional-qualifications",
]
HTML = [
    "hybrid-and-flexible-working",
    "data-protection-faq",
]
COPY = [
    "sickness-absence-faq.md",
    "expenses-and-corporate-cards.md",
    "pensions-and-benefits-overview.md",
    "company-vehicles-and-mileage.txt",
]


# --------------------------------------------------------------------------- parsing
def parse(path: Path) -> list[tuple[str, Any]]:
    """Return a list of (kind, payload) blocks."""
    blocks = []
    for raw in re.split(r"\n\s*\n", path.read_text(encoding="utf-8").strip()):
        lines = [line.rstrip() for line in raw.strip().splitlines() if line.strip()]
        if not lines:
            continue
        first = lines[0]
        if first.startswith("= "):
            blocks.append(("title", first[2:].strip()))
        elif first.startswith("## "):
            blocks.append(("h2", first[3:].strip()))
        elif first.startswith("# "):
            blocks.append(("h1", first[2:].strip()))
        elif all(line.startswith("|") for line in lines):
            rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines]
            blocks.append(("table", rows))
        elif all(line.startswith("- ") for line in lines):
            blocks.append(("bullets", [line[2:].strip() for line in lines]))
        elif len(lines) == 1 and first.startswith("**") and first.endswith("**"):
            blocks.append(("bold", first[2:-2].strip()))
        else:
            blocks.append(("para", " ".join(line.strip() for line in lines)))
    return blocks


def title_of(blocks: list[tuple[str, Any]]) -> str:
    return next(p for k, p in blocks if k == "title")


# --------------------------------------------------------------------------- docx
def build_docx(name: str) -> None:
    blocks = parse(SRC / f"{name}.src.txt")
    doc = Document()
    doc.core_properties.title = title_of(blocks)
    doc.core_properties.author = "People Team, " + COMPANY
    style = doc.styles["Normal"]
    style.font.name = "Calibri"
    style.font.size = Pt(11)
    section = doc.sections[0]
    section.header.paragraphs[0].text = f"{COMPANY} | Staff Handbook | {title_of(blocks)}"
    section.footer.paragraphs[
        0
    ].text = "Uncontrolled when printed. Check the intranet for the current version."
    for kind, payload in blocks:
        if kind == "title":
            doc.add_heading(payload, level=0)
        elif kind == "h1":
            doc.add_heading(payload, level=1)
        elif kind == "h2":
            doc.add_heading(payload, level=2)
        elif kind == "para":
            doc.add_paragraph(payload)
        elif kind == "bold":
            doc.add_paragraph().add_run(payload).bold = True
        elif kind == "bullets":
            for item in payload:
                doc.add_paragraph(item, style="List Bullet")
        elif kind == "table":
            ncols = len(payload[0])
            table = doc.add_table(rows=0, cols=ncols)
            table.style = "Table Grid"
            for r, row in enumerate(payload):
                assert len(row) == ncols, row
                cells = table.add_row().cells
                for c, text in enumerate(row):
                    cells[c].text = ""
                    run = cells[c].paragraphs[0].add_run(text)
                    run.bold = r == 0
            doc.add_paragraph()
    doc.save(OUT / f"{name}.docx")


# --------------------------------------------------------------------------- pdf
class HandbookPDF(FPDF):
    def __init__(self, doc_title: str) -> None:
        super().__init__(format="A4")
        self.doc_title = doc_title
        self.set_margins(20, 22, 20)
        self.set_auto_page_break(auto=True, margin=20)

    def header(self) -> None:
        self.set_font("Helvetica", "I", 8)
        self.set_text_color(90, 90, 90)
        self.set_y(10)
        self.cell(0, 5, f"{COMPANY} - Staff Handbook", align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, self.doc_title, align="R", new_x="LMARGIN", new_y="NEXT")
        self.set_draw_color(150, 150, 150)
        self.line(self.l_margin, 16, self.w - self.r_margin, 16)
        self.set_text_color(0, 0, 0)
        self.set_y(22)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font("Helvetica", "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="C")
        self.set_text_color(0, 0, 0)


def build_pdf(name: str) -> int:
    blocks = parse(SRC / f"{name}.src.txt")
    text = (SRC / f"{name}.src.txt").read_text(encoding="utf-8")
    text.encode("latin-1")  # core fonts only support Latin-1
    for bad in ["\u2013", "\u2014", "\u2018", "\u2019", "\u201c", "\u201d", "\u20ac"]:
        assert bad not in text, (name, bad)
    pdf = HandbookPDF(title_of(blocks))
    pdf.set_title(title_of(blocks))
    pdf.set_author(COMPANY)
    pdf.alias_nb_pages()
    pdf.add_page()
    body = 10.5
    for kind, payload in blocks:
        if kind == "title":
            pdf.set_font("Helvetica", "B", 18)
            pdf.multi_cell(0, 9, payload, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
        elif kind == "h1":
            pdf.ln(3)
            pdf.set_font("Helvetica", "B", 13)
            pdf.multi_cell(0, 7, payload, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        elif kind == "h2":
            pdf.ln(2)
            pdf.set_font("Helvetica", "B", 11)
            pdf.multi_cell(0, 6, payload, new_x="LMARGIN", new_y="NEXT")
        elif kind in ("para", "bold"):
            pdf.set_font("Helvetica", "B" if kind == "bold" else "", body)
            indent = 8 if re.match(r"^\d+\.\d+\.\d+ ", payload) else 0
            pdf.set_x(pdf.l_margin + indent)
            pdf.multi_cell(0, 5.6, payload, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2.2)
        elif kind == "bullets":
            pdf.set_font("Helvetica", "", body)
            for item in payload:
                pdf.set_x(pdf.l_margin + 4)
                pdf.cell(5, 5.6, "-")
                pdf.multi_cell(0, 5.6, item, new_x="LMARGIN", new_y="NEXT")
                pdf.ln(1)
            pdf.ln(1.5)
        elif kind == "table":
            pdf.set_font("Helvetica", "", 9.5)
            ncols = len(payload[0])
            widths = (40, 20, 20, 20)[:ncols] if ncols == 4 else None
            with pdf.table(col_widths=widths, text_align="LEFT", line_height=5.5) as table:
                for row in payload:
                    r = table.row()
                    for cell in row:
                        r.cell(cell)
            pdf.ln(3)
    pdf.output(str(OUT / f"{name}.pdf"))
    return pdf.pages_count


# --------------------------------------------------------------------------- html
NAV = """    <nav class="top-nav" aria-label="Main">
      <ul>
        <li><a href="/">Home</a></li>
        <li><a href="/news">News</a></li>
        <li><a href="/people">People &amp; Policies</a></li>
        <li><a href="/it">IT Service Desk</a></li>
        <li><a href="/offices">Our Offices</a></li>
        <li><a href="/directory">Staff Directory</a></li>
        <li><a href="/search">Search</a></li>
      </ul>
    </nav>"""

FOOTER = (
    '  <footer class="site-footer">\n'
    "    <p>Harrow &amp; Vale Engineering Ltd &middot; Internal use only &middot; "
    "Do not forward outside the company.</p>\n"
    '    <p><a href="/accessibility">Accessibility</a> | '
    '<a href="/privacy-notice">Intranet privacy notice</a> | '
    '<a href="/feedback">Give feedback on this page</a></p>\n'
    "    <p>&copy; 2025 Harrow &amp; Vale Engineering Ltd. Intranet platform v4.12.</p>\n"
    "  </footer>"
)


def inline(text: str) -> str:
    out = html.escape(text, quote=False)
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)


def build_html(name: str) -> None:
    blocks = parse(SRC / f"{name}.src.txt")
    title = title_of(blocks)
    parts = []
    for kind, payload in blocks:
        if kind == "title":
            parts.append(f'        <h1 class="page-title">{inline(payload)}</h1>')
        elif kind == "h1":
            parts.append(f"        <h2>{inline(payload)}</h2>")
        elif kind == "h2":
            parts.append(f"        <h3>{inline(payload)}</h3>")
        elif kind == "bold":
            parts.append(f'        <h4 class="faq-question">{inline(payload)}</h4>')
        elif kind == "para":
            parts.append(f"        <p>{inline(payload)}</p>")
        elif kind == "bullets":
            items = "\n".join(f"          <li>{inline(i)}</li>" for i in payload)
            parts.append(f"        <ul>\n{items}\n        </ul>")
        elif kind == "table":
            head = "".join(f"<th>{inline(c)}</th>" for c in payload[0])
            body = "\n".join(
                "          <tr>" + "".join(f"<td>{inline(c)}</td>" for c in row) + "</tr>"
                for row in payload[1:]
            )
            parts.append(f"        <table>\n          <tr>{head}</tr>\n{body}\n        </table>")
    content = "\n".join(parts)
    page = (
        f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
  <meta charset="utf-8">
  <title>{html.escape(title)} | Harrow &amp; Vale Intranet</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="stylesheet" href="/static/css/intranet.css">
  <script src="/static/js/vendor/jquery-3.7.1.min.js"></script>
  <script>
    window.dataLayer = window.dataLayer || [];
    function gtag(){{dataLayer.push(arguments);}}
    gtag('js', new Date());
    gtag('config', 'G-HV2024INTRA', {{ 'anonymize_ip': true }});
  </script>
</head>
<body class="policy-page">
  <header class="site-header">
    <a class="logo" href="/">Harrow &amp; Vale Intranet</a>
    <form class="site-search" action="/search">"""
        f"""<input type="search" name="q" placeholder="Search the intranet"></form>
{NAV}
  </header>
  <div class="breadcrumb"><a href="/">Home</a> &gt; """
        f"""<a href="/people">People &amp; Policies</a> &gt; {html.escape(title)}</div>
  <script>
    /* page metadata injected by the CMS */
    var hvPage = {{ "id": "{name}", "section": "people-policies","""
        ' "template": "policy-article", "lastPublished": "2025-02-03T09:14:00Z" };\n'
        f"""    document.documentElement.classList.add('js-enabled');
  </script>
  <main id="content">
    <div class="content-wrapper">
      <article class="policy-content">
{content}
      </article>
      <aside class="page-tools">
        <p>Was this page helpful? <button data-vote="yes">Yes</button> <button data-vote="no">No</button></p>
      </aside>
    </div>
  </main>
  <script>
    document.querySelectorAll('[data-vote]').forEach(function (b) {{
      b.addEventListener('click', function () {{
        fetch('/api/feedback', {{ method: 'POST', """
        f"""body: JSON.stringify({{ page: hvPage.id, vote: b.dataset.vote }}) }});
        b.parentNode.textContent = 'Thank you for your feedback.';
      }});
    }});
  </script>
{FOOTER}
  <script src="/static/js/intranet.bundle.js" defer></script>
</body>
</html>
"""
    )
    (OUT / f"{name}.html").write_text(page, encoding="utf-8")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name in DOCX:
        build_docx(name)
        print("docx", name)
    for name in PDF:
        n = build_pdf(name)
        assert n >= 2, f"{name}.pdf should be multi-page, got {n}"
        print("pdf ", name, f"({n} pages)")
    for name in HTML:
        build_html(name)
        print("html", name)
    for fname in COPY:
        shutil.copyfile(SRC / fname, OUT / fname)
        print("copy", fname)


if __name__ == "__main__":
    main()
