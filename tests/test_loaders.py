"""Document loaders: what a reader of the loaded documents would notice, per format and for bad files."""

from __future__ import annotations

import hashlib
import io
import unicodedata
from pathlib import Path

import pytest

from policywise.ingest.loaders import SUPPORTED_SUFFIXES, LoadError, load_document
from policywise.types import Document

REPO_ROOT = Path(__file__).resolve().parents[1]
EXTERNAL_CORPUS = REPO_ROOT.parent / "shared" / "corpora" / "external-1"
POLICY_DIR = REPO_ROOT / "data" / "policies"


def load(path: Path) -> Document:
    return load_document(path, path.name)


def paths(doc: Document) -> list[tuple[str, ...]]:
    return [s.heading_path for s in doc.sections]


def section(doc: Document, *heading_path: str) -> str:
    texts = [s.text for s in doc.sections if s.heading_path == heading_path]
    assert texts, f"no section {heading_path}; have {paths(doc)}"
    return "\n\n".join(texts)


def assert_clean(doc: Document) -> None:
    """Whitespace and Unicode are normalised the same way in every format."""
    for s in doc.sections:
        assert s.text == s.text.strip()
        assert "\n\n\n" not in s.text
        assert "  " not in s.text
        assert s.text == unicodedata.normalize("NFC", s.text)
        assert not any(unicodedata.category(ch) == "Cc" and ch != "\n" for ch in s.text)


# --- Markdown -------------------------------------------------------------------------------

MARKDOWN = """---
title: Front Matter Title
owner: people-ops
tags:
  - leave
---
Read this first.

# Paid Time Off Policy

Employees earn **paid time off** from their *first* day. See the [HR portal](https://hr.example/pto).

## Carry-over

### Exceptions

Up to five days carry over;
managers may approve more.

- Bereavement leave
  - Immediate family: 5 days
- Jury duty

3. Submit the request
4. Wait for approval

| Years of service | Days |
|------------------|------|
| 0-2              | 15   |
| 3+               | 20   |

```
approve --days 5
```

## Requests

Requests go through `Compass`.
"""


def test_markdown_headings_lists_tables_and_front_matter(tmp_path):
    path = tmp_path / "pto.md"
    path.write_text(MARKDOWN, encoding="utf-8")
    doc = load(path)

    assert doc.title == "Paid Time Off Policy"
    assert doc.format == "md"
    assert doc.source == "pto.md"
    assert doc.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert paths(doc) == [
        (),
        ("Paid Time Off Policy",),
        ("Paid Time Off Policy", "Carry-over", "Exceptions"),
        ("Paid Time Off Policy", "Requests"),
    ]
    assert section(doc) == "Read this first."
    intro = section(doc, "Paid Time Off Policy")
    assert intro == "Employees earn paid time off from their first day. See the HR portal."

    exceptions = section(doc, "Paid Time Off Policy", "Carry-over", "Exceptions")
    paragraphs = exceptions.split("\n\n")
    assert paragraphs[0] == "Up to five days carry over; managers may approve more."
    assert paragraphs[1] == "- Bereavement leave\n- Immediate family: 5 days\n- Jury duty"
    assert paragraphs[2] == "3. Submit the request\n4. Wait for approval"
    assert paragraphs[3] == "Years of service | Days\n0-2 | 15\n3+ | 20"
    assert paragraphs[4] == "approve --days 5"
    assert section(doc, "Paid Time Off Policy", "Requests") == "Requests go through Compass."

    everything = doc.text
    for leaked in ("Front Matter", "owner:", "**", "](", "https://", "```", "|---", "#"):
        assert leaked not in everything
    assert_clean(doc)


def test_markdown_without_h1_uses_front_matter_title_and_suffix_is_case_insensitive(tmp_path):
    path = tmp_path / "notes.MARKDOWN"
    path.write_text("---\ntitle: 'Remote Work'\n---\n## Scope\n\nApplies to everyone.\n", encoding="utf-8")
    doc = load(path)
    assert doc.title == "Remote Work"
    assert paths(doc) == [("Scope",)]


# --- Plain text -----------------------------------------------------------------------------

TEXT = """\ufeffEMPLOYEE LEAVE POLICY

This policy explains how employees request
leave and how managers approve it.

1. ELIGIBILITY

All permanent employees are eligible
from their first day.

2. LEAVE REQUESTS

Submit requests in Compass:
- at least two weeks ahead
- with your manager copied

2.1 EMERGENCIES

Call your manager.

Contacts
--------
HR: hr@example.com
"""


