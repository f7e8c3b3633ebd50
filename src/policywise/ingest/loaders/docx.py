"""DOCX via python-docx: body paragraphs and tables in document order.

"Title" and "Heading N" paragraph styles (or styles based on them) set the heading path; when
the document uses "Title", Heading 1 sits below it. So does an outline level (a house style such as
"Policy Section" that Word's navigation pane lists). Many documents are formatted by hand instead: a
short paragraph that is bold throughout and does not end like a sentence ("Annual Leave",
"3.2 Carry-over") is a heading too, the larger the type the higher the level, below any styled
heading of the document. List paragraphs (a list style or Word
numbering) become "- " lines, consecutive items forming one paragraph; tables become one
paragraph of " | " rows, except a table that lays out the page (a cell holding a heading or a table, or a
single row of cells with several paragraphs), whose cells are read as the body is. Page headers/footers,
comments and text boxes are not read.
Title: the "Title" paragraph, else the first Heading 1, else the core-properties title, else
the first heading.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import docx
from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph

from policywise.ingest.loaders._common import (
    LoadError,
    Parsed,
    SectionBuilder,
    clean_line,
    heading_text,
    nested_level,
)

_HEADING_STYLE = re.compile(r"^heading\s*([1-9])$", re.IGNORECASE)
_LIST_STYLE = re.compile(r"^list\b", re.IGNORECASE)


def _open(data: bytes) -> DocxDocument:
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise LoadError("not a valid DOCX file (not a ZIP archive)")
    try:
        return docx.Document(io.BytesIO(data))
    except Exception as exc:
        raise LoadError(f"not a valid DOCX file: {exc}") from exc


def _blocks(parent: DocxDocument, element: object) -> Iterator[Paragraph | Table]:
    """Body paragraphs and tables in order, looking inside content controls (w:sdt) and inside the cells of
    a table that lays out the page rather than holding data."""
    for child in element.iterchildren():  # type: ignore[attr-defined]
        if child.tag == qn("w:p"):
            yield Paragraph(child, parent)
        elif child.tag == qn("w:tbl") and _is_layout(child, parent):
            for row in child.iterchildren(qn("w:tr")):
                for cell in row.iterchildren(qn("w:tc")):
                    yield from _blocks(parent, cell)
        elif child.tag == qn("w:tbl"):
            yield Table(child, parent)
        elif child.tag == qn("w:sdt"):
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                yield from _blocks(parent, content)


def _is_layout(table: object, parent: DocxDocument) -> bool:
    """Whether a table lays out the page (some templates put the whole policy in one): a cell of its own holds
    a heading or another table, or the table is one row whose cells hold several paragraphs."""
    rows = list(table.iterchildren(qn("w:tr")))  # type: ignore[attr-defined]
    for row in rows:
        for cell in row.iterchildren(qn("w:tc")):
            if cell.find(qn("w:tbl")) is not None:
                return True
            paragraphs = [Paragraph(p, parent) for p in cell.iterchildren(qn("w:p"))]
            if any(_style_kind(p)[0] in ("title", "heading") for p in paragraphs):
                return True
            if len(rows) == 1 and sum(1 for p in paragraphs if p.text.strip()) > 1:
                return True
    return False


def _style_kind(paragraph: Paragraph) -> tuple[str, int]:
    """("title"|"heading"|"list"|"body", heading level) from the style and its base styles."""
    style = paragraph.style
    for _ in range(4):
        if style is None:
            break
        name = style.name or ""
        if name.lower() == "title":
            return "title", 0
        if match := _HEADING_STYLE.match(name):
            return "heading", int(match.group(1))
        if _LIST_STYLE.match(name):
            return "list", 0
        style = style.base_style
    if paragraph._p.pPr is not None and paragraph._p.pPr.numPr is not None:
        return "list", 0
    if (outline := _outline_level(paragraph)) is not None:
        return "heading", outline
    return "body", 0


def _outline_level(paragraph: Paragraph) -> int | None:
    """The heading level an outline level gives (w:outlineLvl 0-8 on the paragraph or its styles), or None;
    9 is Word's "body text"."""
    elements = [paragraph._p.pPr]
    style = paragraph.style
    for _ in range(4):
        if style is None:
            break
        elements.append(style.element.pPr)
        style = style.base_style
    for ppr in elements:
        found = ppr.find(qn("w:outlineLvl")) if ppr is not None else None
        if found is not None:
            value = found.get(qn("w:val"))
            return int(value) + 1 if value is not None and value.isdigit() and int(value) < 9 else None
    return None


