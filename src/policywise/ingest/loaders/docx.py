"""DOCX via python-docx: body paragraphs and tables in document order.

"Title" and "Heading N" paragraph styles (or styles based on them) set the heading path; when
the document uses "Title", Heading 1 sits below it. List paragraphs (a list style or Word
numbering) become "- " lines, consecutive items forming one paragraph; tables become one
paragraph of " | " rows. Page headers/footers, comments and text boxes are not read.
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

from policywise.ingest.loaders._common import LoadError, Parsed, SectionBuilder, clean_line

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
    """Body paragraphs and tables in order, looking inside content controls (w:sdt)."""
    for child in element.iterchildren():  # type: ignore[attr-defined]
        if child.tag == qn("w:p"):
            yield Paragraph(child, parent)
        elif child.tag == qn("w:tbl"):
            yield Table(child, parent)
        elif child.tag == qn("w:sdt"):
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                yield from _blocks(parent, content)


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
    return "body", 0


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

    for block in _blocks(document, document.element.body):
        if isinstance(block, Table):
            flush_list()
            builder.paragraph("\n".join(_table_lines(block)))
            continue
        text = block.text
        if not text.strip():
            continue
        kind, level = _style_kind(block)
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