def test_text_uppercase_numbered_and_underlined_headings(tmp_path):
    path = tmp_path / "leave.txt"
    path.write_bytes(TEXT.encode("utf-8"))
    doc = load(path)

    assert doc.title == "EMPLOYEE LEAVE POLICY"
    assert doc.format == "txt"
    assert paths(doc) == [
        ("EMPLOYEE LEAVE POLICY",),
        ("EMPLOYEE LEAVE POLICY", "1. ELIGIBILITY"),
        ("EMPLOYEE LEAVE POLICY", "2. LEAVE REQUESTS"),
        ("EMPLOYEE LEAVE POLICY", "2. LEAVE REQUESTS", "2.1 EMERGENCIES"),
        ("EMPLOYEE LEAVE POLICY", "Contacts"),
    ]
    # Wrapped lines are joined; list items keep a line each; the BOM is gone.
    assert section(doc, "EMPLOYEE LEAVE POLICY") == (
        "This policy explains how employees request leave and how managers approve it."
    )
    assert section(doc, "EMPLOYEE LEAVE POLICY", "2. LEAVE REQUESTS") == (
        "Submit requests in Compass:\n- at least two weeks ahead\n- with your manager copied"
    )
    assert section(doc, "EMPLOYEE LEAVE POLICY", "Contacts") == "HR: hr@example.com"
    assert "\ufeff" not in doc.title + doc.text
    assert "-----" not in doc.text
    assert_clean(doc)


ASCII_TABLES = """MILEAGE

Claim through the portal.

+------------------------------+-----------------+
| Vehicle                      | Rate            |
+==============================+=================+
| Car, first 10,000 business   | 45p per mile    |
| miles in the tax year        |                 |
| Car, over 10,000 miles       | 25p per mile    |
| Bicycle                      |                 |
+------------------------------+-----------------+

Grades and notice:

+---------------+----------------+
| Grade         | Notice         |
+---------------+----------------+
| 1 to 4        | 1 month        |
+---------------+----------------+
| 5 to 7, after | 2 months       |
| probation     |                |
+---------------+----------------+
"""


def test_text_ascii_tables_become_rows_labelled_by_the_chunker(tmp_path):
    from policywise.ingest.chunker import chunk_document

    path = tmp_path / "mileage.txt"
    path.write_text(ASCII_TABLES)
    doc = load(path)

    # Wrapped cells are joined; a ruled table takes everything between two rules as one row.
    assert section(doc, "MILEAGE") == (
        "Claim through the portal.\n\n"
        "Vehicle | Rate\n"
        "Car, first 10,000 business miles in the tax year | 45p per mile\n"
        "Car, over 10,000 miles | 25p per mile\n"
        "Bicycle | -\n\n"
        "Grades and notice:\n\n"
        "Grade | Notice\n"
        "1 to 4 | 1 month\n"
        "5 to 7, after probation | 2 months"
    )
    text = "\n".join(c.text for c in chunk_document(doc))
    assert "Vehicle: Car, over 10,000 miles; Rate: 25p per mile" in text
    assert "Grade: 5 to 7, after probation; Notice: 2 months" in text
    assert "+--" not in text and "| " not in text


def test_text_falls_back_to_cp1252(tmp_path):
    path = tmp_path / "legacy.txt"
    path.write_bytes("Caf\u00e9 Policy\n\nThe caf\u00e9 closes at 5 \u2013 no exceptions.\n".encode("cp1252"))
    doc = load(path)
    assert doc.title == "Caf\u00e9 Policy"
    assert "caf\u00e9 closes at 5 \u2013 no exceptions" in doc.text


# --- HTML -----------------------------------------------------------------------------------

HTML = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Travel Policy | Intranet</title>
<script>window.track('pageview');</script>
<style>body { color: red; }</style>
</head>
<body>
<nav><a href="/">Intranet home</a> <a href="/news">Company news</a></nav>
<header><p>Breadcrumb &rsaquo; Policies</p></header>
<div role="navigation">Skip to content</div>
<aside>Related: cafeteria menu</aside>
<main>
  <h1>Travel Policy</h1>
  <div>Effective January&nbsp;2026.<br>Owner: Finance</div>
  <h2>Booking</h2>
  <p>Book flights through <a href="https://trip.example">TripDesk</a>.</p>
  <ul>
    <li>Economy class
      <ul><li>Business class over 6 hours</li></ul>
    </li>
    <li>Hotels up to $250</li>
  </ul>
  <h3>Per diem</h3>
  <table>
    <tr><th>Region</th><th>Daily rate</th></tr>
    <tr><td>Domestic</td><td>$50</td></tr>
    <tr><td>International</td><td>$75</td></tr>
  </table>
  <blockquote><p>Receipts are required over $25.</p></blockquote>
  <form><label>Search policies</label><input name="q"></form>
  <p hidden>Draft note</p>
  <noscript>Enable JavaScript</noscript>