def _bold_heading(paragraph: Paragraph) -> tuple[float, str] | None:
    """The type size (0 when unknown) and text of a short body paragraph that is bold throughout and reads as
    a heading: a heading formatted by hand. None for anything else."""
    text = heading_text(paragraph.text)
    if text is None:
        return None
    runs = [r for r in paragraph.runs if r.text.strip()]
    style_font = paragraph.style.font if paragraph.style is not None else None
    style_bold = bool(style_font is not None and style_font.bold)
    if not runs or not all(r.bold or (r.bold is None and style_bold) for r in runs):
        return None
    sizes = [r.font.size or (style_font.size if style_font is not None else None) for r in runs]
    return max((float(size.pt) for size in sizes if size is not None), default=0.0), text


def _table_lines(table: Table) -> list[str]:
    lines = []
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            # A merged cell is returned once per grid column it spans.
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append(clean_line(cell.text))
        if any(cells):
            lines.append(" | ".join(cells))
    return lines


def load(data: bytes, path: Path) -> Parsed:
    document = _open(data)
    builder = SectionBuilder()
    items: list[str] = []
    title = first_h1 = first_heading = ""

    def flush_list() -> None:
        if items:
            builder.paragraph("\n".join(items))
            items.clear()

    blocks = list(_blocks(document, document.element.body))
    kinds = [_style_kind(b) if isinstance(b, Paragraph) else ("table", 0) for b in blocks]
    # Hand-formatted headings sit below the deepest styled one, the largest type first.
    deepest = max((level for kind, level in kinds if kind == "heading"), default=0)
    bold = {
        i: found
        for i, (block, (kind, _)) in enumerate(zip(blocks, kinds, strict=True))
        if kind == "body" and (found := _bold_heading(block)) is not None  # type: ignore[arg-type]
    }
    ranks = {
        size: rank for rank, size in enumerate(sorted({size for size, _ in bold.values()}, reverse=True))
    }
    first = next((i for i, b in enumerate(blocks) if isinstance(b, Table) or b.text.strip()), None)
    # A document's opening line in bold, in its largest bold type, is its title, above any styled heading
    # (one word, "CONFIDENTIAL", is a marking rather than a title).
    opening_title = (
        first in bold
        and ranks[bold[first][0]] == 0
        and len(blocks[first].text.split()) > 1  # type: ignore[union-attr]
        and not any(kind == "title" for kind, _ in kinds)
    )
    for i, block in enumerate(blocks):
        if isinstance(block, Table):
            flush_list()
            builder.paragraph("\n".join(_table_lines(block)))
            continue
        text = block.text
        if not text.strip():
            continue
        kind, level = kinds[i]
        if i in bold:
            size, text = bold[i]
            kind, level = (
                ("title", 0)
                if i == first and opening_title
                else ("heading", nested_level(deepest + 1 + ranks[size], text))
            )
        if kind == "list":
            items.append("- " + clean_line(text))
            continue
        flush_list()
        if kind == "title":
            title = title or clean_line(text)
            builder.heading(0, text)
        elif kind == "heading":
            first_heading = first_heading or clean_line(text)
            if level == 1:
                first_h1 = first_h1 or clean_line(text)
            builder.heading(level, text)
        else:
            builder.paragraph(text)
    flush_list()
    core_title = clean_line(document.core_properties.title or "")
    return Parsed(title=title or first_h1 or core_title or first_heading, sections=builder.build())