</main>
<footer><p>&copy; 2026 Example Corp. All rights reserved.</p></footer>
<script>console.log('late');</script>
</body></html>
"""


def test_html_keeps_main_content_and_drops_boilerplate(tmp_path):
    path = tmp_path / "travel.html"
    path.write_text(HTML, encoding="utf-8")
    doc = load(path)

    assert doc.title == "Travel Policy"
    assert doc.format == "html"
    assert paths(doc) == [
        ("Travel Policy",),
        ("Travel Policy", "Booking"),
        ("Travel Policy", "Booking", "Per diem"),
    ]
    assert section(doc, "Travel Policy") == "Effective January 2026.\nOwner: Finance"
    assert section(doc, "Travel Policy", "Booking") == (
        "Book flights through TripDesk.\n\n"
        "- Economy class\n- Business class over 6 hours\n- Hotels up to $250"
    )
    assert section(doc, "Travel Policy", "Booking", "Per diem") == (
        "Region | Daily rate\nDomestic | $50\nInternational | $75\n\nReceipts are required over $25."
    )
    text = doc.text
    for boilerplate in (
        "pageview", "color: red", "Intranet home", "Breadcrumb", "Skip to content", "cafeteria",
        "Search policies", "Draft note", "JavaScript", "All rights reserved", "console.log", "<",
    ):  # fmt: skip
        assert boilerplate not in text, boilerplate
    assert text.count("Business class over 6 hours") == 1
    assert_clean(doc)


def test_html_without_main_or_h1(tmp_path):
    path = tmp_path / "page.htm"
    path.write_text(
        "<html><head><title>Dress Code | Intranet</title></head><body>"
        "<header>Site banner</header><div>Loose intro text<div><h2>Fridays</h2>Casual is fine.</div></div>"
        "<dl><dt>Smart casual</dt><dd>No ties needed</dd></dl><footer>Site footer</footer></body></html>",
        encoding="utf-8",
    )
    doc = load(path)
    assert doc.title == "Dress Code"
    assert section(doc) == "Loose intro text"
    assert section(doc, "Fridays") == "Casual is fine.\n\nSmart casual\n\nNo ties needed"
    assert "Site banner" not in doc.text and "Site footer" not in doc.text


# --- PDF ------------------------------------------------------------------------------------


def make_pdf(path: Path) -> None:
    from fpdf import FPDF

    class Handbook(FPDF):
        def header(self):
            self.set_font("Helvetica", size=8)
            self.cell(0, 8, "Example Corp - Internal", new_x="LMARGIN", new_y="NEXT")

        def footer(self):
            self.set_y(-15)
            self.set_font("Helvetica", size=8)
            self.cell(0, 10, f"Page {self.page_no()} of {{nb}}", align="C")

    pdf = Handbook()
    pdf.alias_nb_pages()
    body = "Helvetica", "", 11

    pdf.add_page()
    pdf.set_font("Helvetica", "B", 20)
    pdf.cell(0, 12, "Travel Policy", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(*body)
    pdf.multi_cell(
        0, 6, "The company pays for reasonable travel. The reimburse-\nment arrives with the next payroll."
    )
    pdf.ln(6)
    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(0, 10, "Booking Flights", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(*body)
    pdf.multi_cell(0, 6, "Economy class is the default for flights under six hours. " * 3)

    pdf.add_page()
    pdf.set_font(*body)
    pdf.multi_cell(0, 6, "Flights over six hours may be booked in business class with approval.")
    pdf.ln(6)
    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(0, 10, "Hotels", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(*body)
    pdf.multi_cell(0, 6, "Hotels cost up to 250 dollars per night.")

    pdf.add_page()
    pdf.set_font(*body)
    pdf.multi_cell(0, 6, "Receipts are kept for seven years.")
    pdf.output(str(path))


def test_pdf_headings_pages_and_running_headers(tmp_path):
    path = tmp_path / "travel.pdf"
    make_pdf(path)
    doc = load(path)

    assert doc.title == "Travel Policy"
    assert doc.format == "pdf"
    assert [(s.heading_path, s.page) for s in doc.sections] == [
        (("Travel Policy",), 1),
        (("Travel Policy", "Booking Flights"), 1),
        (("Travel Policy", "Booking Flights"), 2),
        (("Travel Policy", "Hotels"), 2),
        (("Travel Policy", "Hotels"), 3),
    ]
    # A hyphenated word and wrapped lines come back as one paragraph.
    assert doc.sections[0].text == (
        "The company pays for reasonable travel. The reimbursement arrives with the next payroll."
    )
    assert doc.sections[1].text.count("Economy class") == 3
    assert "\n" not in doc.sections[1].text
    assert doc.sections[3].text == "Hotels cost up to 250 dollars per night."
    assert doc.sections[4].text == "Receipts are kept for seven years."
    assert "Internal" not in doc.text
    assert "Page" not in doc.text
    assert_clean(doc)


def test_pdf_tables_become_rows_and_bold_words_in_prose_do_not(tmp_path):
    from fpdf import FPDF

    from policywise.ingest.chunker import chunk_document

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 12, "Travel Rates", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    # Prose with bold words inside: pieces of one line at other x positions, but not columns.
    pdf.multi_cell(
        0,
        6,
        "Report every incident using the **Incident Report** form within **24 hours**, even if nobody "
        "was hurt, and keep a copy of the **receipt** for every claim you make on a trip.",
        markdown=True,
    )
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 10)
    for text, width in (("Location", 70), ("Hotel per night", 45), ("Evening meal", 45)):
        pdf.cell(width, 7, text)
    pdf.ln(7)
    pdf.set_font("Helvetica", "", 10)
    for row in (("London (within the M25)", "GBP 180", "GBP 35"), ("Dublin", "EUR 190", "EUR 40")):
        for text, width in zip(row, (70, 45, 45), strict=True):
            pdf.cell(width, 7, text)
        pdf.ln(7)
    pdf.ln(4)
    pdf.multi_cell(0, 6, "Rates outside Europe are agreed with Finance before the trip.")
    # A bulleted list whose bullets are set apart from their text, as many generators draw them.
    for item in (
        "Taxis are allowed after 22:00.",
        "Rail is booked in standard class.",
        "Keep every receipt.",
    ):
        pdf.cell(6, 6, "-")
        pdf.cell(0, 6, item, new_x="LMARGIN", new_y="NEXT")
    # The table goes on over a page break without repeating its header.
    pdf.add_page()
    for row in (("Paris", "EUR 170", "EUR 40"), ("Madrid", "EUR 150", "EUR 35")):
        for text, width in zip(row, (70, 45, 45), strict=True):
            pdf.cell(width, 7, text)
        pdf.ln(7)
    path = tmp_path / "rates.pdf"
    pdf.output(str(path))

    doc = load(path)
    text = section(doc, "Travel Rates")
    assert "Location | Hotel per night | Evening meal\nLondon (within the M25) | GBP 180 | GBP 35\n" in text
    assert "Dublin | EUR 190 | EUR 40" in text
    assert "Incident Report form within 24 hours" in text  # the bold words stay in their sentence
    assert (
        "- Taxis are allowed after 22:00.\n- Rail is booked in standard class." in text
    )  # a list, not a table
    assert (
        "Location | Hotel per night | Evening meal\nParis | EUR 170 | EUR 40" in text
    )  # header carried over
    chunks = "\n".join(c.text for c in chunk_document(doc))
    assert "Location: Dublin; Hotel per night: EUR 190; Evening meal: EUR 40" in chunks
    assert "Location: Madrid; Hotel per night: EUR 150; Evening meal: EUR 35" in chunks


def test_pdf_without_headings_uses_metadata_title(tmp_path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title("Parking Rules")
    for text in ("Park in marked bays only.", "Visitors use level two."):
        pdf.add_page()
        pdf.set_font("Helvetica", size=11)
        pdf.multi_cell(0, 6, text)
    path = tmp_path / "parking.pdf"
    pdf.output(str(path))

    doc = load(path)
    assert doc.title == "Parking Rules"
    assert [(s.heading_path, s.page, s.text) for s in doc.sections] == [
        ((), 1, "Park in marked bays only."),
        ((), 2, "Visitors use level two."),
    ]


# --- DOCX -----------------------------------------------------------------------------------


def test_docx_styles_lists_and_tables_in_order(tmp_path):
    import docx

    document = docx.Document()
    document.add_heading("Equipment Policy", level=0)
    document.add_paragraph("Laptops belong to the company.")
    document.add_heading("Issuing", level=1)
    document.add_heading("Laptops", level=2)
    document.add_paragraph("Every employee receives:")
    document.add_paragraph("A laptop", style="List Bullet")
    document.add_paragraph("A charger", style="List Bullet")
    table = document.add_table(rows=3, cols=2)
    rows = [("Item", "Refresh"), ("Laptop", "3 years"), ("Phone", "2 years")]
    for row, cells in zip(table.rows, rows, strict=True):
        for cell, value in zip(row.cells, cells, strict=True):
            cell.text = value
    document.add_paragraph("Refresh dates are in Compass.")
    document.add_heading("Returning", level=1)
    document.add_paragraph("Return equipment   on your last day.")
    path = tmp_path / "equipment.docx"
    document.save(str(path))

    doc = load(path)
    assert doc.title == "Equipment Policy"
    assert doc.format == "docx"
    assert paths(doc) == [
        ("Equipment Policy",),
        ("Equipment Policy", "Issuing", "Laptops"),
        ("Equipment Policy", "Returning"),
    ]
    assert section(doc, "Equipment Policy") == "Laptops belong to the company."
    assert section(doc, "Equipment Policy", "Issuing", "Laptops") == (
        "Every employee receives:\n\n- A laptop\n- A charger\n\n"
        "Item | Refresh\nLaptop | 3 years\nPhone | 2 years\n\nRefresh dates are in Compass."
    )
    assert section(doc, "Equipment Policy", "Returning") == "Return equipment on your last day."
    assert_clean(doc)


# --- Bad files ------------------------------------------------------------------------------


def truncated_pdf(tmp_path: Path) -> bytes:
    make_pdf(tmp_path / "whole.pdf")
    data = (tmp_path / "whole.pdf").read_bytes()
    return data[: len(data) // 2]


def encrypted_pdf(tmp_path: Path) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt(user_password="secret", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("budget.xlsx", b"PK\x03\x04 spreadsheet", "unsupported format .xlsx"),
        ("README", b"no suffix at all", "unsupported format"),
        ("empty.md", b"", "empty file"),
        ("blank.txt", b"   \n\n\t\n", "empty file"),
        ("garbage.pdf", bytes(range(256)) * 8, "not a PDF file"),
        ("truncated.pdf", truncated_pdf, "corrupt PDF"),
        ("locked.pdf", encrypted_pdf, "encrypted PDF"),
        ("fake.docx", b"This is plain text with a .docx suffix.\n", "not a valid DOCX file"),
        ("latin.txt", b"\x81\x8d\x8f\x90\x9d" * 20 + b"\x00\x01\x02\x03" * 10, "not valid UTF-8 text"),
        ("binary.md", b"\x00\x01\x02\x03\x04\x05" * 50, "binary data, not text"),
        ("headings.md", b"# Title\n\n## Only headings\n", "no text found"),
        (
            "scripts.html",
            b"<html><body><script>var a = 1;</script><nav>Home</nav></body></html>",
            "no text found",
        ),
    ],
)
def test_bad_files_raise_load_error_with_reason(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content(tmp_path) if callable(content) else content)
    with pytest.raises(LoadError) as excinfo:
        load(path)
    message = str(excinfo.value)
    assert reason in message
    assert len(message) < 300


def test_missing_file_is_a_load_error(tmp_path):
    with pytest.raises(LoadError, match="cannot read"):
        load(tmp_path / "missing.md")


def test_supported_suffixes():
    assert {".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx"} == SUPPORTED_SUFFIXES


# --- Real corpora ---------------------------------------------------------------------------


def corpus_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.is_file())


def require_external_corpus() -> None:
    if not EXTERNAL_CORPUS.is_dir():
        pytest.skip(f"third-party corpus not found at {EXTERNAL_CORPUS}")


@pytest.mark.parametrize(
    "path", corpus_files(EXTERNAL_CORPUS) or [None], ids=lambda p: p.name if p else "none"
)
def test_external_corpus_file_loads_or_is_rejected(path):
    require_external_corpus()
    try:
        doc = load(path)
    except LoadError as exc:
        assert str(exc)
        return
    assert doc.title.strip()
    assert doc.text.strip()
    assert all(s.text for s in doc.sections)
    assert_clean(doc)


def test_external_corpus_html_has_no_markup_or_head():
    require_external_corpus()
    for name, title, expected in [
        (
            "pto_policy.html",
            "Paid Time Off (PTO) Policy",
            "Carryover: up to 5 days. Excess forfeited January 31.",
        ),
        ("code_of_conduct.html", "Code of Conduct", "- Integrity: Acting honestly, transparently"),
    ]:
        doc = load(EXTERNAL_CORPUS / name)
        assert doc.title == title
        assert all(p[0] == title for p in paths(doc))
        assert expected in doc.text
        for leaked in ("<", "DOCTYPE", "charset", "UTF-8", "&amp;", "&nbsp;"):
            assert leaked not in doc.text, (name, leaked)
        # The <title> is the heading, not body text.
        assert not doc.text.startswith(title)
    pto = load(EXTERNAL_CORPUS / "pto_policy.html")
    assert "Years of Service | Annual Accrual\n0–2 years | 15 days" in section(
        pto, "Paid Time Off (PTO) Policy", "Accrual Rates"
    )
    assert paths(pto).count(("Paid Time Off (PTO) Policy", "Policy", "Requesting Time Off")) == 1


def test_external_corpus_pdf_structure_and_no_glyph_junk():
    require_external_corpus()
    doc = load(EXTERNAL_CORPUS / "expenses_policy.pdf")
    # The metadata title is ReportLab's "(anonymous)" placeholder; the first heading wins.
    assert doc.title == "Business Expenses Policy"
    assert "anonymous" not in doc.text
    assert {s.page for s in doc.sections} == {1, 2, 3}
    # ReportLab's bullet glyph comes out of extraction as DEL (\x7f); it must read as a list.
    assert "\x7f" not in doc.text
    definitions = section(doc, "Business Expenses Policy", "Definitions")
    assert definitions.startswith("- Business expense: A cost incurred while conducting company business")
    assert definitions.count("\n- ") == 3
    # Headings split across a page break keep their path on the next page.
    non_reimbursable = [s for s in doc.sections if s.heading_path[-1] == "Non-Reimbursable Expenses"]
    assert [s.page for s in non_reimbursable] == [2]
    # Every section heading of the Markdown original is found in the PDF copy.
    markdown = load(EXTERNAL_CORPUS / "expenses_policy.md")
    assert {p[-1] for p in paths(markdown)} <= {p[-1] for p in paths(doc)}
    assert_clean(doc)


def test_external_corpus_text_indexes():
    require_external_corpus()
    index = load(EXTERNAL_CORPUS / "policy_index.txt")
    assert index.title == "POLICY INDEX - Company Policy Corpus"
    assert ("POLICY INDEX - Company Policy Corpus", "CROSS-REFERENCES") in paths(index)
    assert "=====" not in index.text and "-----" not in index.text
    files = section(index, "POLICY INDEX - Company Policy Corpus", "FILES AND FORMATS")
    assert "\n1. acceptable_use_policy.md\n2. benefits_overview.md\n" in files


@pytest.mark.parametrize(
    "path",
    [p for p in corpus_files(POLICY_DIR) if p.suffix.lower() in SUPPORTED_SUFFIXES] or [None],
    ids=lambda p: p.name if p else "none",
)
def test_policy_documents_load(path):
    if path is None:
        pytest.skip(f"no policy documents in {POLICY_DIR} yet")
    doc = load(path)
    assert doc.title.strip()
    assert doc.text.strip()
    assert_clean(doc)


HANDBOOK_2 = REPO_ROOT / "eval" / "corpora" / "handbook-2"


@pytest.mark.parametrize(
    "name,row",
    [
        # A Word table, a PDF table drawn in columns, an ASCII table in plain text.
        ("leaving-the-company.docx", "Employee group: Grades 5 to 7; Notice you must give: 2 months"),
        ("business-travel-and-subsistence.pdf", "Location: Dublin; Hotel per night: EUR 190"),
        ("company-vehicles-and-mileage.txt", "Rate: 25p per mile"),
    ],
)
def test_tables_of_the_second_eval_corpus_reach_the_chunks_labelled(name, row):
    """The UK handbook was written by someone else in other formats: its tables must come out
    row by row with their headers whatever the file type."""
    from policywise.ingest.chunker import chunk_document

    chunks = "\n".join(c.text for c in chunk_document(load(HANDBOOK_2 / name)))
    assert row in chunks


def test_docx_headings_formatted_by_hand_or_by_outline_level(tmp_path):
    import docx
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    document = docx.Document()

    def bold(text: str, size: int) -> None:
        run = document.add_paragraph().add_run(text)
        run.bold = True
        run.font.size = Pt(size)

    bold("Leave Policy", 16)
    document.add_paragraph("This policy covers paid leave.")
    bold("Annual Leave", 13)
    document.add_paragraph("Full-time staff receive 25 days a year.")
    bold("3.2 Carry-over:", 11)
    document.add_paragraph("Up to 5 days carry over to the next year.")
    # Bold for emphasis, not headings: a sentence, a rule, a lead-in.
    bold("Unused days above 5 are lost.", 11)
    bold("Managers must approve leave in advance", 11)
    bold("Before you book leave, check the following:", 11)
    document.add_paragraph("Your balance in the HR portal.")
    # A house style that Word's navigation pane lists: outline level 0 is a top-level heading.
    style = document.styles.add_style("Policy Section", WD_STYLE_TYPE.PARAGRAPH)
    outline = OxmlElement("w:outlineLvl")
    outline.set(qn("w:val"), "0")
    style.element.get_or_add_pPr().append(outline)
    document.add_paragraph("Sick Leave", style="Policy Section")
    document.add_paragraph("Report sickness by 9am.")
    bold("Notes", 11)
    document.add_paragraph("Evidence is needed after 7 days.")
    path = tmp_path / "leave.docx"
    document.save(str(path))

    doc = load(path)
    assert doc.title == "Leave Policy"
    # The opening bold line is the title; the other bold lines nest below the styled heading level.
    assert paths(doc) == [
        ("Leave Policy",),
        ("Leave Policy", "Annual Leave"),
        ("Leave Policy", "Annual Leave", "3.2 Carry-over"),
        ("Leave Policy", "Sick Leave"),
        ("Leave Policy", "Sick Leave", "Notes"),
    ]
    assert section(doc, "Leave Policy", "Annual Leave", "3.2 Carry-over") == (
        "Up to 5 days carry over to the next year.\n\nUnused days above 5 are lost.\n\n"
        "Managers must approve leave in advance\n\nBefore you book leave, check the following:\n\n"
        "Your balance in the HR portal."
    )
    assert section(doc, "Leave Policy", "Sick Leave", "Notes") == "Evidence is needed after 7 days."
    assert_clean(doc)


def test_markdown_and_html_headings_formatted_in_bold(tmp_path):
    md = tmp_path / "leave.md"
    md.write_text(
        "# Leave Policy\n\nThis policy covers paid leave.\n\n**Annual Leave**\n\n"
        "Full-time staff receive 25 days a year.\n\n**Unused days above 5 are lost.**\n\n"
        "**Q: Can I carry leave over?**\n\nYes, up to 5 days.\n\n**Note:** ask your manager first.\n\n"
        "**Carry-over:**\n\nUp to 5 days carry over.\n\n**Part B: Requests**\n\nAsk early.\n\n"
        "**Who is eligible**\n\nAll staff.\n\n"
        "**Table 1. Days by service**\n\n"
        "| Service | Days |\n|---|---|\n| 0-2 years | 25 |\n"
    )
    html = tmp_path / "leave.html"
    html.write_text(
        "<html><head><title>Leave | Intranet</title></head><body><h1>Leave Policy</h1>"
        "<p>This policy covers paid leave.</p><p><strong>Annual Leave</strong></p>"
        "<p>Full-time staff receive 25 days a year.</p><p><b>Unused days above 5 are lost.</b></p>"
        # As word processors export it: a styled span, and a bold paragraph that is only partly bold.
        '<p><span style="font-weight:700">Carry-over</span></p><p><b>Note:</b> ask your manager first.</p>'
        "<p>Up to 5 days carry over.</p></body></html>"
    )
    for doc in (load(md), load(html)):
        assert doc.title == "Leave Policy"
        assert ("Leave Policy", "Annual Leave") in paths(doc)
        assert ("Leave Policy", "Carry-over") in paths(doc)
        annual = section(doc, "Leave Policy", "Annual Leave")
        assert annual.startswith("Full-time staff receive 25 days a year.\n\nUnused days above 5 are lost.")
        assert "Note: ask your manager first." in annual + section(doc, "Leave Policy", "Carry-over")
        assert_clean(doc)
    assert "Q: Can I carry leave over?" in section(load(md), "Leave Policy", "Annual Leave")
    # A colon before a capital is a heading's subtitle, not a "label: value" line.
    assert section(load(md), "Leave Policy", "Part B: Requests") == "Ask early."
    # A verb does not make a sentence of "Who is eligible" or "What Is Covered".
    assert section(load(md), "Leave Policy", "Who is eligible") == "All staff."
    # Numbered headings nest by their numbers: nothing else says "3.1" belongs to "3.".
    numbered = tmp_path / "hours.md"
    numbered.write_text("# Hours\n\n**3. Working time**\n\n40 hours.\n\n**3.1 Overtime**\n\nPaid at 1.5x.\n")
    top = ("Hours", "3. Working time")
    assert paths(load(numbered)) == [top, (*top, "3.1 Overtime")]
    # A table's caption in bold heads its table.
    assert section(load(md), "Leave Policy", "Table 1. Days by service") == "Service | Days\n0-2 years | 25"


def test_text_headings_as_a_word_processor_saves_them(tmp_path):
    path = tmp_path / "leave.txt"
    path.write_text(
        "Leave Policy\n\nThis policy covers paid leave.\n\n"
        "1. Annual Leave\n\nFull-time staff receive 25 days a year.\n\n"
        "1.1 Carry-over\n\nUp to 5 days carry over to the next year.\n\n"
        "Working from elsewhere\n\nYou may work abroad for up to 10 days a year with approval.\n\n"
        "How to claim:\n\n- Fill in the form\n- Send it to HR\n\n"
        "Steps\n\n1. Submit the form\n\n2. Sign it\n\n3. Send it to HR\n\nThat is all.\n\n"
        "2. Requesting Leave\n\nAsk your manager.\n"
    )
    doc = load(path)
    # Numbered headings nest by their numbers; unnumbered ones take levels in order of first appearance.
    assert paths(doc) == [
        ("Leave Policy",),
        ("Leave Policy", "1. Annual Leave"),
        ("Leave Policy", "1. Annual Leave", "1.1 Carry-over"),
        ("Leave Policy", "Working from elsewhere"),
        ("Leave Policy", "Working from elsewhere", "Steps"),
        ("Leave Policy", "2. Requesting Leave"),
    ]
    elsewhere = section(doc, "Leave Policy", "Working from elsewhere")
    # A list's lead-in stays with its list.
    assert elsewhere.endswith("How to claim:\n\n- Fill in the form\n- Send it to HR")
    # The steps of a numbered list are not headings.
    steps = section(doc, *paths(doc)[4])
    assert steps == "1. Submit the form\n\n2. Sign it\n\n3. Send it to HR\n\nThat is all."
    assert_clean(doc)


@pytest.mark.parametrize("lines_per_paragraph", ["two", "three"])
def test_pdf_in_one_type_takes_numbered_lines_spaced_apart_as_headings(tmp_path, lines_per_paragraph):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    # The spacing of a paragraph's lines is what a paragraph gap exceeds; with paragraphs of two lines the
    # gaps between paragraphs are as common as the lines' own.
    more = " It applies to every employee whatever their contract or location; People Operations reviews it"
    if lines_per_paragraph == "three":
        more += " every year with the staff council, and publishes any change a month before it takes effect."

    def para(text: str, gap: float = 3) -> None:
        pdf.multi_cell(0, 5, text)
        pdf.ln(gap)

    para("Leave Policy")
    para("This policy covers paid leave for all employees and explains how to request it." + more)
    para("1. Annual Leave", 2)
    para("Full-time staff receive 25 days a year; part-time staff a pro-rata amount of their hours." + more)
    para("1.1 Carry-over", 2)
    para("Up to 5 days carry over to the next year, and days above 5 are lost on 31 March." + more)
    para("2. Requesting Leave", 2)
    para("Ask in the HR portal at least two weeks ahead, then follow these steps:" + more)
    para("1. Submit the form")
    para("2. Sign it")
    para("Your manager answers within three working days of your request in the portal." + more)
    path = tmp_path / "plain.pdf"
    pdf.output(str(path))

    doc = load(path)
    assert doc.title == "Leave Policy"
    assert paths(doc) == [
        ("Leave Policy",),
        ("Leave Policy", "1. Annual Leave"),
        ("Leave Policy", "1. Annual Leave", "1.1 Carry-over"),
        ("Leave Policy", "2. Requesting Leave"),
    ]
    assert "1. Submit the form\n2. Sign it" in section(doc, "Leave Policy", "2. Requesting Leave")
    assert_clean(doc)


def test_html_page_laid_out_in_a_table_keeps_its_headings(tmp_path):
    path = tmp_path / "travel.html"
    path.write_text(
        "<html><head><title>Travel | Intranet</title></head><body><table><tr>"
        '<td><a href="/">Home</a><br><a href="/hr">HR</a></td><td>'
        "<h1>Travel Policy</h1><p>How to book business travel.</p>"
        "<h2>Hotels</h2><p>The nightly cap is $250, or $350 in New York.</p>"
        "<h2>Meals</h2><p>Meals are reimbursed up to $75 a day.</p>"
        # A data table, even with paragraphs in a cell, stays rows of cells.
        "<table><tr><th>City</th><th>Cap</th></tr>"
        "<tr><td><p>New York</p></td><td><p>$350</p><p>Approval above it</p></td></tr></table>"
        "</td></tr></table></body></html>"
    )
    doc = load(path)
    assert doc.title == "Travel Policy"
    assert paths(doc) == [("Travel Policy",), ("Travel Policy", "Hotels"), ("Travel Policy", "Meals")]
    assert section(doc, "Travel Policy", "Meals") == (
        "Meals are reimbursed up to $75 a day.\n\nCity | Cap\nNew York | $350 Approval above it"
    )
    assert "Home" not in " ".join(s.text for s in doc.sections)  # the navigation column
    assert_clean(doc)


def test_markdown_html_table_keeps_its_rows(tmp_path):
    path = tmp_path / "travel.md"
    path.write_text(
        "# Travel Policy\n\n## Hotels\n\n<table>\n<tr><th>City</th><th>Nightly cap</th></tr>\n"
        "<tr><td>New York</td><td>$350</td></tr>\n<tr><td>Denver</td><td>$250</td></tr>\n</table>\n\n"
        "Book through TripDesk.\n"
    )
    doc = load(path)
    assert section(doc, "Travel Policy", "Hotels") == (
        "City | Nightly cap\nNew York | $350\nDenver | $250\n\nBook through TripDesk."
    )
    assert_clean(doc)


def test_docx_policy_laid_out_in_a_table_keeps_its_headings(tmp_path):
    import docx

    document = docx.Document()
    document.add_heading("Travel Policy", level=0)
    info = document.add_table(rows=2, cols=2)  # a data table: owner and date
    for row, cells in zip(info.rows, [("Owner", "Finance"), ("Effective", "1 January 2026")], strict=True):
        for cell, value in zip(row.cells, cells, strict=True):
            cell.text = value
    frame = document.add_table(rows=1, cols=1).rows[0].cells[0]  # the policy itself, in one cell
    frame.paragraphs[0].text = "Hotels"
    frame.paragraphs[0].style = document.styles["Heading 1"]
    frame.add_paragraph("The nightly cap is $250, or $350 in New York.")
    frame.add_paragraph("Meals", style="Heading 1")
    frame.add_paragraph("Meals are reimbursed up to $75 a day.")
    path = tmp_path / "travel.docx"
    document.save(str(path))

    doc = load(path)
    assert paths(doc) == [("Travel Policy",), ("Travel Policy", "Hotels"), ("Travel Policy", "Meals")]
    assert section(doc, "Travel Policy") == "Owner | Finance\nEffective | 1 January 2026"
    assert section(doc, "Travel Policy", "Meals") == "Meals are reimbursed up to $75 a day."
    assert_clean(doc)
